"""Contract follow-up meetings: recorded with actions, seen by the buyer, the supplier and coordinators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases.models import ContractMeeting
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form

Clients = Callable[[User], FlaskClient]

MEETING = {
    "meeting_date": "2026-11-10",
    "participants": "Procurement officer; supplier's CSR manager",
    "notes": "Overtime at the assembly site discussed.",
    "actions": [
        {"text": "Publish the overtime policy", "due_date": "2026-12-15"},
        {"text": "Share the audit plan", "due_date": "2027-01-31"},
    ],
}


def test_the_buyer_records_a_meeting_that_the_supplier_reads(
    case_world: CaseWorld, client_for: Clients, api_client: Any
) -> None:
    w = case_world
    url = f"/api/v1/contracts/{w.contracts['a']}/meetings"
    response = api_client(w.affiliate).post(url, json=MEETING)
    assert response.status_code == 201, response.get_json()
    meeting = response.get_json()
    assert [(a["position"], a["text"], a["due_date"]) for a in meeting["actions"]] == [
        (1, "Publish the overtime policy", "2026-12-15"),
        (2, "Share the audit plan", "2027-01-31"),
    ]
    for user in (w.affiliate, w.supplier, w.coordinator):
        listed = api_client(user).get(url).get_json()["meetings"]
        assert [m["id"] for m in listed] == [meeting["id"]]
        assert listed[0]["notes"] == MEETING["notes"]
        page = client_for(user).get(f"/contracts/{w.contracts['a']}/meetings")
        assert page.status_code == 200
        assert "Share the audit plan" in page.get_data(as_text=True)
    with w.session():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "meeting.record"))
        assert entry is not None and entry.data_dict["actions"] == 2
    contract_page = client_for(w.supplier).get(f"/contracts/{w.contracts['a']}").get_data(as_text=True)
    assert f"/contracts/{w.contracts['a']}/meetings" in contract_page


def test_the_page_form_records_a_meeting(case_world: CaseWorld, client_for: Clients) -> None:
    w = case_world
    client = client_for(w.coordinator)
    url = f"/contracts/{w.contracts['a']}/meetings/new"
    assert client.get(url).status_code == 200
    data = {
        "meeting_date": "2026-11-10",
        "participants": "Both sides",
        "actions-0-text": "Pay back recruitment fees",
        "actions-0-due_date": "2027-02-01",
    }
    saved = post_form(client, url, data, form_page=url)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with w.session():
        meeting = db.session.scalar(select(ContractMeeting))
        assert meeting is not None and meeting.notes is None
        assert [(a.text, str(a.due_date)) for a in meeting.actions] == [
            ("Pay back recruitment fees", "2027-02-01")
        ]


@pytest.mark.parametrize(
    ("change", "form"),
    [
        ({"participants": "  "}, {"participants": "  "}),
        ({"meeting_date": "2099-01-01"}, {"meeting_date": "2099-01-01"}),
        ({"meeting_date": "soon"}, {"meeting_date": "soon"}),
        (
            {"actions": [{"text": "Fix it", "due_date": "2026-01-01"}]},  # due before the meeting
            {"actions-0-text": "Fix it", "actions-0-due_date": "2026-01-01"},
        ),
        ({"actions": [{"text": "Fix it"}]}, {"actions-0-text": "Fix it"}),  # no due date
        ({"actions": [{"due_date": "2027-01-01"}]}, {"actions-0-due_date": "2027-01-01"}),  # no text
    ],
)
def test_bad_input_is_refused_on_the_page_and_the_api(
    case_world: CaseWorld, client_for: Clients, api_client: Any, change: dict[str, Any], form: dict[str, Any]
) -> None:
    w = case_world
    url = f"/api/v1/contracts/{w.contracts['a']}/meetings"
    response = api_client(w.affiliate).post(url, json={**MEETING, **change})
    assert response.status_code == 422, response.get_json()
    client = client_for(w.affiliate)
    page_url = f"/contracts/{w.contracts['a']}/meetings/new"
    data = {"meeting_date": "2026-11-10", "participants": "Both sides", **form}
    assert post_form(client, page_url, data, form_page=page_url).status_code == 422
    with w.session():
        assert db.session.scalar(select(ContractMeeting)) is None


def test_who_may_not_see_or_record_meetings(
    case_world: CaseWorld, client_for: Clients, api_client: Any
) -> None:
    w = case_world
    contract = w.contracts["a"]
    url, page = f"/api/v1/contracts/{contract}/meetings", f"/contracts/{contract}/meetings"
    assert api_client(w.coordinator).post(url, json=MEETING).status_code == 201
    # Another buyer, another supplier, monitors and administrators: 404.
    for user in (w.affiliate_b, w.supplier_y, w.monitor, w.admin):
        assert api_client(user).get(url).status_code == 404
        assert client_for(user).get(page).status_code == 404
    # The supplier reads but does not record; nor do those who may not see.
    for user in (w.supplier, w.affiliate_b, w.monitor):
        assert api_client(user).post(url, json=MEETING).status_code == 404
        assert client_for(user).get(f"{page}/new").status_code == 404
    assert api_client(w.affiliate).get("/api/v1/contracts/999999/meetings").status_code == 404
    contract_page = client_for(w.monitor).get(f"/contracts/{contract}").get_data(as_text=True)
    assert page not in contract_page
