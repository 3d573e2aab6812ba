"""The Urdu worker pages mirror: text starts on the right, the language list runs from the right.

Chromium lays out the start and follow-up pages in Urdu and, for comparison, in English on a small
phone screen; the screenshots go to artefacts/screenshots/ (worker-ur-start.png and the others).
The assertions measure where the text of the main heading starts and ends, not the heading's box
(a block is as wide as the page whichever way its text runs).

The server and Chromium come from tests/browser/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import prepare_demo, screenshot, serve

pytestmark = pytest.mark.browser

WIDTH = 360
SLACK = 6  # pixels of rounding and glyph side bearings

# The extent of the heading's first line of text, and the page's padding on each side.
MEASURE = """() => {
  const heading = document.querySelector('main h1');
  const range = document.createRange();
  range.selectNodeContents(heading);
  const line = range.getClientRects()[0];
  const main = getComputedStyle(document.querySelector('main'));
  const langs = [...document.querySelectorAll('.langs li')].map(li => li.getBoundingClientRect());
  return {
    left: line.left, right: line.right, width: document.documentElement.clientWidth,
    scrollWidth: document.documentElement.scrollWidth,
    padStart: parseFloat(main.paddingLeft), padEnd: parseFloat(main.paddingRight),
    firstLang: {left: langs[0].left, right: langs[0].right},
    secondLang: {left: langs[1].left, right: langs[1].right},
    direction: getComputedStyle(document.body).direction,
  };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("worker-rtl")
    env = prepare_demo(tmp)
    with serve(env, tmp / "server.log") as base:
        yield base


@pytest.fixture
def phone(chromium: object) -> Iterator[object]:
    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport={"width": WIDTH, "height": 740}, device_scale_factor=2, java_script_enabled=True
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def _measure(page: object, url: str, name: str) -> dict:
    page.goto(url)  # type: ignore[attr-defined]
    screenshot(page, name)
    return page.evaluate(MEASURE)  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", ["/report/", "/report/follow-up"])
def test_urdu_pages_are_mirrored(server: str, phone: object, path: str) -> None:
    slug = path.strip("/").replace("/", "-")
    urdu = _measure(phone, f"{server}{path}?lang=ur", f"worker-ur-{slug}.png")
    english = _measure(phone, f"{server}{path}?lang=en", f"worker-en-{slug}.png")

    assert phone.locator("html").get_attribute("dir") is None  # type: ignore[attr-defined]
    assert urdu["direction"] == "rtl" and english["direction"] == "ltr"
    # Urdu: the heading's text ends at the right margin and leaves room on the left (when it is
    # shorter than the line); English: the other way round.
    assert abs(urdu["right"] - (urdu["width"] - urdu["padEnd"])) <= SLACK, urdu
    assert abs(english["left"] - english["padStart"]) <= SLACK, english
    if urdu["right"] - urdu["left"] < urdu["width"] - urdu["padStart"] - urdu["padEnd"] - 2 * SLACK:
        assert urdu["left"] > urdu["padStart"] + SLACK, urdu
    # The language list runs from the right in Urdu: its first entry stands right of the second.
    assert urdu["firstLang"]["left"] > urdu["secondLang"]["left"], urdu
    assert english["firstLang"]["left"] < english["secondLang"]["left"], english
    # Nothing hangs off the page (the hidden skip link sits off the start side, which does not scroll).
    assert urdu["scrollWidth"] <= urdu["width"], urdu


@pytest.mark.parametrize("locale", ["id", "km", "bn", "fil", "uk"])
def test_new_languages_start_page(server: str, phone: object, locale: str) -> None:
    """The other new languages run left to right; their screenshots show whether the script renders."""
    found = _measure(phone, f"{server}/report/?lang={locale}", f"worker-{locale}-report.png")
    assert phone.locator("html").get_attribute("lang") == locale  # type: ignore[attr-defined]
    assert found["direction"] == "ltr"
    assert abs(found["left"] - found["padStart"]) <= SLACK, found
    assert found["scrollWidth"] <= found["width"], found
