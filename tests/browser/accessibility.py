"""Helpers of the accessibility tests: axe-core in the page, and what sticks out of a narrow screen.

axe-core comes with the PyPI package ``axe-playwright-python`` (a test dependency), which holds
``axe.min.js`` and injects it through Playwright's ``evaluate``: the pages' Content Security Policy
(scripts from the site only) does not apply to that, so nothing in the app changes for the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.browser.conftest import _unavailable

# WCAG 2.0, 2.1 and 2.2, levels A and AA: the success criteria axe can test automatically.
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_AA_TAGS}, "resultTypes": ["violations"]}

# Chromium's default font sizes (its settings page calls them "standard" and "fixed-width").
FONT_SIZES = {"standard": 16, "fixed": 13}

# What reaches past the screen's edges (either side: right-to-left pages overflow to the left) or
# is clipped by a box too narrow for its content. Form controls clip their own text by design
# (a long option in a <select>); a container that scrolls on purpose (.table-wrap) may hold wide
# content; the skip link waits off screen until it gets the focus.
OUT_OF_BOUNDS = """width => {
  const classes = e => typeof e.className === 'string' ? e.className.split(/\\s+/).filter(Boolean) : [];
  const name = e => [e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''), ...classes(e)].join('.');
  const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
  const inScroller = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement)
    { if (scrolls(p)) return true; } return false; };
  const found = [];
  for (const e of document.querySelectorAll('body *')) {
    const box = e.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || e.closest('.skip') || inScroller(e)) continue;
    if (box.left < -1 || box.right > width + 1) {
      found.push(`${name(e)} spans ${Math.round(box.left)}..${Math.round(box.right)} px`);
    } else if (['hidden', 'clip'].includes(getComputedStyle(e).overflowX)
               && !['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(e.tagName)
               && e.scrollWidth > e.clientWidth + 1) {
      found.push(`${name(e)} clips ${e.scrollWidth - e.clientWidth} px of its content`);
    }
    if (found.length >= 8) break;
  }
  return found;
}"""


def axe_engine() -> Any:
    """The ``Axe`` runner of axe-playwright-python; skipped (failed on CI) when it is missing."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError as exc:  # pragma: no cover - a test dependency
        _unavailable(f"axe-playwright-python is not installed ({exc}); run `make test`")
    return Axe()


def axe_violations(axe: Any, page: Any) -> list[str]:
    """Run axe-core on the page as it is now; one line per violated rule, with its first elements."""
    results = axe.run(page, options=AXE_OPTIONS).response
    assert results.get("testEngine", {}).get("name") == "axe-core", "axe-core did not run"
    lines = []
    for violation in results["violations"]:
        targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:3])
        more = len(violation["nodes"]) - 3
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}"
            + (f" and {more} more" if more > 0 else "")
        )
    return lines


def set_text_size(cdp: Any, percent: int) -> None:
    """Change Chromium's default font sizes, as a reader's browser setting for larger text does.

    The page's ``rem`` and ``em`` sizes and its ``em`` media queries follow, at once; a
    screenshot beyond the viewport resets them (see :func:`larger_text_in_style`).
    """
    sizes = {name: round(size * percent / 100) for name, size in FONT_SIZES.items()}
    cdp.send("Page.setFontSizes", {"fontSizes": sizes})


@contextmanager
def larger_text_in_style(page: Any, percent: int) -> Iterator[None]:
    """Enlarge the page's root font size in its style, for a full-page screenshot.

    A screenshot of more than the viewport resets the font sizes :func:`set_text_size` sets (it
    changes the device metrics), while the page's own style stays; ``em`` media queries do not
    follow, so the picture may differ a little from what was measured.
    """
    page.evaluate(
        """percent => { const root = document.documentElement;
          root.style.fontSize = parseFloat(getComputedStyle(root).fontSize) * percent / 100 + 'px'; }""",
        percent,
    )
    try:
        yield
    finally:
        page.evaluate("() => { document.documentElement.style.fontSize = ''; }")


def overflow(page: Any, width: int) -> list[str]:
    """What makes the page wider than ``width`` CSS pixels, or is cut off; empty when it all fits."""
    problems = []
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        problems.append(f"the page is {scroll_width} px wide")
    return problems + page.evaluate(OUT_OF_BOUNDS, width)


@dataclass
class PageReport:
    """What one page showed: axe's violations, and what overflowed at normal and at double text size."""

    name: str
    url: str
    violations: list[str] = field(default_factory=list)
    overflow: dict[int, list[str]] = field(default_factory=dict)


def describe(reports: list[PageReport], attribute: str) -> str:
    """A failure message listing, page by page, the problems held in ``attribute``."""
    lines = []
    for report in reports:
        value = getattr(report, attribute)
        items = (
            [f"{size} % text: {p}" for size, found in value.items() for p in found]
            if isinstance(value, dict)
            else value
        )
        if items:
            lines.append(f"{report.name} ({report.url}):")
            lines.extend(f"    {item}" for item in items)
    return "\n".join(lines)
