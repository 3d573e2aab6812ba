"""CSRF refusal, no state change on GET, security headers, cookie flags."""

import pytest
from sqlalchemy import func, select

from monitoring.accounts.models import User
from monitoring.core.db import db
from tests.conftest import PASSWORD, csrf_token


def test_login_without_csrf_token_is_refused(app, monitor):
    client = app.test_client()
    response = client.post("/login", data={"email": monitor.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_csrf_token_of_another_session_is_refused(app, monitor):
    stranger = app.test_client()
    token = csrf_token(stranger, "/login")
    victim = app.test_client()
    csrf_token(victim, "/login")
    response = victim.post("/login", data={"email": monitor.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400


def test_state_change_without_csrf_is_refused_and_changes_nothing(app, client_for, monitor):
    client = client_for(monitor)
    response = client.post("/language", data={"locale": "sv"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.id == monitor.id)) is None


def test_get_routes_change_nothing(app, client_for, admin):
    """Crawl every GET route without arguments: no audit entry (every change writes one)."""
    from monitoring.core.audit import AuditEntry

    client = client_for(admin)
    with app.app_context():
        before = db.session.scalar(select(func.max(AuditEntry.id)))
    crawled = 0
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            response = client.get(rule.rule)
            response.close()
            assert response.status_code < 500, rule.rule
            crawled += 1
    with app.app_context():
        assert db.session.scalar(select(func.max(AuditEntry.id))) == before
    assert crawled >= 5


@pytest.mark.parametrize("path", ["/login", "/static/css/app.css", "/no-such-page", "/api/v1/me"])
def test_security_headers_on_every_response(app, path):
    response = app.test_client().get(path)
    response.close()
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # plain http in tests


def test_hsts_behind_https(app):
    response = app.test_client().get("/login", base_url="https://localhost")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_authenticated_pages_are_not_cached(app, client_for, monitor):
    response = client_for(monitor).get("/account")
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(app, monitor):
    client = app.test_client()
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_cookie_is_secure_and_host_prefixed():
    from monitoring.config import _derive_flask_settings

    config = {"ENV": "production", "BEHIND_HTTPS": False, "DEFAULT_LOCALE": "en"}
    _derive_flask_settings(config)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_NAME"] == "__Host-session"


def test_open_redirect_is_refused(app, affiliate):
    # An affiliate has no second factor or keys to set up, so the login answers with `next` directly.
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": affiliate.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_missing_static_file_is_a_plain_404(app):
    """Static paths have no session: the HTML error page (with its CSRF token) used to end in a 500."""
    response = app.test_client().get("/static/no-such-file.css")
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
