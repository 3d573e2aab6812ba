"""Section 7 of the runbook in Chromium, over HTTPS through nginx (called by .ci/deploy_test.py).

Follows what the pages say, as people would: the first administrator's login with two-factor
set-up and a new password, a monitor made on the admin pages, the monitor's first login and the
organisation key, routing, a worker's report with a 5 MB photo, and the monitor opening it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from pathlib import Path
from typing import Any

import pyotp
from playwright.sync_api import Page, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",  # run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MONITOR_EMAIL = "monitor@example.org"
MONITOR_ORGANISATION = "Workers' Voice"
FIVE_MB = 5 * 1024 * 1024


def too_large_in_thai() -> str:
    """The start of the worker pages' refusal of a large file, as the Thai catalog says it."""
    from babel.messages.pofile import read_po

    with open("/srv/monitoring/translations/th/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale="th")
    start = "The file is too large. Nothing was sent."
    message = next(m for m in catalog if isinstance(m.id, str) and m.id.startswith(start))
    assert message.string, "the Thai catalog lacks the refusal of a large file"
    return message.string.split("%(")[0].strip()[:20]


def passphrase() -> str:
    return "-".join(secrets.token_urlsafe(6) for _ in range(5))


def shot(page: Page, work: Path, name: str) -> None:
    folder = work / "screenshots"
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def log_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if "/login" in page.url and "two-factor" not in page.url:
        raise AssertionError(f"login of {email} refused: {page.locator('main').inner_text()[:500]}")


def enrol_two_factor(page: Page) -> None:
    page.wait_for_url("**/account/two-factor/setup**")
    page.get_by_role("button", name="Show my set-up key").click()
    secret = page.locator("code.totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm and switch on").click()
    page.wait_for_url(lambda url: "/two-factor" not in url)


def change_password(page: Page, current: str) -> str:
    page.wait_for_url("**/account/password**")
    new = passphrase()
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("New password again").fill(new)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url(lambda url: "/account/password" not in url)
    return new


def drive(base: str, *, admin_password: str, work: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            _drive(browser, base, admin_password, work)
        finally:
            browser.close()


def _drive(browser: Any, base: str, admin_password: str, work: Path) -> None:
    # The test's own certificate authority signed the site's certificate; Chromium is told to
    # accept it (curl in the runbook checks it against that authority).
    options = {"ignore_https_errors": True, "locale": "en-GB"}
    admin = browser.new_context(**options).new_page()
    log_in(admin, base, "admin@example.org", admin_password)
    enrol_two_factor(admin)
    change_password(admin, admin_password)
    shot(admin, work, "admin-after-first-login.png")

    admin.goto(f"{base}/admin/users/new")
    admin.get_by_label("E-mail address").fill(MONITOR_EMAIL)
    admin.get_by_label("Name").fill("First Monitor")
    admin.get_by_label("Role").select_option("monitor")
    admin.get_by_label("Organisation").select_option(label=MONITOR_ORGANISATION)
    admin.get_by_role("button", name="Create account").click()
    monitor_password = admin.locator("main code.token").first.inner_text().strip()
    assert monitor_password, "the new monitor's temporary password is not shown"

    monitor = browser.new_context(**options).new_page()
    log_in(monitor, base, MONITOR_EMAIL, monitor_password)
    enrol_two_factor(monitor)
    monitor_password = change_password(monitor, monitor_password)
    monitor.goto(f"{base}/account/keys")
    monitor.get_by_role("button", name="Create the organisation's key").click()
    recovery = monitor.locator("code.recovery-code").inner_text()
    assert len(recovery.replace(" ", "").replace("-", "")) >= 40, recovery
    shot(monitor, work, "monitor-recovery-code.png")
    monitor.locator("main form button[type=submit]").first.click()

    # Routing: the reports of Thailand go to the monitor's organisation.
    admin.goto(f"{base}/coverage")
    country_form = admin.locator("form", has=admin.get_by_label("Country", exact=True))
    country_form.get_by_label("Country", exact=True).select_option("TH")
    country_form.get_by_label("Monitoring organisation").select_option(label=MONITOR_ORGANISATION)
    country_form.get_by_role("button", name="Ask for this change").click()
    admin.wait_for_load_state()
    shot(admin, work, "admin-coverage.png")

    # A worker, on a phone, through nginx (no proxy buffering: the photo streams to the app).
    worker_context = browser.new_context(
        ignore_https_errors=True, locale="th-TH", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    worker = worker_context.new_page()
    worker.goto(f"{base}/report/workplace?lang=en")
    worker.locator("select#country").select_option("TH")
    worker.get_by_role("button", name="Continue").click()
    worker.wait_for_url("**/report/new**")
    if worker.locator("textarea[name=workplace]").count():
        worker.locator("textarea[name=workplace]").fill("Electronics factory in Rayong, line 4")
    worker.locator("textarea[name=testimony]").fill(
        "The agency kept our passports and took three months' wages as a recruitment fee."
    )
    photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + secrets.token_bytes(FIVE_MB - 11)
    worker.locator("input[name=evidence]").set_input_files(
        {"name": "passports.jpg", "mimeType": "image/jpeg", "buffer": photo}
    )
    started = time.monotonic()
    worker.get_by_role("button", name="Send the report").click()
    worker.wait_for_load_state()
    text = worker.locator("main").inner_text()
    receipt = re.search(r"\d{4}[\s-]?\d{4}[\s-]?\d{4}[\s-]?\d{4}[\s-]?\d{4}", text)
    assert receipt, f"no receipt after sending the report:\n{text[:1500]}"
    print(f"    the worker's report with a 5 MB photo took {time.monotonic() - started:.1f} s", flush=True)
    shot(worker, work, "worker-receipt.png")

    # A file over the limit, from a worker reading Thai: the app's own refusal answers, in Thai
    # (nginx sets no limit of its own on /report, so its English 413 page never does).
    thai = browser.new_context(
        ignore_https_errors=True, locale="th-TH", viewport={"width": 390, "height": 844}
    )
    worker = thai.new_page()
    worker.goto(f"{base}/report/workplace?lang=th")
    worker.locator("select#country").select_option("TH")
    worker.locator("main form:has(select#country) button[type=submit]").click()
    worker.wait_for_url("**/report/new**")
    if worker.locator("textarea[name=workplace]").count():
        worker.locator("textarea[name=workplace]").fill("โรงงานอิเล็กทรอนิกส์ ระยอง")
    worker.locator("textarea[name=testimony]").fill("นายหน้าเก็บหนังสือเดินทางของเรา")
    too_large = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(22 * 1024 * 1024)
    worker.locator("input[name=evidence]").set_input_files(
        {"name": "video.jpg", "mimeType": "image/jpeg", "buffer": too_large}
    )
    with worker.expect_response(lambda r: r.request.method == "POST") as answer:
        worker.locator("main form[enctype] button[type=submit]").click()
    assert answer.value.status == 413, answer.value.status
    worker.wait_for_load_state()
    assert worker.locator("html").get_attribute("lang") == "th"
    assert too_large_in_thai() in worker.locator("main").inner_text(), worker.locator("main").inner_text()
    shot(worker, work, "worker-file-too-large-th.png")

    # The monitor opens it and downloads the photo.
    monitor.goto(f"{base}/testimony/reports")
    links = monitor.locator("main a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    report_links = [href for href in links if re.fullmatch(r"/testimony/reports/\d+", href or "")]
    assert len(report_links) == 1, links
    monitor.goto(base + report_links[0])
    monitor.locator("select[name=reason]").select_option(index=1)
    monitor.get_by_role("button", name="Open sealed content").click()
    body = monitor.locator("main").inner_text()
    assert "passports" in body, body[:1500]
    with monitor.expect_download() as download:
        monitor.get_by_role("button", name="Download file").first.click()
    path = download.value.path()
    assert path is not None
    assert hashlib.sha256(Path(path).read_bytes()).digest() == hashlib.sha256(photo).digest()
    shot(monitor, work, "monitor-report.png")
