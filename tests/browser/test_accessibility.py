"""Accessibility, measured: axe-core finds no WCAG 2.2 A or AA violation, and the worker pages reflow.

* Every worker page (start, workplace search, report form and the form with its errors, receipt,
  follow-up, conversation, the conversation with a retaliation check-in and the check-in
  answered) in three scripts: Latin (English), Thai and Urdu (Arabic script, right
  to left), on a 320 px wide screen.
* Each role's home page, every page of its menu (the lists) and one page of each kind that the
  home page and those lists link to (the details), on a desktop screen; and the login page.
* The worker pages at 320 px: nothing scrolls sideways or is cut off, at normal text size and with
  the browser's text size doubled (200 %, as a reader's font-size setting does: ``rem``, ``em``
  and ``em`` media queries all follow).

Each worker language is walked once (one report filed, one browser context) and both worker tests
read that walk. The pages carry no script of their own: Playwright injects axe's, past the pages'
Content Security Policy.
The server and Chromium come from tests/browser/conftest.py, axe-core from axe-playwright-python.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
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
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Serve the demo data; yield the URL and the database file."""
    tmp = tmp_path_factory.mktemp("accessibility")
    env = prepare_demo(tmp)
    # Every walk files a report and follows it up from the same address: lift the per-client caps.
    env.update(MONITORING_WORKER_REPORT_MAX_PER_CLIENT="100", MONITORING_WORKER_FOLLOWUP_MAX_PER_CLIENT="100")
    with serve(env, tmp / "server.log") as url:
        yield url, tmp / "browser.sqlite3"


@pytest.fixture(scope="module")
def base(server: tuple[str, Path]) -> str:
    return server[0]


@pytest.fixture(scope="module")
def axe() -> Any:
    return axe_engine()


@pytest.fixture(scope="module")
def worker_walks(chromium: Any, axe: Any, server: tuple[str, Path]) -> Callable[[str], list[PageReport]]:
    """The reports of each worker language's walk, walked once when first asked for."""
    done: dict[str, list[PageReport]] = {}

    def walk(lang: str) -> list[PageReport]:
        if lang not in done:
            done[lang] = _walk_worker_pages(chromium, axe, server, lang)
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


def _make_first_check_in_due(database: Path) -> None:
    """Bring the latest report's first retaliation check-in (due after two weeks) to today."""
    with closing(sqlite3.connect(database)) as connection, connection:
        changed = connection.execute(
            "UPDATE retaliation_check_in SET due_dt = anchor_dt WHERE id = (SELECT id"
            " FROM retaliation_check_in WHERE report_id = (SELECT max(id) FROM worker_report)"
            " ORDER BY due_dt LIMIT 1)"
        ).rowcount
    assert changed == 1, "the report has no retaliation check-in"


def _follow_up(page: Any, base: str, lang: str, receipt: str) -> None:
    page.goto(f"{base}/report/follow-up?lang={lang}")
    page.locator("input[name=receipt]").fill(receipt)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def _walk_worker_pages(chromium: Any, axe: Any, server: tuple[str, Path], lang: str) -> list[PageReport]:
    """File a report and follow it up in ``lang`` on a 320 px screen, checking every page."""
    base, database = server
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
        _follow_up(page, base, lang, "1" * 20)
        _check(axe, page, cdp, f"{lang} follow-up, receipt not found", reports)
        _follow_up(page, base, lang, receipt)
        assert page.locator("form[action^='/report/follow-up/message']").count() == 1
        _check(axe, page, cdp, f"{lang} conversation", reports)
        # Two weeks on: the retaliation check-in asks its question; the worker answers "yes", which
        # raises an alert (the monitor's tour below then checks the alert's page too).
        _make_first_check_in_due(database)
        _follow_up(page, base, lang, receipt)
        _check(axe, page, cdp, f"{lang} conversation with a check-in", reports)
        page.locator("main form[action^='/report/follow-up/check-in'] input[value=yes]").check()
        page.locator("main form[action^='/report/follow-up/check-in'] button[type=submit]").click()
        assert page.locator("main [role=status]").count() > 0, "the answer was not confirmed"
        _check(axe, page, cdp, f"{lang} check-in answered", reports)
    finally:
        context.close()
    return reports


@pytest.mark.parametrize("lang", WORKER_LANGUAGES)
def test_worker_pages_have_no_axe_violations(worker_walks: Callable[[str], list[PageReport]], lang) -> None:
    reports = worker_walks(lang)
    assert len(reports) == 9
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
    return re.sub(r"/\d+", "/<id>", path.rstrip("/")) or "/"


# Lists no menu links to while they are empty (the demo raises no retaliation alert).
UNLINKED_LISTS = {"monitor": ["/testimony/retaliation-alerts"]}
# Links to files (exports, downloads) and to leaving are not pages to check.
NOT_A_PAGE = re.compile(r"\.\w+$|download|export|logout")


def _links(page: Any, selector: str) -> list[str]:
    paths = page.eval_on_selector_all(selector, "links => links.map(a => a.pathname)")
    return [path for path in paths if not NOT_A_PAGE.search(path)]


def _is_detail(path: str) -> bool:
    return re.search(r"/\d+(/|$)", path) is not None


class StaffTour:
    """Open each kind of page once, running axe on it; collect what each page links to."""

    def __init__(self, axe: Any, page: Any, base: str) -> None:
        self.axe, self.page, self.base = axe, page, base
        self.seen: set[str] = set()
        self.reports: list[PageReport] = []

    def check(self, label: str, path: str) -> bool:
        """Check the page at ``path`` unless one of its kind was checked; False when skipped."""
        if _kind(path) in self.seen:
            return False
        self.seen.add(_kind(path))
        if self.page.url != f"{self.base}{path}":
            response = self.page.goto(f"{self.base}{path}")
            assert response is not None and response.ok, f"{path} answered {response and response.status}"
        self.reports.append(PageReport(f"{label} {path}", path, axe_violations(self.axe, self.page)))
        return True


@pytest.mark.parametrize("role", [login.role.value for login in LOGINS])
def test_each_roles_home_list_and_detail_pages_have_no_axe_violations(chromium, axe, base, role) -> None:
    """Home, then the lists (the menu's and the home page's links), then one detail page of each
    kind they link to, and the pages of a detail (a case's workers page, a report's forms)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    tour = StaffTour(axe, page, base)
    try:
        page.goto(f"{base}/login")
        page.locator("input[name=email]").fill(LOGIN[role].email)
        page.locator("input[name=password]").fill(LOGIN[role].password)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        assert page.url == f"{base}/", page.url
        tour.check("home", "/")
        home = _links(page, "main a[href^='/']")
        menu = _links(page, "header nav a[href^='/']")
        details = [path for path in home if _is_detail(path)]
        lists = menu + [path for path in home if not _is_detail(path)] + UNLINKED_LISTS.get(role, [])
        for path in dict.fromkeys(lists):
            if tour.check("list", path):
                details.extend(path for path in _links(page, "main a[href^='/']") if _is_detail(path))
        for path in dict.fromkeys(details):
            if tour.check("detail", path):
                below = [link for link in _links(page, "main a[href^='/']") if link.startswith(f"{path}/")]
                for sub in dict.fromkeys(below):
                    tour.check("detail", sub)
    finally:
        context.close()
    checked = [report.name for report in tour.reports]
    assert any(name.startswith("list ") for name in checked), checked
    assert any(name.startswith("detail ") for name in checked), checked
    failing = describe(tour.reports, "violations")
    assert not failing, f"axe-core (WCAG 2.2 AA) on the {role}'s pages {checked}:\n{failing}"
