"""The dialogue API: who writes and reads which messages, with encrypted attachments."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from monitoring.cases.models import CaseFile, CaseMessage, CaseState
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.testimony.monitor_helpers import PDF, PNG

API = "/api/v1"


@pytest.fixture
def dialogue(case_world):
    """A case at the site with actions to supplier X and supplier Y (Y now supplies A's contract too)."""
    w = case_world
    w.registry.contract(w.orgs["affiliate_a"], w.orgs["supplier_y"], [w.products["laptop"]])
    case_id = w.case()
    w.action(case_id)
    w.action(case_id, supplier="supplier_y")
    return w, case_id


def _post(client, case_id: int, **json):
    return client.post(f"{API}/cases/{case_id}/messages", json=json)


def test_each_role_writes_to_the_readers_it_may(dialogue, api_client):
    w, case_id = dialogue
    x, y = w.orgs["supplier_x"], w.orgs["supplier_y"]
    allowed = [
        ("coordinator", {"visibility": "internal"}),
        ("monitor", {"visibility": "buyers"}),
        ("coordinator", {"visibility": "parties", "supplier_id": x}),
        ("affiliate", {"visibility": "buyers"}),
        ("affiliate", {"visibility": "parties", "supplier_id": y}),
        ("supplier", {"visibility": "parties"}),
        ("supplier", {"visibility": "parties", "supplier_id": x}),
    ]
    for role, json in allowed:
        response = _post(api_client(w.users[role]), case_id, body=f"From {role}.", **json)
        assert response.status_code == 201, (role, json, response.get_json())
        body = response.get_json()
        assert body["visibility"] == json["visibility"]
        assert body["author"] == {
            "id": w.users[role].id,
            "name": w.users[role].name,
            "organisation": body["author"]["organisation"],
        }
        assert body["author"]["organisation"]["id"] == w.users[role].organisation_id
        assert "email" not in body["author"]
        if json["visibility"] == "parties":
            assert body["supplier"]["id"] == json.get("supplier_id", x)
    refused = [
        ("affiliate", {"visibility": "internal"}, "visibility"),
        ("supplier", {"visibility": "buyers"}, "visibility"),
        ("supplier", {"visibility": "parties", "supplier_id": y}, "supplier_id"),
        ("coordinator", {"visibility": "parties"}, "supplier_id"),
        ("coordinator", {"visibility": "parties", "supplier_id": w.orgs["affiliate_a"]}, "supplier_id"),
        ("coordinator", {"visibility": "everyone"}, "visibility"),
        ("coordinator", {"visibility": "internal", "urgent": True}, "urgent"),
        ("coordinator", {"visibility": "internal", "body": ""}, "body"),
    ]
    for role, json, field in refused:
        client = api_client(w.users[role])
        before = w.counts()
        response = _post(client, case_id, **{"body": "Refused.", **json})
        assert response.status_code == 422, (role, json)
        assert list(response.get_json()["error"]["errors"]) == [field], (role, json)
        assert w.counts() == before


@pytest.mark.parametrize("role", ["other_monitor", "affiliate_b", "admin"])
def test_outsiders_cannot_read_or_write(dialogue, api_client, role):
    w, case_id = dialogue
    client = api_client(w.users[role])
    assert client.get(f"{API}/cases/{case_id}/messages").status_code == 404
    assert _post(client, case_id, visibility="buyers", body="Hello").status_code == 404


def test_a_supplier_without_an_action_on_the_case_cannot_see_it(case_world, api_client):
    w = case_world
    case_id = w.case()
    w.action(case_id)
    client = api_client(w.supplier_y)
    assert client.get(f"{API}/cases/{case_id}/messages").status_code == 404
    assert _post(client, case_id, visibility="parties", body="Hello").status_code == 404


def test_each_role_reads_only_its_messages(dialogue, api_client):
    w, case_id = dialogue
    x, y = w.orgs["supplier_x"], w.orgs["supplier_y"]
    coordinator = api_client(w.coordinator)
    posted = {
        "internal": _post(coordinator, case_id, visibility="internal", body="Internal.").get_json()["id"],
        "buyers": _post(coordinator, case_id, visibility="buyers", body="Buyers.").get_json()["id"],
        "to_x": _post(coordinator, case_id, visibility="parties", supplier_id=x, body="To X.").get_json()[
            "id"
        ],
        "to_y": _post(coordinator, case_id, visibility="parties", supplier_id=y, body="To Y.").get_json()[
            "id"
        ],
        "from_x": _post(api_client(w.supplier), case_id, visibility="parties", body="From X.").get_json()[
            "id"
        ],
    }
    expected = {
        "coordinator": set(posted),
        "monitor": set(posted),
        "affiliate": {"buyers", "to_x", "to_y", "from_x"},
        "supplier": {"to_x", "from_x"},
        "supplier_y": {"to_y"},
    }
    for role, names in expected.items():
        response = api_client(w.users[role]).get(f"{API}/cases/{case_id}/messages")
        assert response.status_code == 200
        items = response.get_json()["items"]
        assert {i["id"] for i in items} == {posted[n] for n in names}, role
        # Newest first.
        assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
        if role.startswith("supplier"):
            assert "Internal." not in str(items) and "Buyers." not in str(items)


def test_messages_are_paginated(dialogue, api_client):
    w, case_id = dialogue
    client = api_client(w.monitor)
    ids = [_post(client, case_id, visibility="buyers", body=f"Note {n}.").get_json()["id"] for n in range(5)]
    seen: list[int] = []
    url = f"{API}/cases/{case_id}/messages?limit=2"
    while url:
        body = client.get(url).get_json()
        seen += [i["id"] for i in body["items"]]
        url = f"{API}/cases/{case_id}/messages?limit=2&after={body['next']}" if body["next"] else ""
    assert seen == sorted(ids, reverse=True)


@pytest.mark.parametrize("path", ["messages", "messages/with-files"])
def test_a_message_with_files(dialogue, api_client, path):
    w, case_id = dialogue
    response = api_client(w.supplier).post(
        f"{API}/cases/{case_id}/{path}",
        data={
            "visibility": "parties",
            "body": "Our payroll records and a photo of the notice.",
            "files": [(io.BytesIO(PDF), "payroll.pdf"), (io.BytesIO(PNG), "notice.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [(f["name"], f["content_type"], f["size"]) for f in body["attachments"]] == [
        ("payroll.pdf", "application/pdf", len(PDF)),
        ("notice.png", "image/png", len(PNG)),
    ]
    pdf_id = body["attachments"][0]["id"]
    url = f"{API}/cases/{case_id}/files/{pdf_id}"
    for role in ("coordinator", "monitor", "affiliate", "supplier"):
        download = api_client(w.users[role]).get(url)
        assert download.status_code == 200, role
        assert download.data == PDF
        assert download.headers["Content-Type"] == "application/pdf"
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Content-Security-Policy"] == "sandbox"
        assert download.headers["Content-Disposition"].startswith("attachment;")
    # Supplier Y does not read X's dialogue, so not its files either; nobody outside the case does.
    for role in ("supplier_y", "affiliate_b", "other_monitor", "admin"):
        assert api_client(w.users[role]).get(url).status_code == 404, role
    assert api_client(w.coordinator).get(f"{API}/cases/{case_id}/files/999999").status_code == 404
    # Every reading is audited; the name and the content are stored encrypted.
    with w.app.app_context():
        readers = db.session.scalars(
            select(AuditEntry.actor_id).where(
                AuditEntry.action == "case_file.open", AuditEntry.object_id == str(pdf_id)
            )
        ).all()
        assert sorted(readers) == sorted(
            w.users[r].id for r in ("coordinator", "monitor", "affiliate", "supplier")
        )
        stored = db.session.get(CaseFile, pdf_id)
        assert b"payroll" not in stored.name_ct
        assert stored.message_id == body["id"]


def test_internal_attachments_stay_internal(dialogue, api_client):
    w, case_id = dialogue
    response = api_client(w.monitor).post(
        f"{API}/cases/{case_id}/messages",
        data={"visibility": "internal", "body": "Interview notes.", "files": (io.BytesIO(PDF), "notes.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    file_id = response.get_json()["attachments"][0]["id"]
    assert api_client(w.coordinator).get(f"{API}/cases/{case_id}/files/{file_id}").status_code == 200
    for role in ("affiliate", "supplier"):
        assert api_client(w.users[role]).get(f"{API}/cases/{case_id}/files/{file_id}").status_code == 404


def test_file_refusals(dialogue, api_client):
    w, case_id = dialogue
    client = api_client(w.coordinator)
    before = w.counts()
    response = client.post(
        f"{API}/cases/{case_id}/messages",
        data={
            "visibility": "buyers",
            "body": "Script.",
            "files": (io.BytesIO(b"#!/bin/sh\nrm -rf /"), "run.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["files"]
    response = client.post(
        f"{API}/cases/{case_id}/messages",
        data={"visibility": "buyers", "body": "x", "attachment": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["attachment"]
    response = client.post(
        f"{API}/cases/{case_id}/messages/with-files", json={"visibility": "buyers", "body": "x"}
    )
    assert response.status_code == 400
    response = client.post(
        f"{API}/cases/{case_id}/messages", json={"visibility": "buyers", "body": "x", "files": ["a.pdf"]}
    )
    assert list(response.get_json()["error"]["errors"]) == ["files"]
    assert w.counts() == before
    with w.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CaseMessage)) == 0
        assert db.session.scalar(select(func.count()).select_from(CaseFile)) == 0


def test_messages_may_still_be_posted_on_a_closed_case(case_world, api_client):
    w = case_world
    case_id = w.case()
    w.advance_case(case_id, CaseState.closed)
    response = _post(api_client(w.affiliate), case_id, visibility="buyers", body="Thank you all.")
    assert response.status_code == 201
