"""Attack: lock a monitor out for good by typing wrong passwords for their e-mail address, from anywhere.
Defence: a browser that completed a login has a device cookie with its own allowance (OWASP's device cookie).
"""

from __future__ import annotations

from sqlalchemy import func, select

from monitoring.accounts import devices
from monitoring.accounts.models import TrustedDevice
from monitoring.core.db import db
from tests.accounts.two_factor_helpers import complete_login
from tests.conftest import PASSWORD, csrf_token

ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.7"


def _name(app):
    with app.app_context():
        return devices.cookie_name()


def _attempt(client, email, password, address):
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def _login(client, user, address=OFFICE):
    """The whole login (password, then the second factor); the answer of its last step."""
    return complete_login(client, user.email, _attempt(client, user.email, PASSWORD, address))


def _trusted_browser(app, user):
    """A browser in which the user has completed a login and then logged out: it holds a device cookie."""
    client = app.test_client()
    assert _login(client, user).status_code == 302
    assert client.get_cookie(_name(app)) is not None
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302
    return client


def _lock_out(app, email, attempts=50):
    attacker = app.test_client()
    # The attacker spreads the guesses over many addresses, so the limit per address does not stop them.
    for n in range(attempts):
        _attempt(attacker, email, f"guess {n}", f"203.0.113.{n % 25 + 1}")
    return attacker


def test_strangers_do_not_lock_the_owner_out(app, monitor):
    browser = _trusted_browser(app, monitor)
    attacker = _lock_out(app, monitor.email)
    # The attacker, now with the right password, is still refused: the account is locked for them.
    assert _attempt(attacker, monitor.email, PASSWORD, ATTACKER).status_code == 429
    # So is any other browser without the monitor's device cookie.
    assert _attempt(app.test_client(), monitor.email, PASSWORD, OFFICE).status_code == 429
    # The monitor, in their own browser, logs in.
    answer = _login(browser, monitor)
    assert answer.status_code == 302
    assert browser.get("/").status_code == 200
    # And the attacker is still locked out afterwards.
    assert _attempt(attacker, monitor.email, PASSWORD, ATTACKER).status_code == 429


def test_a_device_cookie_of_one_person_gives_no_allowance_for_another(app, monitor, coordinator):
    browser = _trusted_browser(app, monitor)
    _lock_out(app, coordinator.email, attempts=10)
    assert _attempt(browser, coordinator.email, PASSWORD, OFFICE).status_code == 429


def test_a_forged_device_cookie_is_ignored(app, monitor):
    browser = _trusted_browser(app, monitor)
    _lock_out(app, monitor.email, attempts=10)
    # Made with SECRET_KEY exactly as the server would, but for a nonce the server never issued.
    with app.test_request_context("/"):
        forged = devices.encode([devices.DeviceClaim(monitor.id, "a-nonce-the-server-never-issued")])
        assert devices.decode(forged)  # the MAC is right
    client = app.test_client()
    client.set_cookie(_name(app), forged)
    assert _attempt(client, monitor.email, PASSWORD, OFFICE).status_code == 429
    # Nor does a cookie with a bad MAC count, even when its nonce is registered.
    real = browser.get_cookie(_name(app)).value
    user_id, nonce, _mac = real.split(".")
    tampered = app.test_client()
    tampered.set_cookie(_name(app), f"{user_id}.{nonce}.{'A' * 43}")
    assert _attempt(tampered, monitor.email, PASSWORD, OFFICE).status_code == 429
    # The real cookie, untouched, still counts.
    assert _login(browser, monitor).status_code == 302


def test_a_device_cookie_that_fails_too_often_is_locked_itself(app, monitor):
    browser = _trusted_browser(app, monitor)
    stolen = app.test_client()
    stolen.set_cookie(_name(app), browser.get_cookie(_name(app)).value)
    limit = app.config["LOGIN_MAX_FAILURES_PER_DEVICE"]
    for n in range(limit):
        assert _attempt(stolen, monitor.email, f"guess {n}", ATTACKER).status_code == 200
    # The cookie is locked now, even with the right password...
    assert _attempt(stolen, monitor.email, PASSWORD, OFFICE).status_code == 429
    # ...but its failures did not lock the account for other clients.
    assert _login(app.test_client(), monitor).status_code == 302


def test_the_limit_per_client_address_still_holds(app, monitor):
    browser = _trusted_browser(app, monitor)
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"], saved = 3, app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    try:
        for n in range(3):
            _attempt(app.test_client(), f"guess{n}@example.org", "x", ATTACKER)
        assert _attempt(browser, monitor.email, PASSWORD, ATTACKER).status_code == 429
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = saved


def test_the_cookie_is_renewed_at_each_login_and_stored_only_as_a_hash(app, monitor):
    browser = _trusted_browser(app, monitor)
    first = browser.get_cookie(_name(app))
    assert first.http_only and first.same_site == "Lax"
    assert _login(browser, monitor).status_code == 302
    second = browser.get_cookie(_name(app)).value
    assert second != first.value
    with app.app_context():
        rows = db.session.scalars(select(TrustedDevice).where(TrustedDevice.user_id == monitor.id)).all()
        assert len(rows) == 1  # the old registration went with the old cookie
        assert second.split(".")[1] not in rows[0].nonce_hash
        assert db.session.scalar(select(func.count(TrustedDevice.id))) == 1
