"""Pass two-factor sign-in in tests the real way: the pages, a secret read from them, pyotp codes.

``tests.conftest.login`` calls :func:`complete_login` after the password step, so ``login`` and
``client_for`` give a fully logged-in session (password and second factor) for every role.
"""

from __future__ import annotations

import html
import re
import time
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from monitoring.accounts import two_factor
from monitoring.accounts.models import User
from monitoring.core.db import db

SETUP_URL = "/account/two-factor/setup"
VERIFY_URL = "/login/two-factor"

_SECRET = re.compile(r'<code class="token totp-secret"[^>]*>([A-Z2-7 ]+)</code>')
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def page_csrf(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def shown_secret(page: str) -> str | None:
    """The set-up key a page shows, without the spaces between its groups."""
    match = _SECRET.search(page)
    return html.unescape(match.group(1)).replace(" ", "") if match else None


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def current_step() -> int:
    return int(time.time()) // two_factor.INTERVAL


def _user_state(app: Flask, email: str) -> tuple[int, str | None, int | None]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None, email
        return user.id, (user.totp_secret if user.totp_secret_ct is not None else None), user.totp_last_step


def fresh_code(app: Flask, email: str, secret: str | None = None) -> str:
    """A code the server accepts now: this step or the next, whichever is not used yet.

    ``secret`` is the key as a page showed it; by default the one stored for the user. A test
    that logs the same person in more than twice within 30 seconds would run out of steps: then
    the last-used step is moved back, exactly as if half a minute had passed.
    """
    user_id, stored, last = _user_state(app, email)
    secret = secret or stored
    assert secret is not None, f"{email} has no two-factor key"
    now = current_step()
    for step in (now, now + 1):
        if last is None or step > last:
            return code_at(secret, step)
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(totp_last_step=now - 1))
        db.session.commit()
    return code_at(secret, now)


def enrol(client: FlaskClient, email: str, next_url: str | None = None) -> Any:
    """Go through the set-up pages as the logged-in user; return the answer to the code."""
    app = client.application
    suffix = f"?next={next_url}" if next_url else ""
    page = client.get(SETUP_URL + suffix).get_data(as_text=True)
    if shown_secret(page) is None:
        begun = client.post(f"/account/two-factor/begin{suffix}", data={"csrf_token": page_csrf(page)})
        assert begun.status_code == 302, begun.get_data(as_text=True)
        page = client.get(begun.headers["Location"]).get_data(as_text=True)
    secret = shown_secret(page)
    assert secret, "the set-up page shows no key"
    return client.post(
        SETUP_URL + suffix, data={"code": fresh_code(app, email, secret), "csrf_token": page_csrf(page)}
    )


def give_code(client: FlaskClient, email: str, location: str = VERIFY_URL) -> Any:
    """Answer the code page at ``location`` with a fresh code; return the answer."""
    page = client.get(location).get_data(as_text=True)
    return client.post(
        location, data={"code": fresh_code(client.application, email), "csrf_token": page_csrf(page)}
    )


def complete_login(client: FlaskClient, email: str, response: Any) -> Any:
    """After the password step: pass the second factor if the server asks for it.

    Returns the answer of the last step (the password step's own when no code was needed).
    """
    location = response.headers.get("Location", "") if response.status_code == 302 else ""
    if location.startswith(SETUP_URL):
        return enrol(client, email, _next_of(location))
    if location.startswith(VERIFY_URL):
        return give_code(client, email, location)
    return response


def _next_of(location: str) -> str | None:
    match = re.search(r"[?&]next=([^&]+)", location)
    return match.group(1) if match else None


def enrol_directly(app: Flask, user: User | int) -> str:
    """Switch two-factor sign-in on in the database, through the operations; return the secret."""
    user_id = user if isinstance(user, int) else user.id
    with app.app_context():
        row = db.session.get(User, user_id)
        enrolment = two_factor.begin_enrolment(row)
        result = two_factor.confirm_enrolment(row, code_at(enrolment.secret, current_step()))
        assert result.ok
        db.session.commit()
        return enrolment.secret


def password_only_login(client: FlaskClient, email: str, password: str) -> Any:
    """Only the password step of the login (``tests.conftest.login`` also passes the second factor)."""
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": page_csrf(page)})
