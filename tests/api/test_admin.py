"""Administration API: organisations, users and the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitoring.accounts.models import Organisation, User
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db

ADMIN_REQUESTS = [
    ("get", "/api/v1/organisations", None),
    ("post", "/api/v1/organisations", {"name": "Nope", "kind": "monitor"}),
    ("get", "/api/v1/organisations/{org}", None),
    ("post", "/api/v1/organisations/{org}/deactivate", None),
    ("post", "/api/v1/organisations/{org}/activate", None),
    ("get", "/api/v1/users", None),
    (
        "post",
        "/api/v1/users",
        {"email": "n@example.org", "name": "N", "role": "monitor", "organisation_id": 1},
    ),
    ("get", "/api/v1/users/{user}", None),
    ("post", "/api/v1/users/{user}/deactivate", None),
    ("post", "/api/v1/users/{user}/activate", None),
    ("post", "/api/v1/users/{user}/reset-password", None),
    ("get", "/api/v1/audit", None),
]


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _audit_count(app):
    return _count(app, AuditEntry)


@pytest.mark.parametrize("role", ["coordinator", "monitor", "affiliate", "supplier"])
@pytest.mark.parametrize(("method", "url", "body"), ADMIN_REQUESTS)
def test_admin_endpoints_are_404_for_other_roles(app, api_client, create_user, role, method, url, body):
    user = create_user(role)
    client = api_client(user)
    before = _audit_count(app)
    url = url.format(org=user.organisation_id, user=user.id)
    response = getattr(client, method)(url, json=body) if body else getattr(client, method)(url)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == 404
    assert _audit_count(app) == before


@pytest.mark.parametrize(("method", "url", "body"), ADMIN_REQUESTS)
def test_admin_endpoints_are_401_without_token(app, method, url, body):
    client = app.test_client()
    url = url.format(org=1, user=1)
    response = getattr(client, method)(url, json=body)
    assert response.status_code == 401


# --- organisations ------------------------------------------------------------------------------


def test_create_get_and_deactivate_organisation(app, api_client, admin):
    client = api_client(admin)
    response = client.post("/api/v1/organisations", json={"name": "Fair Labour  Lab", "kind": "monitor"})
    assert response.status_code == 201
    org = response.get_json()
    assert org["name"] == "Fair Labour Lab"
    assert org["kind"] == "monitor"
    assert org["is_active"] is True
    assert org["country"] is None

    assert client.get(f"/api/v1/organisations/{org['id']}").get_json() == org

    response = client.post(f"/api/v1/organisations/{org['id']}/deactivate")
    assert response.status_code == 200
    assert response.get_json()["is_active"] is False
    response = client.post(f"/api/v1/organisations/{org['id']}/activate")
    assert response.get_json()["is_active"] is True

    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "organisation", AuditEntry.object_id == str(org["id"]))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["organisation.create", "organisation.deactivate", "organisation.activate"]


def test_missing_organisation_is_404(app, api_client, admin):
    client = api_client(admin)
    assert client.get("/api/v1/organisations/999999").status_code == 404
    assert client.post("/api/v1/organisations/999999/deactivate").status_code == 404


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"kind": "monitor"}, {"name"}),
        ({"name": "X"}, {"kind"}),
        ({"name": "X", "kind": "monitor", "colour": "red"}, {"colour"}),
        ({"name": "X", "kind": "cartel"}, {"kind"}),
        ({"name": 5, "kind": "monitor"}, {"name"}),
        ({"name": "X", "kind": "monitor", "country": "Sweden"}, {"country"}),
        ({"name": "", "kind": "monitor", "is_active": False}, {"name", "is_active"}),
    ],
)
def test_bad_organisation_input_is_422_and_writes_nothing(app, api_client, admin, body, fields):
    client = api_client(admin)
    before = (_count(app, Organisation), _audit_count(app))
    response = client.post("/api/v1/organisations", json=body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == 422
    assert error["message"]
    assert set(error["errors"]) == fields
    assert all(isinstance(m, str) and m for msgs in error["errors"].values() for m in msgs)
    assert (_count(app, Organisation), _audit_count(app)) == before


def test_input_messages_are_ours(app, api_client, admin):
    response = api_client(admin).post("/api/v1/organisations", json={"kind": "cartel", "extra": 1})
    errors = response.get_json()["error"]["errors"]
    assert errors["name"] == ["This field is required."]
    assert errors["extra"] == ["This field is not allowed here."]
    assert errors["kind"][0].startswith("Must be one of: ")


def test_duplicate_organisation_is_422_on_name(app, api_client, admin):
    client = api_client(admin)
    assert client.post("/api/v1/organisations", json={"name": "Twice", "kind": "supplier"}).status_code == 201
    before = _audit_count(app)
    response = client.post("/api/v1/organisations", json={"name": "twice", "kind": "supplier"})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["name"]
    assert _audit_count(app) == before


def test_body_must_be_a_json_object(app, api_client, admin):
    client = api_client(admin)
    response = client.post("/api/v1/organisations", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == 400
    response = client.post("/api/v1/organisations", json=["a", "b"])
    assert response.status_code == 422


def test_actions_without_input_refuse_a_body(app, api_client, admin, monitor):
    response = api_client(admin).post(f"/api/v1/users/{monitor.id}/deactivate", json={"really": True})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["really"]
    with app.app_context():
        assert db.session.get(User, monitor.id).is_active is True


def test_organisation_pagination(app, api_client, admin, create_organisation):
    made = {create_organisation("supplier", name=f"Paged supplier {i}").id for i in range(7)}
    client = api_client(admin)
    seen, after, pages = [], None, 0
    while True:
        url = "/api/v1/organisations?kind=supplier&limit=3" + (f"&after={after}" if after else "")
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_json()
        assert len(body["items"]) <= 3
        seen += [o["id"] for o in body["items"] if o["name"].startswith("Paged supplier")]
        pages += 1
        after = body["next"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == made
    assert pages >= 3


def test_pagination_arguments_are_checked(app, api_client, admin):
    client = api_client(admin)
    for query, field in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=x", "limit"),
        ("after=!!", "after"),
    ]:
        response = client.get(f"/api/v1/organisations?{query}")
        assert response.status_code == 422, query
        assert list(response.get_json()["error"]["errors"]) == [field]


def test_organisation_filters(app, api_client, admin, create_organisation):
    active = create_organisation("affiliate", name="Filter buyer active")
    inactive = create_organisation("affiliate", name="Filter buyer inactive")
    client = api_client(admin)
    assert client.post(f"/api/v1/organisations/{inactive.id}/deactivate").status_code == 200
    items = client.get("/api/v1/organisations?kind=affiliate&is_active=false&limit=200").get_json()["items"]
    ids = {o["id"] for o in items}
    assert inactive.id in ids and active.id not in ids
    assert all(o["kind"] == "affiliate" and not o["is_active"] for o in items)


# --- users --------------------------------------------------------------------------------------


def test_create_user_without_password_returns_a_temporary_one(app, api_client, admin, create_organisation):
    org = create_organisation("monitor")
    client = api_client(admin)
    response = client.post(
        "/api/v1/users",
        json={
            "email": "New.Person@Example.org",
            "name": "New Person",
            "role": "monitor",
            "organisation_id": org.id,
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    temporary = body["temporary_password"]
    assert temporary and len(temporary) >= 12
    user = body["user"]
    assert user["email"] == "new.person@example.org"
    assert user["role"] == "monitor"
    assert user["organisation"]["id"] == org.id
    assert user["must_change_password"] is True
    assert "password" not in user and "password_hash" not in user

    from monitoring.accounts.operations import check_password

    with app.app_context():
        assert check_password(db.session.get(User, user["id"]), temporary)

    assert client.get(f"/api/v1/users/{user['id']}").get_json() == user


def test_create_user_with_password(app, api_client, admin, create_organisation):
    org = create_organisation("supplier")
    response = api_client(admin).post(
        "/api/v1/users",
        json={
            "email": "s@example.org",
            "name": "S",
            "role": "supplier",
            "organisation_id": org.id,
            "password": "a long enough password",
            "locale": "th",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["temporary_password"] is None
    assert body["user"]["locale"] == "th"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"role": "king"}, "role"),
        ({"organisation_id": 999999}, "organisation_id"),
        ({"organisation_id": "1"}, "organisation_id"),
        ({"role": "supplier"}, "organisation_id"),  # a supplier in a monitoring organisation
        ({"password": "short"}, "password"),
        ({"locale": "xx"}, "locale"),
        ({"password_hash": "x"}, "password_hash"),
    ],
)
def test_bad_user_input_is_422_and_writes_nothing(app, api_client, admin, create_organisation, change, field):
    org = create_organisation("monitor")
    body = {"email": "u@example.org", "name": "U", "role": "monitor", "organisation_id": org.id, **change}
    client = api_client(admin)
    before = (_count(app, User), _audit_count(app))
    response = client.post("/api/v1/users", json=body)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == [field]
    assert (_count(app, User), _audit_count(app)) == before


def test_duplicate_email_is_422(app, api_client, admin, monitor):
    response = api_client(admin).post(
        "/api/v1/users",
        json={
            "email": monitor.email,
            "name": "Again",
            "role": "monitor",
            "organisation_id": monitor.organisation_id,
        },
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["email"]


def test_deactivate_activate_and_reset_password(app, api_client, admin, monitor):
    client = api_client(admin)
    theirs = api_client(monitor)
    response = client.post(f"/api/v1/users/{monitor.id}/deactivate")
    assert response.status_code == 200
    assert response.get_json()["is_active"] is False
    assert response.get_json()["deactivated_dt"] is not None
    assert theirs.get("/api/v1/me").status_code == 401

    response = client.post(f"/api/v1/users/{monitor.id}/activate")
    assert response.get_json()["is_active"] is True
    # Deactivation revoked the tokens for good.
    assert theirs.get("/api/v1/me").status_code == 401

    response = client.post(f"/api/v1/users/{monitor.id}/reset-password")
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["must_change_password"] is True
    from monitoring.accounts.operations import check_password

    with app.app_context():
        assert check_password(db.session.get(User, monitor.id), body["temporary_password"])


def test_admin_cannot_deactivate_themselves(app, api_client, admin):
    response = api_client(admin).post(f"/api/v1/users/{admin.id}/deactivate")
    assert response.status_code == 422
    assert response.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.get(User, admin.id).is_active is True


def test_missing_user_is_404(app, api_client, admin):
    client = api_client(admin)
    assert client.get("/api/v1/users/999999").status_code == 404
    assert client.post("/api/v1/users/999999/reset-password").status_code == 404


def test_user_listing_and_filters(app, api_client, admin, create_user):
    made = [create_user("affiliate").id for _ in range(5)]
    client = api_client(admin)
    seen, after = [], None
    while True:
        body = client.get(
            "/api/v1/users?role=affiliate&limit=2" + (f"&after={after}" if after else "")
        ).get_json()
        seen += [u["id"] for u in body["items"]]
        assert all(u["role"] == "affiliate" for u in body["items"])
        assert all("password_hash" not in u for u in body["items"])
        after = body["next"]
        if after is None:
            break
    assert len(seen) == len(set(seen))
    assert set(made) <= set(seen)
    emails = [u["email"] for u in client.get("/api/v1/users?limit=200").get_json()["items"]]
    assert emails == sorted(emails)


# --- audit log ----------------------------------------------------------------------------------


def test_audit_log_newest_first_with_filters(app, api_client, admin, create_organisation):
    client = api_client(admin)
    ids = []
    for i in range(5):
        response = client.post("/api/v1/organisations", json={"name": f"Audited {i}", "kind": "monitor"})
        ids.append(response.get_json()["id"])

    seen, after = [], None
    while True:
        url = f"/api/v1/audit?action=organisation.create&actor_id={admin.id}&limit=2"
        body = client.get(url + (f"&after={after}" if after else "")).get_json()
        seen += body["items"]
        after = body["next"]
        if after is None:
            break
    assert [int(e["object_id"]) for e in seen] == list(reversed(ids))
    entry = seen[0]
    assert entry["actor"] == {"id": admin.id, "email": admin.email, "name": admin.name}
    assert entry["data"]["name"] == "Audited 4"
    assert entry["summary"] and entry["hash"] and entry["prev_hash"]

    one = client.get(f"/api/v1/audit?object_type=organisation&object_id={ids[2]}").get_json()["items"]
    assert [e["object_id"] for e in one] == [str(ids[2])]

    since = seen[-1]["created_dt"]
    until = seen[1]["created_dt"]
    ranged = client.get(
        "/api/v1/audit", query_string={"action": "organisation.create", "since": since, "until": until}
    ).get_json()["items"]
    assert [int(e["object_id"]) for e in ranged] == list(reversed(ids[:4]))


def test_audit_time_range_is_checked(app, api_client, admin):
    client = api_client(admin)
    response = client.get(
        "/api/v1/audit", query_string={"since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"}
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["until"]
    response = client.get("/api/v1/audit?since=yesterday")
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["since"]


def _queries_for(app, client, url):
    from sqlalchemy import event

    statements = []

    def before(conn, cursor, statement, *args):
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    with app.app_context():
        engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("url", ["/api/v1/users", "/api/v1/organisations", "/api/v1/audit"])
def test_list_pages_run_a_bounded_number_of_queries(app, api_client, admin, create_user, url):
    for _ in range(6):
        create_user("supplier")
    client = api_client(admin)
    client.get("/api/v1/me")  # record the token's use now, so no list request writes it
    small = _queries_for(app, client, f"{url}?limit=1")
    large = _queries_for(app, client, f"{url}?limit=20")
    assert small == large <= 4
