"""The notifications API: own list with pages, unread count, mark read, 404 for others'."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from monitoring.accounts.models import User, UserRole
from monitoring.core.db import db
from monitoring.notifications.models import Notification, NotificationKind
from tests.cases.helpers import CaseWorld
from tests.notifications.helpers import queue

PARAMS = {"reference": "C-2026-0042", "site": "Assembly Plant Shenzhen", "supplier": "Acme Electronics"}


def read_dt(app: Flask, notification_id: int) -> Any:
    with app.app_context():
        return db.session.get(Notification, notification_id).read_dt


@pytest.mark.parametrize("role", [r.value for r in UserRole])
def test_list_count_and_read_all_for_every_role(
    app: Flask, create_user: Callable[..., User], api_client: Any, role: str
) -> None:
    user, other = create_user(role), create_user(role)
    mine = [queue(app, [user, other], NotificationKind.case_opened, params=PARAMS)[0] for _ in range(3)]
    (theirs,) = queue(app, [other], NotificationKind.case_closed, params=PARAMS)
    client = api_client(user)

    listed = client.get("/api/v1/notifications").get_json()
    assert [item["id"] for item in listed["items"]] == mine[::-1] and listed["next"] is None
    assert client.get("/api/v1/notifications/unread-count").get_json() == {"unread": 3}

    response = client.post("/api/v1/notifications/read-all")
    assert response.status_code == 200 and response.get_json() == {"marked": 3}
    assert client.get("/api/v1/notifications/unread-count").get_json() == {"unread": 0}
    assert read_dt(app, theirs) is None
    assert client.post("/api/v1/notifications/read-all").get_json() == {"marked": 0}


def test_item_fields_and_language(app: Flask, create_user: Callable[..., User], api_client: Any) -> None:
    user = create_user(UserRole.supplier, locale="sv")
    queue(
        app,
        [user],
        NotificationKind.deadline_reminder,
        params={**PARAMS, "phase": "plan", "due_date": "2026-03-05"},
    )
    (item,) = api_client(user).get("/api/v1/notifications").get_json()["items"]
    assert item["kind"] == "deadline_reminder" and item["read_dt"] is None
    assert item["case_id"] is None and item["action_id"] is None and item["url"] == "/notifications/"
    assert item["params"]["reference"] == "C-2026-0042" and item["mail_state"] == "pending"
    # The text is in the user's language: Swedish dates.
    assert "C-2026-0042" in item["text"] and "5 mars 2026" in item["text"]
    assert item["title"]


def test_pages_and_unread_filter(app: Flask, monitor: User, api_client: Any) -> None:
    ids = [queue(app, [monitor], NotificationKind.case_opened, params=PARAMS)[0] for _ in range(5)]
    client = api_client(monitor)
    client.post(f"/api/v1/notifications/{ids[0]}/read")
    first = client.get("/api/v1/notifications?limit=2").get_json()
    assert [i["id"] for i in first["items"]] == [ids[4], ids[3]] and first["next"]
    second = client.get(f"/api/v1/notifications?limit=2&after={first['next']}").get_json()
    assert [i["id"] for i in second["items"]] == [ids[2], ids[1]]
    unread = client.get("/api/v1/notifications?unread=true").get_json()
    assert [i["id"] for i in unread["items"]] == ids[:0:-1]
    read = client.get("/api/v1/notifications?unread=false").get_json()
    assert [i["id"] for i in read["items"]] == [ids[0]]
    bad = client.get("/api/v1/notifications?after=not-a-cursor")
    assert bad.status_code == 422 and "after" in bad.get_json()["error"]["errors"]
    assert client.get("/api/v1/notifications?colour=red").status_code == 422


def test_mark_one_read(app: Flask, case_world: CaseWorld, api_client: Any) -> None:
    case_id = case_world.case()
    action_id = case_world.action(case_id)
    client = api_client(case_world.supplier)
    (item,) = client.get("/api/v1/notifications?unread=true").get_json()["items"]
    assert item["kind"] == "action_requested" and item["url"] == f"/actions/{action_id}"
    assert item["case_id"] == case_id

    response = client.post(f"/api/v1/notifications/{item['id']}/read")

    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == item["id"] and body["read_dt"] is not None
    assert read_dt(app, item["id"]) is not None


def test_someone_elses_notification_is_missing(
    app: Flask, create_user: Callable[..., User], api_client: Any
) -> None:
    owner, intruder = create_user(UserRole.coordinator), create_user(UserRole.coordinator)
    (notification_id,) = queue(app, [owner], NotificationKind.case_opened, params=PARAMS)
    client = api_client(intruder)
    assert client.post(f"/api/v1/notifications/{notification_id}/read").status_code == 404
    assert client.post("/api/v1/notifications/999999999/read").status_code == 404
    assert read_dt(app, notification_id) is None
    assert client.get("/api/v1/notifications").get_json()["items"] == []


def test_needs_a_token(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.get("/api/v1/notifications/unread-count").status_code == 401
    assert client.post("/api/v1/notifications/read-all").status_code == 401


def test_openapi_describes_the_routes(app: Flask) -> None:
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/notifications"]) == {"get"}
    assert set(paths["/api/v1/notifications/unread-count"]) == {"get"}
    assert set(paths["/api/v1/notifications/{notification_id}/read"]) == {"parameters", "post"}
    assert set(paths["/api/v1/notifications/read-all"]) == {"post"}
