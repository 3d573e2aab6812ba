"""Your own account and API tokens, for every role."""

from __future__ import annotations

from sqlalchemy import select

from monitoring.accounts.models import ApiToken
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db


def test_me_for_every_role(app, api_client, any_role_user):
    response = api_client(any_role_user).get("/api/v1/me")
    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "id": any_role_user.id,
        "email": any_role_user.email,
        "name": any_role_user.name,
        "role": any_role_user.role.value,
        "organisation": {
            "id": any_role_user.organisation.id,
            "name": any_role_user.organisation.name,
            "kind": any_role_user.organisation.kind.value,
        },
        "locale": None,
        "time_zone": "UTC",  # the test organisations have no country
        "must_change_password": False,
    }


def test_me_refuses_query_arguments(app, api_client, monitor):
    response = api_client(monitor).get("/api/v1/me?debug=1")
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["debug"]


def test_create_list_and_revoke_tokens(app, api_client, any_role_user):
    client = api_client(any_role_user)
    response = client.post("/api/v1/me/tokens", json={"name": "  nightly   sync "})
    assert response.status_code == 201
    body = response.get_json()
    secret = body["secret"]
    assert secret.startswith("mon_")
    assert body["token"]["name"] == "nightly sync"
    assert body["token"]["prefix"] == secret[:12]
    assert body["token"]["is_active"] is True
    assert "token_hash" not in body["token"]

    # The new token works on its own.
    other = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert other.status_code == 200

    listing = client.get("/api/v1/me/tokens").get_json()
    assert listing["next"] is None
    names = [t["name"] for t in listing["items"]]
    assert names == ["nightly sync", "test"]  # newest first
    assert all("secret" not in t and "token_hash" not in t for t in listing["items"])

    revoked = client.delete(f"/api/v1/me/tokens/{body['token']['id']}")
    assert revoked.status_code == 200
    assert revoked.get_json()["is_active"] is False
    assert revoked.get_json()["revoked_dt"] is not None
    assert (
        app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )

    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == any_role_user.id).order_by(AuditEntry.id)
        ).all()
    assert actions[-2:] == ["token.create", "token.revoke"]


def test_tokens_of_others_are_invisible(app, api_client, monitor, admin):
    theirs = api_client(monitor)
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == monitor.id))
    # Not even an admin revokes another user's token through /me.
    response = api_client(admin).delete(f"/api/v1/me/tokens/{token_id}")
    assert response.status_code == 404
    assert theirs.get("/api/v1/me").status_code == 200
    ids = [t["id"] for t in api_client(admin).get("/api/v1/me/tokens").get_json()["items"]]
    assert token_id not in ids


def test_create_token_needs_a_name(app, api_client, monitor):
    client = api_client(monitor)
    with app.app_context():
        before = db.session.query(ApiToken).count()
    for body, field in [({}, "name"), ({"name": ""}, "name"), ({"name": "x", "scope": "all"}, "scope")]:
        response = client.post("/api/v1/me/tokens", json=body)
        assert response.status_code == 422, body
        assert list(response.get_json()["error"]["errors"]) == [field]
    response = client.post("/api/v1/me/tokens", json={"name": "   "})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["name"]
    with app.app_context():
        assert db.session.query(ApiToken).count() == before


def test_token_pagination(app, api_client, monitor):
    client = api_client(monitor)
    for i in range(4):
        assert client.post("/api/v1/me/tokens", json={"name": f"t{i}"}).status_code == 201
    first = client.get("/api/v1/me/tokens?limit=2").get_json()
    second = client.get(f"/api/v1/me/tokens?limit=2&after={first['next']}").get_json()
    third = client.get(f"/api/v1/me/tokens?limit=2&after={second['next']}").get_json()
    names = [t["name"] for page in (first, second, third) for t in page["items"]]
    assert names == ["t3", "t2", "t1", "t0", "test"]
    assert third["next"] is None
