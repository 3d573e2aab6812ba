"""API of keys and access, and API tokens with and without the user's key."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from monitoring.accounts import keys
from monitoring.accounts.models import ApiToken, Organisation, User, UserRole
from monitoring.core.auth import hash_token
from monitoring.core.db import db
from tests.conftest import RECOVERY_CODES, post_form

STATUS = "/api/v1/me/keys"
_TOKEN = re.compile(r'<code class="token">([^<]+)</code>')


def _fingerprint(app, user):
    with app.app_context():
        return keys.fingerprint(db.session.get(User, user.id).public_key)


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("role", ["admin", "affiliate", "supplier"])
def test_other_roles_get_404(app, create_user, api_client, monitor_with_keys, role):
    client = api_client(create_user(role), unlocked=True)
    assert client.get(STATUS).status_code == 404
    assert client.get(f"{STATUS}/colleagues").status_code == 404
    assert client.post(f"{STATUS}/organisation-key").status_code == 404
    assert (
        client.post(
            f"{STATUS}/grants", json={"user_id": monitor_with_keys.id, "fingerprint": "x"}
        ).status_code
        == 404
    )
    assert client.post(f"{STATUS}/recover", json={"recovery_code": "x"}).status_code == 404


def test_coordinator_sees_their_status_only(app, coordinator, api_client):
    client = api_client(coordinator)
    body = client.get(STATUS).get_json()
    assert body["has_keys"] is True and body["fingerprint"] == _fingerprint(app, coordinator)
    assert body["versions"] == [] and body["organisation_has_key"] is False
    assert client.get(f"{STATUS}/colleagues").status_code == 404
    assert client.post(f"{STATUS}/recover", json={"recovery_code": "x"}).status_code == 404


def test_status_with_a_token_without_key_and_with_one(app, monitor_with_keys, api_client):
    locked = api_client(monitor_with_keys).get(STATUS).get_json()
    assert locked["unlocked"] is False and locked["has_access"] is True
    unlocked = api_client(monitor_with_keys, unlocked=True).get(STATUS).get_json()
    assert unlocked["unlocked"] is True
    assert [v["version"] for v in unlocked["versions"]] == [1]
    assert unlocked["versions"][0]["members_with_access"] == 1


def test_a_token_made_on_the_account_page_carries_the_key(app, monitor_with_keys, client_for, create_user):
    client = client_for(monitor_with_keys)
    response = post_form(client, "/account/tokens", {"name": "script"}, form_page="/account")
    assert response.status_code == 302
    token = html.unescape(_TOKEN.search(client.get("/account").get_data(as_text=True)).group(1))
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
        assert row.private_key_wrapped is not None
        assert token.encode() not in row.private_key_wrapped
    api = app.test_client()
    assert api.get(STATUS, headers=_bearer(token)).get_json()["unlocked"] is True
    # It can grant a colleague access.
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    response = api.post(
        f"{STATUS}/grants",
        json={"user_id": colleague.id, "fingerprint": _fingerprint(app, colleague)},
        headers=_bearer(token),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    # When and how the key was made is shown next to its fingerprint.
    assert body.pop("key_created_dt")
    assert body == {
        "id": colleague.id,
        "name": colleague.name,
        "email": colleague.email,
        "fingerprint": _fingerprint(app, colleague),
        "key_origin": "own_password",
        "key_origin_text": "by the member on setting their own password",
        "has_access": True,
    }
    # A token made through the API with this one carries the key too.
    made = api.post("/api/v1/me/tokens", json={"name": "child"}, headers=_bearer(token)).get_json()
    assert api.get(STATUS, headers=_bearer(made["secret"])).get_json()["unlocked"] is True
    # Revoked, it opens nothing any more and its copy of the key is gone.
    assert api.delete(f"/api/v1/me/tokens/{made['token']['id']}", headers=_bearer(token)).status_code == 200
    with app.app_context():
        assert db.session.get(ApiToken, made["token"]["id"]).private_key_wrapped is None


def test_a_token_made_while_locked_gets_a_clear_error(app, monitor_with_keys, create_user, api_client):
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    client = api_client(monitor_with_keys)
    response = client.post(
        f"{STATUS}/grants", json={"user_id": colleague.id, "fingerprint": _fingerprint(app, colleague)}
    )
    assert response.status_code == 403
    assert "token cannot open sealed data" in response.get_json()["error"]["message"]
    assert api_client(colleague).get(STATUS).get_json()["has_access"] is False


def test_a_token_of_another_user_does_not_open_someone_elses_key(app, monitor_with_keys, api_client):
    """The wrapped key is bound to its token: copying it onto another token opens nothing."""
    good = api_client(monitor_with_keys, unlocked=True)
    other = api_client(monitor_with_keys)
    with app.app_context():
        rows = db.session.scalars(
            select(ApiToken).where(ApiToken.token_hash.in_([hash_token(good.token), hash_token(other.token)]))
        ).all()
        wrapped = next(r.private_key_wrapped for r in rows if r.private_key_wrapped)
        target = next(r for r in rows if r.private_key_wrapped is None)
        target.private_key_wrapped = wrapped
        db.session.commit()
    assert other.get(STATUS).get_json()["unlocked"] is False


def test_create_the_organisation_key_through_the_api(app, monitor, api_client):
    assert api_client(monitor).post(f"{STATUS}/organisation-key").status_code == 403
    client = api_client(monitor, unlocked=True)
    response = client.post(f"{STATUS}/organisation-key")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["version"]["version"] == 1 and body["version"]["has_access"] is True
    code = body["recovery_code"]
    assert keys.parse_recovery_code(code)
    again = client.post(f"{STATUS}/organisation-key")
    assert again.status_code == 422
    assert client.get(STATUS).get_json()["has_access"] is True


def test_colleagues_list_is_paginated_and_filtered(
    app, monitor_with_keys, create_user, api_client, grant_keys
):
    colleagues = [
        create_user(UserRole.monitor, organisation=monitor_with_keys.organisation) for _ in range(3)
    ]
    grant_keys(colleagues[0])
    create_user(UserRole.monitor)  # elsewhere: never listed
    client = api_client(monitor_with_keys)
    first = client.get(f"{STATUS}/colleagues?limit=2").get_json()
    assert len(first["items"]) == 2 and first["next"]
    second = client.get(f"{STATUS}/colleagues?limit=2&after={first['next']}").get_json()
    assert second["next"] is None
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert ids == sorted(c.id for c in colleagues)
    waiting = client.get(f"{STATUS}/colleagues?waiting=true").get_json()["items"]
    assert [c["id"] for c in waiting] == [colleagues[1].id, colleagues[2].id]
    assert all(c["has_access"] is False and c["fingerprint"] for c in waiting)
    granted = client.get(f"{STATUS}/colleagues?waiting=false").get_json()["items"]
    assert [(c["id"], c["has_access"]) for c in granted] == [(colleagues[0].id, True)]


def test_grant_refusals(app, monitor_with_keys, create_user, api_client):
    client = api_client(monitor_with_keys, unlocked=True)
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    outsider = create_user(UserRole.monitor)
    response = client.post(f"{STATUS}/grants", json={"user_id": colleague.id, "fingerprint": "0000"})
    assert response.status_code == 422 and response.get_json()["error"]["message"]
    assert (
        client.post(f"{STATUS}/grants", json={"user_id": outsider.id, "fingerprint": "x"}).status_code == 404
    )
    assert (
        client.post(
            f"{STATUS}/grants", json={"user_id": monitor_with_keys.id, "fingerprint": "x"}
        ).status_code
        == 404
    )
    assert client.post(f"{STATUS}/grants", json={"user_id": colleague.id}).status_code == 422
    assert (
        client.post(f"{STATUS}/grants", json={"user_id": "1", "fingerprint": "x", "extra": 1}).status_code
        == 422
    )


def test_recover_through_the_api(app, monitor_with_keys, create_user, api_client):
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    client = api_client(colleague)
    response = client.post(f"{STATUS}/recover", json={"recovery_code": "ABCD-EFGH"})
    assert response.status_code == 422
    assert "recovery_code" in response.get_json()["error"]["errors"]
    code = RECOVERY_CODES[monitor_with_keys.organisation_id]
    response = client.post(f"{STATUS}/recover", json={"recovery_code": code})
    assert response.status_code == 200 and response.get_json()["has_access"] is True
    with app.app_context():
        org = db.session.get(Organisation, monitor_with_keys.organisation_id)
        assert keys.current_organisation_key(org) is not None


def test_openapi_lists_the_key_routes(app):
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        STATUS,
        f"{STATUS}/colleagues",
        f"{STATUS}/organisation-key",
        f"{STATUS}/grants",
        f"{STATUS}/recover",
    ):
        assert path in paths
