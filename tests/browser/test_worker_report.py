"""A worker files an anonymous report in Thai and follows it up; a monitor reads and answers it.

The worker's browser runs with JavaScript switched off on a small phone screen; the monitor logs
in as the demo monitor (the server relaxes two-factor sign-in for demo accounts, as `make run`
does). The worker pages are asserted on their structure (``lang="th"``, the receipt, the reply),
not on Thai wording, so the test holds whatever the state of the Thai catalog.

The server and Chromium come from tests/browser/conftest.py.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitoring.demo import LOGINS
from tests.browser.conftest import prepare_demo, screenshot, serve

pytestmark = pytest.mark.browser

THAI_ZERO = 0x0E50
TESTIMONY = "หัวหน้างานเก็บหนังสือเดินทางของพวกเราไว้ในสำนักงาน"  # the worker's own words
REPLY = "We received your report. Are you safe? We will not tell the factory who you are."
MONITOR = next(login for login in LOGINS if login.role.value == "monitor")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Serve the demo data; yield the URL and the database file."""
    tmp = tmp_path_factory.mktemp("worker-report")
    env = prepare_demo(tmp)
    with serve(env, tmp / "server.log") as base:
        yield base, tmp / "browser.sqlite3"


def in_thai_digits(receipt: str) -> str:
    digits = "".join(chr(THAI_ZERO + int(d)) for d in receipt)
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def _follow_up(page, base: str, receipt: str) -> None:
    page.goto(f"{base}/report/follow-up?lang=th")
    assert page.locator("html").get_attribute("lang") == "th"
    page.locator("input[name=receipt]").fill(in_thai_digits(receipt))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "th"
    assert page.locator(".alert").count() == 0, page.locator("main").inner_text()
    assert page.locator("form[action^='/report/follow-up/message']").count() == 1


def test_worker_reports_in_thai_and_a_monitor_answers(chromium, server) -> None:
    base, database = server
    phone = chromium.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
        locale="en-GB",
    )
    worker = phone.new_page()
    external = []
    worker.on(
        "request", lambda request: None if request.url.startswith(base) else external.append(request.url)
    )
    try:
        # The worker chooses Thai on the start page.
        worker.goto(f"{base}/report/")
        worker.locator("nav a[hreflang=th]").click()
        assert worker.locator("html").get_attribute("lang") == "th"
        worker.locator("main a[href^='/report/workplace']").click()
        # Finds the workplace by name and opens the report form.
        worker.locator("input[name=q]").fill("Siam Circuit")
        worker.locator("form[role=search] button[type=submit]").click()
        worker.locator("main form.choose button[name=site]").first.click()
        assert worker.locator("html").get_attribute("lang") == "th"
        assert "Chao Phraya Workers' Voice" in worker.locator("main").inner_text()
        worker.locator("textarea[name=testimony]").fill(TESTIMONY)
        worker.locator("input[name=categories][value=retained_documents]").check()
        worker.locator("input[name=consent_share_buyers]").check()
        overflow = worker.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the report form scrolls sideways by {overflow}px"
        screenshot(worker, "worker-report-form-th.png")
        worker.locator("main form[enctype] button[type=submit]").click()
        # The receipt, shown once.
        receipt = re.sub(r"\D", "", worker.locator("#receipt").inner_text())
        assert len(receipt) == 20
        screenshot(worker, "worker-report-receipt-th.png")
        # Follow-up with the receipt typed in Thai digits.
        _follow_up(worker, base, receipt)
        assert REPLY not in worker.locator("main").inner_text()
    finally:
        worker.close()

    with sqlite3.connect(database) as connection:
        (report_id,) = connection.execute(
            "SELECT id FROM worker_report WHERE receipt_lookup IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()

    desk = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    monitor = desk.new_page()
    try:
        monitor.goto(f"{base}/login")
        monitor.get_by_label("E-mail address").fill(MONITOR.email)
        monitor.get_by_label("Password").fill(MONITOR.password)
        monitor.get_by_role("button", name="Log in").click()
        monitor.wait_for_url(f"{base}/")
        monitor.goto(f"{base}/testimony/reports/{report_id}")
        monitor.locator("select[name=reason]").select_option("follow_up")
        monitor.get_by_role("button", name="Open sealed content").click()
        assert TESTIMONY in monitor.locator("main").inner_text()
        monitor.get_by_label("Message to the worker").fill(REPLY)
        monitor.get_by_role("button", name="Seal and send").click()
        monitor.wait_for_load_state()
        assert monitor.locator(".flash-error").count() == 0, monitor.locator("main").inner_text()
    finally:
        desk.close()

    worker = phone.new_page()
    try:
        _follow_up(worker, base, receipt)
        assert REPLY in worker.locator(".messages").inner_text()
        screenshot(worker, "worker-follow-up-th.png")
    finally:
        worker.close()
        phone.close()
    assert external == [], f"the worker pages loaded from other hosts: {external}"
