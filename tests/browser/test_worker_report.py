"""A worker files an anonymous report in Thai and follows it up; a monitor reads and answers it.

The worker's browser runs with JavaScript switched off on a small phone screen; the monitor logs
in as the demo monitor (the server relaxes two-factor sign-in for demo accounts, as `make run`
does). The worker pages are asserted on their structure (``lang="th"``, the receipt, the reply),
not on Thai wording, so the test holds whatever the state of the Thai catalog.

The server runs in a subprocess with its own SQLite file, as in test_login_roles.py.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitoring.config import ROOT
from monitoring.demo import LOGINS

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("MONITORING_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "artefacts" / "screenshots"
SERVER = """
from werkzeug.serving import make_server
from wsgi import app

server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""
THAI_ZERO = 0x0E50
TESTIMONY = "หัวหน้างานเก็บหนังสือเดินทางของพวกเราไว้ในสำนักงาน"  # the worker's own words
REPLY = "We received your report. Are you safe? We will not tell the factory who you are."
MONITOR = next(login for login in LOGINS if login.role.value == "monitor")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true, so the browser tests must run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a test dependency
        _unavailable(f"Playwright is not installed ({exc}); run `make test`")
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM}; install it with `apt-get install chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Migrate a fresh database, load the demo data and serve it; yield the URL and the database."""
    tmp = tmp_path_factory.mktemp("worker-report")
    database = tmp / "browser.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITORING_")}
    env.update(
        MONITORING_ENV="development",
        MONITORING_INSTANCE_PATH=str(tmp / "instance"),
        MONITORING_DATABASE_URL=f"sqlite:///{database}",
        # Cheap hashing keeps the test fast; the demo passwords are public anyway.
        MONITORING_ARGON2_TIME_COST="1",
        MONITORING_ARGON2_MEMORY_KIB="8192",
        MONITORING_RECEIPT_KDF_TIME_COST="1",
        MONITORING_RECEIPT_KDF_MEMORY_KIB="8192",
        MONITORING_DEMO_RELAX_TWO_FACTOR="1",
        PYTHONUNBUFFERED="1",
    )
    _run(["-m", "monitoring.core.devkeys", str(tmp / "instance")], env)
    _run(["-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
    _run(["-m", "flask", "--app", "wsgi", "demo", "load"], env)
    log_path = tmp / "server.log"
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True
        )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"the server did not start:\n{log_path.read_text(encoding='utf-8')}"
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"the server exited:\n{log_path.read_text(encoding='utf-8')}"
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text(encoding="utf-8")
                time.sleep(0.2)
        yield base, database
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def in_thai_digits(receipt: str) -> str:
    digits = "".join(chr(THAI_ZERO + int(d)) for d in receipt)
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def _screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


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
        worker.locator("main a[href*='/report/new?site=']").first.click()
        assert worker.locator("html").get_attribute("lang") == "th"
        assert "Chao Phraya Workers' Voice" in worker.locator("main").inner_text()
        worker.locator("textarea[name=testimony]").fill(TESTIMONY)
        worker.locator("input[name=categories][value=retained_documents]").check()
        worker.locator("input[name=consent_share_buyers]").check()
        overflow = worker.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the report form scrolls sideways by {overflow}px"
        _screenshot(worker, "worker-report-form-th.png")
        worker.locator("main form[enctype] button[type=submit]").click()
        # The receipt, shown once.
        receipt = re.sub(r"\D", "", worker.locator("#receipt").inner_text())
        assert len(receipt) == 20
        _screenshot(worker, "worker-report-receipt-th.png")
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
        _screenshot(worker, "worker-follow-up-th.png")
    finally:
        worker.close()
        phone.close()
    assert external == [], f"the worker pages loaded from other hosts: {external}"
