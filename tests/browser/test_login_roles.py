"""Log in as every demo role through the real login form, in Debian's Chromium.

The server relaxes two-factor sign-in for the demo accounts (as `make run` does), and says so on
every page; a person who is not a demo account sets up an authenticator and logs in with its codes.

The server runs in a subprocess with its own SQLite file and instance folder: the database
object is a process-wide singleton, so a second app in the test process would rebind the
engine under the rest of the suite. Screenshots go to artefacts/screenshots/.

Outside CI the test is skipped when Chromium or Playwright is missing; with CI=true it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from monitoring.config import ROOT
from monitoring.demo import LOGINS, MONITORS

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("MONITORING_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI containers
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
ROLE_TITLES = {
    "admin": "Administrator",
    "coordinator": "Coordinator",
    "monitor": "Monitor",
    "affiliate": "Affiliate (public buyer)",
    "supplier": "Supplier",
}
# Roles that must give a code, which the demo relaxes for its own accounts.
TWO_FACTOR_ROLES = {"admin", "coordinator", "monitor"}
DEMO_NOTICE = "Two-factor sign-in is switched off for this demo account."


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


def _server_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITORING_")}
    env.update(
        MONITORING_ENV="development",
        MONITORING_INSTANCE_PATH=str(tmp / "instance"),
        MONITORING_DATABASE_URL=f"sqlite:///{tmp / 'browser.sqlite3'}",
        # Cheap hashing keeps the test fast; the demo passwords are public anyway.
        MONITORING_ARGON2_TIME_COST="1",
        MONITORING_ARGON2_MEMORY_KIB="8192",
        MONITORING_DEMO_RELAX_TWO_FACTOR="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


# A monitor who is not a demo account: the demo's relaxation does not apply.
REAL_MONITOR = ("nok.sriwan@workers-voice.example.org", "a long passphrase for the browser test")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate a fresh database, load the demo data and serve it; yield the base URL."""
    tmp = tmp_path_factory.mktemp("browser")
    env = _server_env(tmp)
    _run(["-m", "monitoring.core.devkeys", str(tmp / "instance")], env)
    _run(["-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
    _run(["-m", "flask", "--app", "wsgi", "demo", "load"], env)
    email, password = REAL_MONITOR
    create = [
        "users",
        "create",
        email,
        "--name",
        "Nok Sriwan",
        "--role",
        "monitor",
        "--org",
        MONITORS[0].name,
    ]
    _run(["-m", "flask", "--app", "wsgi", *create, "--password-stdin"], env, stdin=password + "\n")
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
        _wait_healthy(base, process, log_path)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _wait_healthy(base: str, process: subprocess.Popen[str], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited:\n{log_path.read_text(encoding='utf-8')}"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 - our own URL
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{base}/healthz did not answer:\n{log_path.read_text(encoding='utf-8')}")


@pytest.mark.parametrize("login", LOGINS, ids=[login.role.value for login in LOGINS])
def test_each_role_logs_in_and_out(chromium, live_server, login) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("E-mail address").fill(login.email)
        page.get_by_label("Password").fill(login.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server}/")

        assert login.name in page.locator("h1").inner_text()
        body = page.locator("main").inner_text()
        assert ROLE_TITLES[login.role.value] in body
        assert login.organisation in body
        # The demo relaxes the second factor for these accounts, and every page says so.
        assert (DEMO_NOTICE in body) is (login.role.value in TWO_FACTOR_ROLES)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{login.role.value}.png"), full_page=True)

        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{live_server}/login")
        assert "You have logged out." in page.locator("main").inner_text()
        page.goto(f"{live_server}/")
        assert page.url.startswith(f"{live_server}/login"), "the start page must need a login again"
    finally:
        context.close()


def test_login_page_fits_a_small_phone(chromium, live_server) -> None:
    context = chromium.new_context(
        viewport={"width": 360, "height": 640}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        assert page.get_by_role("button", name="Log in").is_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the login page scrolls sideways by {overflow}px on a 360px screen"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "login-mobile.png"), full_page=True)
    finally:
        context.close()


def test_a_monitor_sets_up_two_factor_sign_in_and_logs_in_with_a_code(chromium, live_server) -> None:
    email, password = REAL_MONITOR
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-GB", is_mobile=True)
    page = context.new_page()

    def log_in() -> None:
        page.goto(f"{live_server}/login")
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()

    try:
        log_in()
        page.wait_for_url(f"{live_server}/account/two-factor/setup**")
        # Nothing else opens before the second factor.
        page.goto(f"{live_server}/account")
        assert "/account/two-factor/setup" in page.url
        page.get_by_role("button", name="Show my set-up key").click()
        secret = page.locator("code.totp-secret").inner_text().replace(" ", "")
        assert len(secret) == 32
        assert page.get_by_role("img", name="QR code").is_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "two-factor-setup.png"), full_page=True)
        totp = pyotp.TOTP(secret)
        enrol_step = totp.timecode(time.time())
        used_code = totp.generate_otp(enrol_step)
        page.get_by_label("Six-digit code").fill(used_code)
        page.get_by_role("button", name="Confirm and switch on").click()
        page.wait_for_url(lambda url: "/two-factor" not in url)
        page.goto(f"{live_server}/")
        assert "Nok Sriwan" in page.locator("h1").inner_text()
        assert DEMO_NOTICE not in page.locator("main").inner_text()

        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{live_server}/login")
        log_in()
        page.wait_for_url(f"{live_server}/login/two-factor**")
        # The code used at the set-up is refused: every code counts once.
        page.get_by_label("Six-digit code").fill(used_code)
        page.get_by_role("button", name="Continue").click()
        assert "already used" in page.locator("main").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "two-factor-code.png"), full_page=True)
        # The next code (the server accepts one step either side of its clock) lets the monitor in.
        next_step = max(enrol_step + 1, totp.timecode(time.time()))
        page.get_by_label("Six-digit code").fill(totp.generate_otp(next_step))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: "/two-factor" not in url and "/login" not in url)
        page.goto(f"{live_server}/")
        assert "Nok Sriwan" in page.locator("h1").inner_text()
    finally:
        context.close()
