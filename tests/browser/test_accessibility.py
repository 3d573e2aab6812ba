"""Accessibility, measured: axe-core finds no WCAG 2.2 A or AA violation, and the worker pages reflow.

* Every worker page (start, workplace search, report form and the form with its errors, receipt,
  follow-up, conversation) in three scripts: Latin (English), Thai and Urdu (Arabic script, right
  to left), on a 320 px wide screen.
* Each role's home page, every page of its menu (the lists) and one page of each kind those lists
  link to (the details), on a desktop screen; and the login page.
* The worker pages at 320 px: nothing scrolls sideways or is cut off, at normal text size and with
  the browser's text size doubled (200 %, as a reader's font-size setting does: ``rem``, ``em``
  and ``em`` media queries all follow).

Each worker language is walked once (one report filed, one browser context) and both worker tests
read that walk; axe runs on the pages as they are, with JavaScript on only for axe itself to run.
The server and Chromium come from tests/browser/conftest.py, axe-core from axe-playwright-python.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from monitoring.config import WORKER_LOCALES
from monitoring.demo import LOGINS
from tests.browser.accessibility import (
    PageReport,
    axe_engine,
    axe_violations,
    describe,
    larger_text_in_style,
    overflow,
    set_text_size,
)
from tests.browser.conftest import prepare_demo, screenshot, serve

pytestmark = pytest.mark.browser

LOGIN = {x.role.value: x for x in LOGINS}
WIDTH = 320
TEXT_SIZES = (100, 200)
SITE_QUERY = "Siam Circuit"
TESTIMONY = "The agency keeps our passports in its office."
# One language per script the worker pages must serve well.
SCRIPTS = {"en": "Latin", "th": "Thai", "ur": "Urdu, right to left"}
WORKER_LANGUAGES = [
    pytest.param(
        code,
        id=code,
        marks=pytest.mark.skipif(
            code not in WORKER_LOCALES, reason=f"{code} is not among config.WORKER_LOCALES yet"
        ),
    )
    for code in SCRIPTS
]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("accessibility")
    env = prepare_demo(tmp)
    # Every walk files a report and follows it up from the same address: lift the per-client caps.
    env.update(MONITORING_WORKER_REPORT_MAX_PER_CLIENT="100", MONITORING_WORKER_FOLLOWUP_MAX_PER_CLIENT="100")
    with serve(env, tmp / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def axe() -> Any:
    return axe_engine()


@pytest.fixture(scope="module")
def worker_walks(chromium: Any, axe: Any, base: str) -> Callable[[str], list[PageReport]]:
    """The reports of each worker language's walk, walked once when first asked for."""
    done: dict[str, list[PageReport]] = {}

    def walk(lang: str) -> list[PageReport]:
        if lang not in done:
            done[lang] = _walk_worker_pages(chromium, axe, base, lang)
        return done[lang]

    return walk


def _check(axe: Any, page: Any, cdp: Any, name: str, reports: list[PageReport]) -> None:
    page.wait_for_load_state()  # the stylesheet too: a click returns once the next page begins
    report = PageReport(name, page.url, violations=axe_violations(axe, page))
    for size in TEXT_SIZES:
        set_text_size(cdp, size)
        report.overflow[size] = overflow(page, WIDTH)
    set_text_size(cdp, 100)
    for size, found in report.overflow.items():
        if found:
            with larger_text_in_style(page, size):
                screenshot(page, f"a11y-{re.sub(r'[^a-z0-9]+', '-', name)}-{size}.png")
    reports.append(report)


