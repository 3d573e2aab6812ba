"""Attack: forge Flask-Login's ``remember_token`` with ``SECRET_KEY`` alone and be let in as anyone.
Defence: the remember-me cookie is neither read nor written; only a login opens a session.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import func, select

from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.sessions import WebSession

REMEMBER_COOKIE = "remember_token"  # flask_login.config.COOKIE_NAME


def _forged_cookie(app, user_id: int) -> str:
    """The cookie exactly as Flask-Login would write it: ``user_id|HMAC-SHA512(SECRET_KEY, user_id)``."""
    with app.app_context():
        return encode_cookie(str(user_id))


def _counts(app, user_id: int) -> tuple[int, int]:
    with app.app_context():
        sessions = db.session.scalar(select(func.count()).where(WebSession.user_id == user_id))
        audited = db.session.scalar(select(func.count()).where(AuditEntry.actor_id == user_id))
        return sessions, audited


@pytest.mark.parametrize("role", ["admin", "affiliate"])
def test_a_forged_remember_cookie_opens_no_page(app, create_user, role):
    victim = create_user(role)
    sessions_before, audited_before = _counts(app, victim.id)
    client = app.test_client()
    client.set_cookie(REMEMBER_COOKIE, _forged_cookie(app, victim.id))

    for url in ("/", "/account", "/admin/users"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert urlsplit(response.headers["Location"]).path == "/login", url
    # Nor is it taken for a logged-in user by the login page itself.
    assert client.get("/login").status_code == 200
    # The browser is told to drop the cookie.
    assert client.get_cookie(REMEMBER_COOKIE) is None

    assert _counts(app, victim.id) == (sessions_before, audited_before)


def test_a_forged_remember_cookie_opens_no_api_route(app, admin):
    before = _counts(app, admin.id)
    client = app.test_client()
    client.set_cookie(REMEMBER_COOKIE, _forged_cookie(app, admin.id))
    for url in ("/api/v1/me", "/api/v1/users"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.get_json()["error"]["code"] == 401
    assert _counts(app, admin.id) == before


def test_a_bearer_token_next_to_a_forged_cookie_stays_its_owners(app, api_client, admin, supplier):
    client = api_client(supplier)
    client.client.set_cookie(REMEMBER_COOKIE, _forged_cookie(app, admin.id))
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.get_json()["id"] == supplier.id
    assert client.get("/api/v1/users").status_code == 404  # an admin route: the supplier is not admin


def test_login_never_sets_a_remember_cookie(app, affiliate):
    from tests.conftest import login

    client = app.test_client()
    assert login(client, affiliate).status_code == 302
    assert client.get_cookie(REMEMBER_COOKIE) is None
