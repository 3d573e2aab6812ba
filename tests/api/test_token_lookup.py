"""The bearer token's look-up (one statement built once): nothing of a token is kept between
requests, so whatever ends a token or its user's access is refused on the very next request."""

from __future__ import annotations

from typing import Any

import pytest
from flask import g
from sqlalchemy import select

from monitoring.accounts import login_setup
from monitoring.accounts.models import ApiToken, User
from monitoring.core.auth import hash_token
from monitoring.core.db import db


def _token(app: Any, clear: str) -> ApiToken:
    with app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(clear)))
        assert token is not None
        return token


def test_the_token_of_the_request_is_its_own_and_its_users(app, api_client, monitor, coordinator):
    first, second = api_client(monitor), api_client(coordinator)
    for _ in range(2):  # the same statement answers each token with its own user
        assert first.get("/api/v1/me").get_json()["email"] == monitor.email
        assert second.get("/api/v1/me").get_json()["email"] == coordinator.email
    token = _token(app, first.token)
    with app.test_request_context("/api/v1/me", headers={"Authorization": f"Bearer {first.token}"}):
        from flask import request

        user = login_setup.load_user_from_token(request)
        assert isinstance(user, User) and user.id == monitor.id
        assert g.api_token.id == token.id and g.api_token.user_id == monitor.id
        assert g.api_token.token_hash == token.token_hash


@pytest.mark.parametrize(
    "end",
    ["revoke", "deactivate_user", "deactivate_organisation", "reset_password"],
)
def test_a_token_that_just_worked_is_refused_right_after_its_access_ends(
    app, api_client, monitor, admin, end
):
    client = api_client(monitor)
    assert client.get("/api/v1/cases").status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    boss = api_client(admin)
    if end == "revoke":
        response = client.delete(f"/api/v1/me/tokens/{_token(app, client.token).id}")
    elif end == "deactivate_user":
        response = boss.post(f"/api/v1/users/{monitor.id}/deactivate")
    elif end == "deactivate_organisation":
        response = boss.post(f"/api/v1/organisations/{monitor.organisation_id}/deactivate")
    else:
        response = boss.post(f"/api/v1/users/{monitor.id}/reset-password")
    assert response.status_code == 200, response.get_json()
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/cases").status_code == 401


def test_a_token_is_refused_once_its_row_says_so_without_any_operation(app, api_client, monitor):
    # Written behind the application's back (another process, a script): seen at once.
    client = api_client(monitor)
    assert client.get("/api/v1/me").status_code == 200
    with app.app_context():
        db.session.get(User, monitor.id).is_active = False
        db.session.commit()
    assert client.get("/api/v1/me").status_code == 401
    with app.app_context():
        db.session.get(User, monitor.id).is_active = True
        token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(client.token)))
        token.revoked_dt = token.created_dt
        db.session.commit()
    assert client.get("/api/v1/me").status_code == 401