def _walk_worker_pages(chromium: Any, axe: Any, base: str, lang: str) -> list[PageReport]:
    """File a report and follow it up in ``lang`` on a 320 px screen, checking every page."""
    context = chromium.new_context(viewport={"width": WIDTH, "height": 640}, locale="en-GB")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    reports: list[PageReport] = []
    try:
        page.goto(f"{base}/report/?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang.replace("_", "-")
        _check(axe, page, cdp, f"{lang} start", reports)
        page.locator("main a[href^='/report/workplace']").click()
        page.locator("input[name=q]").fill(SITE_QUERY)
        page.locator("form[role=search] button[type=submit]").click()
        _check(axe, page, cdp, f"{lang} workplace", reports)
        page.locator("main form.choose button[name=site]").first.click()
        _check(axe, page, cdp, f"{lang} form", reports)
        # Sent empty (past the browser's own check of required fields): the form with its errors.
        with page.expect_navigation():
            page.locator("main form[enctype]").evaluate("form => form.submit()")
        assert page.locator("[aria-invalid=true]").count() > 0, "the empty report was not refused"
        _check(axe, page, cdp, f"{lang} form with errors", reports)
        page.locator("textarea[name=testimony]").fill(TESTIMONY)
        page.locator("main form[enctype] button[type=submit]").click()
        receipt = re.sub(r"\D", "", page.locator("#receipt").inner_text())
        assert len(receipt) == 20, "no receipt was shown"
        _check(axe, page, cdp, f"{lang} receipt", reports)
        page.goto(f"{base}/report/follow-up?lang={lang}")
        page.locator("input[name=receipt]").fill("1" * 20)
        page.locator("main form button[type=submit]").click()
        _check(axe, page, cdp, f"{lang} follow-up, receipt not found", reports)
        page.locator("input[name=receipt]").fill(receipt)
        page.locator("main form button[type=submit]").click()
        assert page.locator("form[action^='/report/follow-up/message']").count() == 1
        _check(axe, page, cdp, f"{lang} conversation", reports)
    finally:
        context.close()
    return reports


@pytest.mark.parametrize("lang", WORKER_LANGUAGES)
def test_worker_pages_have_no_axe_violations(worker_walks: Callable[[str], list[PageReport]], lang) -> None:
    reports = worker_walks(lang)
    assert len(reports) == 7
    failing = describe(reports, "violations")
    assert not failing, f"axe-core (WCAG 2.2 AA) on the worker pages in {SCRIPTS[lang]}:\n{failing}"


@pytest.mark.parametrize("lang", WORKER_LANGUAGES)
def test_worker_pages_fit_320_px_with_double_text(
    worker_walks: Callable[[str], list[PageReport]], lang
) -> None:
    reports = worker_walks(lang)
    assert all(set(report.overflow) == set(TEXT_SIZES) for report in reports)
    failing = describe(reports, "overflow")
    assert not failing, f"worker pages in {SCRIPTS[lang]} wider than {WIDTH} px or cut off:\n{failing}"


def test_login_page_has_no_axe_violations(chromium, axe, base: str) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(f"{base}/login")
        violations = axe_violations(axe, page)
    finally:
        context.close()
    assert not violations, "axe-core on the login page:\n" + "\n".join(violations)


def _kind(path: str) -> str:
    """The route a path stands for: ``/cases/4`` and ``/cases/7`` are one kind of page."""
    return re.sub(r"/\d+", "/<id>", path.rstrip("/"))


def _detail_links(page: Any) -> list[str]:
    paths = page.eval_on_selector_all("main a[href^='/']", "links => links.map(a => a.pathname)")
    return [path for path in paths if re.search(r"/\d+(/|$)", path)]


@pytest.mark.parametrize("role", [login.role.value for login in LOGINS])
def test_each_roles_home_list_and_detail_pages_have_no_axe_violations(chromium, axe, base, role) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    reports: list[PageReport] = []
    try:
        page.goto(f"{base}/login")
        page.locator("input[name=email]").fill(LOGIN[role].email)
        page.locator("input[name=password]").fill(LOGIN[role].password)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        assert "/login" not in page.url
        reports.append(PageReport("home", page.url, violations=axe_violations(axe, page)))
        lists = page.eval_on_selector_all("header nav a[href^='/']", "links => links.map(a => a.pathname)")
        seen = {_kind("/")}
        details: list[str] = []
        for path in dict.fromkeys(lists):
            if _kind(path) in seen:
                continue
            seen.add(_kind(path))
            response = page.goto(f"{base}{path}")
            assert response is not None and response.ok, path
            reports.append(PageReport(f"list {path}", page.url, violations=axe_violations(axe, page)))
            details.extend(_detail_links(page))
        for path in dict.fromkeys(details):
            if _kind(path) in seen:
                continue
            seen.add(_kind(path))
            response = page.goto(f"{base}{path}")
            assert response is not None and response.ok, path
            reports.append(PageReport(f"detail {path}", page.url, violations=axe_violations(axe, page)))
    finally:
        context.close()
    checked = [report.name for report in reports]
    assert any(name.startswith("list ") for name in checked), checked
    assert any(name.startswith("detail ") for name in checked), checked
    failing = describe(reports, "violations")
    assert not failing, f"axe-core (WCAG 2.2 AA) on the {role}'s pages {checked}:\n{failing}"
