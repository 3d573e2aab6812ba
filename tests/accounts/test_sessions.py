"""Server-side sessions: new id at login; logout, password change and deactivation end them."""

from datetime import timedelta

from sqlalchemy import func, select, update

from monitoring.accounts import operations
from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.core.sessions import WebSession, hash_sid
from monitoring.core.types import utcnow
from tests.conftest import PASSWORD, csrf_token, login, post_form


def _cookie(client, app):
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else None


def _sessions_of(app, user):
    with app.app_context():
        return db.session.scalar(select(func.count()).where(WebSession.user_id == user.id))


def test_session_row_holds_only_a_hash_of_the_cookie(app, monitor):
    client = app.test_client()
    login(client, monitor)
    sid = _cookie(client, app)
    with app.app_context():
        rows = db.session.scalars(select(WebSession).where(WebSession.user_id == monitor.id)).all()
    assert [r.sid_hash for r in rows] == [hash_sid(sid)]
    assert all(sid not in r.data for r in rows)


def test_login_issues_a_new_session_id(app, monitor):
    client = app.test_client()
    csrf_token(client, "/login")  # creates an anonymous session
    before = _cookie(client, app)
    assert before
    login(client, monitor)
    after = _cookie(client, app)
    assert after and after != before
    # The pre-login id is worthless now.
    stale = app.test_client()
    stale.set_cookie(app.config["SESSION_COOKIE_NAME"], before)
    assert stale.get("/").status_code == 302


def test_logout_ends_the_session(app, monitor):
    client = app.test_client()
    login(client, monitor)
    sid = _cookie(client, app)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], sid)
    assert replay.get("/").status_code == 302
    assert _sessions_of(app, monitor) == 0


def test_password_change_ends_every_session(app, client_for, monitor):
    phone = client_for(monitor)
    laptop = client_for(monitor)
    old_laptop_sid = _cookie(laptop, app)
    new_password = "a brand new passphrase"
    response = post_form(
        laptop,
        "/account/password",
        {"current_password": PASSWORD, "password": new_password, "confirm": new_password},
        form_page="/account/password",
    )
    assert response.status_code == 302
    assert phone.get("/").status_code == 302  # the other device is logged out
    assert laptop.get("/").status_code == 200  # this one continues in a new session
    assert _cookie(laptop, app) != old_laptop_sid
    assert _sessions_of(app, monitor) == 1
    assert login(app.test_client(), monitor, new_password).status_code == 302


def test_password_change_with_wrong_current_password_changes_nothing(app, client_for, monitor):
    client = client_for(monitor)
    response = post_form(
        client,
        "/account/password",
        {"current_password": "wrong one", "password": "x" * 14, "confirm": "x" * 14},
        form_page="/account/password",
    )
    assert response.status_code == 200
    assert "not correct" in response.get_data(as_text=True)
    assert login(app.test_client(), monitor).status_code == 302


def test_deactivation_ends_every_session(app, client_for, admin, monitor):
    client = client_for(monitor)
    with app.app_context():
        operations.set_user_active(db.session.get(User, admin.id), db.session.get(User, monitor.id), False)
        db.session.commit()
    assert client.get("/").status_code == 302
    assert _sessions_of(app, monitor) == 0
    assert login(app.test_client(), monitor).status_code == 200  # refused


def test_idle_timeout(app, client_for, monitor):
    client = client_for(monitor)
    with app.app_context():
        db.session.execute(
            update(WebSession)
            .where(WebSession.user_id == monitor.id)
            .values(last_seen_dt=utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
        )
        db.session.commit()
    assert client.get("/").status_code == 302


def test_absolute_timeout(app, client_for, monitor):
    client = client_for(monitor)
    with app.app_context():
        db.session.execute(
            update(WebSession)
            .where(WebSession.user_id == monitor.id)
            .values(created_dt=utcnow() - timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"], minutes=1))
        )
        db.session.commit()
    assert client.get("/").status_code == 302


def test_activity_keeps_the_session_alive(app, client_for, monitor):
    client = client_for(monitor)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    with app.app_context():
        db.session.execute(
            update(WebSession)
            .where(WebSession.user_id == monitor.id)
            .values(last_seen_dt=utcnow() - idle + timedelta(minutes=1))
        )
        db.session.commit()
    assert client.get("/").status_code == 200
    with app.app_context():
        seen = db.session.scalar(select(WebSession.last_seen_dt).where(WebSession.user_id == monitor.id))
    assert utcnow() - seen < timedelta(minutes=1)


def test_forced_password_change(app, create_user):
    user = create_user("coordinator", must_change_password=True)
    client = app.test_client()
    response = login(client, user)
    assert response.headers["Location"] == "/account/password"
    assert client.get("/").headers["Location"] == "/account/password"
    assert client.get("/account/password").status_code == 200


def test_jobs_purge_expired_sessions(app, client_for, monitor):
    client_for(monitor)
    with app.app_context():
        db.session.execute(update(WebSession).values(last_seen_dt=utcnow() - timedelta(days=1)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert _sessions_of(app, monitor) == 0
