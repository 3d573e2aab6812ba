"""Log in as every demo role through the real login form, in Debian's Chromium.

The server relaxes two-factor sign-in for the demo accounts (as `make run` does), and says so on
every page; a person who is not a demo account sets up an authenticator and logs in with its codes.

The server and Chromium come from tests/browser/conftest.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyotp
import pytest

from monitoring.demo import LOGINS, MONITORS
from tests.browser.conftest import prepare_demo, run_python, screenshot, serve

pytestmark = pytest.mark.browser

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


# A monitor who is not a demo account: the demo's relaxation does not apply.
REAL_MONITOR = ("nok.sriwan@workers-voice.example.org", "a long passphrase for the browser test")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the demo data plus a monitor who is not a demo account; yield the base URL."""
    tmp = tmp_path_factory.mktemp("browser")
    env = prepare_demo(tmp)
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
    run_python(["-m", "flask", "--app", "wsgi", *create, "--password-stdin"], env, stdin=password + "\n")
    with serve(env, tmp / "server.log") as base:
        yield base


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
        screenshot(page, f"{login.role.value}.png")

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
        screenshot(page, "login-mobile.png")
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
        screenshot(page, "two-factor-setup.png")
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
        screenshot(page, "two-factor-code.png")
        # The next code (the server accepts one step either side of its clock) lets the monitor in.
        next_step = max(enrol_step + 1, totp.timecode(time.time()))
        page.get_by_label("Six-digit code").fill(totp.generate_otp(next_step))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: "/two-factor" not in url and "/login" not in url)
        page.goto(f"{live_server}/")
        assert "Nok Sriwan" in page.locator("h1").inner_text()
    finally:
        context.close()
