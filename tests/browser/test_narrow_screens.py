"""Every page of the main menu fits a 390 px phone: nothing makes the page scroll sideways.

Each demo role logs in on a phone-sized window and opens every page its menu offers, plus the
case board's cases. Wide tables may scroll inside their own container (``.table-wrap``); the page
itself may not grow wider than the screen (a phone browser would then zoom the whole page out).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from monitoring.demo import LOGINS
from tests.browser.conftest import prepare_demo, screenshot, serve

pytestmark = pytest.mark.browser

LOGIN = {x.role.value: x for x in LOGINS}
WIDTH = 390
# The elements that reach past the screen's right edge, outside a scrolling table container.
OVERFLOWING = """width => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > width + 1 && !e.closest('.table-wrap'))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("narrow")
    env = prepare_demo(tmp)
    with serve(env, tmp / "server.log") as url:
        yield url


def _log_in(chromium: Any, base: str, role: str) -> Any:
    context = chromium.new_context(
        viewport={"width": WIDTH, "height": 844}, is_mobile=True, has_touch=True, locale="en-GB"
    )
    page = context.new_page()
    page.goto(f"{base}/login")
    page.locator("input[name=email]").fill(LOGIN[role].email)
    page.locator("input[name=password]").fill(LOGIN[role].password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/login" not in page.url
    return context, page


@pytest.mark.parametrize("role", ["coordinator", "monitor", "supplier", "affiliate"])
def test_every_menu_page_fits_a_phone(chromium, base: str, role: str) -> None:
    context, page = _log_in(chromium, base, role)
    try:
        paths = page.eval_on_selector_all("header nav a[href^='/']", "links => links.map(a => a.pathname)")
        page.goto(f"{base}/cases/")
        cases = page.eval_on_selector_all(
            "main table a[href^='/cases/']", "links => links.map(a => a.pathname)"
        )
        assert cases or role == "supplier", "the demo case board is empty"
        too_wide = {}
        for path in dict.fromkeys([*paths, "/cases/", *cases[:3]]):
            response = page.goto(f"{base}{path}")
            assert response is not None and response.ok, path
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                too_wide[path] = (width, page.evaluate(OVERFLOWING, WIDTH))
                screenshot(page, f"narrow-{role}{path.replace('/', '-').rstrip('-')}.png")
        assert not too_wide, f"pages wider than {WIDTH} px: {too_wide}"
        page.goto(f"{base}/cases/")
        screenshot(page, f"narrow-{role}-case-board.png")
    finally:
        context.close()
