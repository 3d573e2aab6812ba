"""The API's case list is written straight from its columns (``output_schemas.case_list_items``):
for every role and every kind of case it is the JSON that ``CaseSchema`` dumps of what
``services_lists.case_briefs`` shows that role."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import time_machine

from monitoring.accounts.models import User
from monitoring.cases import permissions
from monitoring.cases import services_lists as lists
from monitoring.cases.models import CaseState
from monitoring.cases.output_schemas import CaseSchema, case_list_items
from monitoring.core.db import db
from monitoring.core.types import utcnow

ROLES = ("coordinator", "monitor", "other_monitor", "affiliate", "affiliate_b", "supplier", "supplier_y")


@pytest.fixture
def cases(case_world):
    """Cases of every kind: open without a lead, in dialogue with a lead and actions due (one
    overdue), closed with an outcome, and one at the other site."""
    w = case_world
    plain = w.case()
    led = w.case(lead="coordinator2", severity="priority")
    w.action(led, plan_due_date=date.today() + timedelta(days=2))  # overdue in the test's week
    closed = w.case()
    w.advance_case(closed, CaseState.closed)
    other = w.case(
        findings=[w.finding(site_id=w.other_site, by="other_monitor")],
        site_id=w.other_site,
        monitor_organisation_id=w.orgs["other_monitors"],
    )
    return w, [plain, led, closed, other]


@pytest.mark.parametrize("role", ROLES)
def test_the_items_are_what_the_schema_dumps_of_the_briefs(cases, api_client, role):
    w, ids = cases
    week_later = time_machine.travel(utcnow() + timedelta(days=7), tick=False)
    week_later.start()
    with w.app.test_request_context("/"):
        user = db.session.get(User, w.users[role].id)
        today = utcnow().date()
        rows = lists.case_brief_page(user, {"limit": 50}, today).items
        items = case_list_items(rows, today, people=permissions.sees_people(user))
        assert items == CaseSchema().dump(lists.case_briefs(user, rows, today), many=True)
    if role == "coordinator":
        assert {item["id"] for item in items} >= set(ids)
        assert any(item["closed_dt"] and item["outcome"] for item in items)
        assert any(item["lead_coordinator"] for item in items)
        assert any(item["overdue"] for item in items) and any(item["next_due_date"] for item in items)
    response = api_client(w.users[role]).get("/api/v1/cases?limit=50")
    assert response.status_code == 200
    assert response.get_json()["items"] == json.loads(json.dumps(items))
    week_later.stop()
