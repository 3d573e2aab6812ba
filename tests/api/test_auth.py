"""Bearer tokens: who gets in, and the record of a token's use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from monitoring.accounts import operations
from monitoring.accounts.models import ApiToken, User
from monitoring.core.db import db
from monitoring.core.types import utcnow
from tests.conftest import login


def _token_row(app, clear):
    from monitoring.core.auth import hash_token

    with app.app_context():
        return db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(clear)))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer mon_not-a-real-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_no_valid_token_is_401(app, headers):
    response = app.test_client().get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    assert body["error"]["code"] == 401
    assert body["error"]["message"]


def test_valid_token_is_accepted(app, api_client, monitor):
    response = api_client(monitor).get("/api/v1/me")
    assert response.status_code == 200
    assert response.get_json()["email"] == monitor.email


def test_revoked_token_is_401(app, api_client, monitor):
    client = api_client(monitor)
    row = _token_row(app, client.token)
    response = client.delete(f"/api/v1/me/tokens/{row.id}")
    assert response.status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_deactivated_user_token_is_401(app, api_client, monitor, admin):
    client = api_client(monitor)
    assert api_client(admin).post(f"/api/v1/users/{monitor.id}/deactivate").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_deactivated_organisation_token_is_401(app, api_client, monitor, admin):
    client = api_client(monitor)
    response = api_client(admin).post(f"/api/v1/organisations/{monitor.organisation_id}/deactivate")
    assert response.status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_session_cookie_is_ignored(app, monitor):
    client = app.test_client()
    assert login(client, monitor).status_code == 302
    assert client.get("/account").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_token_use_is_recorded_at_most_every_five_minutes(app, api_client, monitor):
    client = api_client(monitor)
    assert _token_row(app, client.token).last_used_dt is None
    before = utcnow()
    assert client.get("/api/v1/me").status_code == 200
    first = _token_row(app, client.token).last_used_dt
    assert first is not None and first >= before - timedelta(seconds=1)

    assert client.get("/api/v1/me").status_code == 200
    assert _token_row(app, client.token).last_used_dt == first

    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.id == _token_row(app, client.token).id))
        row.last_used_dt = utcnow() - timedelta(minutes=6)
        db.session.commit()
    assert client.get("/api/v1/me").status_code == 200
    assert _token_row(app, client.token).last_used_dt > first


def test_token_use_is_recorded_on_errors_too(app, api_client, monitor):
    client = api_client(monitor)
    assert client.get("/api/v1/me/tokens/999999").status_code == 405
    assert client.delete("/api/v1/me/tokens/999999").status_code == 404
    assert _token_row(app, client.token).last_used_dt is not None


def test_failed_handler_work_is_not_committed_by_token_touch(app, api_client, admin):
    # A 422 from an operation after a flush: nothing of it may be saved with the timestamp.
    client = api_client(admin)
    with app.app_context():
        count = db.session.query(User).count()
    response = client.post(
        "/api/v1/users",
        json={
            "email": "short@example.org",
            "name": "Short",
            "role": "admin",
            "organisation_id": admin.organisation_id,
            "password": "short",
        },
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["errors"] == {"password": [response.get_json()["error"]["message"]]}
    with app.app_context():
        assert db.session.query(User).count() == count
    assert _token_row(app, client.token).last_used_dt is not None


def test_users_with_a_temporary_password_may_use_the_api(app, api_client, create_user):
    user = create_user("monitor", must_change_password=True)
    response = api_client(user).get("/api/v1/me")
    assert response.status_code == 200
    assert response.get_json()["must_change_password"] is True


def test_token_created_by_operation_works(app, monitor):
    with app.app_context():
        _row, clear = operations.create_token(db.session.get(User, monitor.id), "script")
        db.session.commit()
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"bearer  {clear}"})
    assert response.status_code == 200
