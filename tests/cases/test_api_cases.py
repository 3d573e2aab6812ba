"""The cases API: who lists, reads, opens and moves cases, and what each role is shown."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event

from monitoring.accounts.models import OrganisationKind
from monitoring.cases import operations
from monitoring.cases.models import ActionState, Case, CaseState, Finding
from monitoring.core.db import db
from tests.cases.helpers import CaseWorld
from tests.testimony.monitor_helpers import make_report

API = "/api/v1"
ROLES = (
    "coordinator",
    "monitor",
    "other_monitor",
    "affiliate",
    "affiliate_b",
    "supplier",
    "supplier_y",
    "admin",
)
SEES_CASE = {"coordinator", "monitor", "affiliate", "supplier"}
OPENED = datetime(2027, 3, 1, 9, tzinfo=UTC)


@contextmanager
def counting(app: Flask) -> Iterator[list[int]]:
    """Count SELECTs but the web session's (as tests/supplychain/test_query_counts.py does)."""
    engine = db.state(app).engine
    count = [0]

    def before(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM web_session" not in statement:
            count[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def scene(case_world, create_organisation):
    """A case at the site with a priority finding of 3 workers (report-linked) and an action to X.

    A third affiliate's contract also reaches the site, so affiliate A has one other affiliate.
    """
    w = case_world
    third = create_organisation(OrganisationKind.affiliate, name="Third Buyer")
    w.orgs["affiliate_c"] = third.id
    w.registry.contract(third.id, w.orgs["supplier_x"], [w.products["laptop"]])
    report = make_report(w.app, w.monitor, country="CN")
    finding = w.finding(severity="priority", workers_affected=3, report_ids=[report])
    case_id = w.case(findings=[finding], lead="coordinator2")
    action = w.action(case_id, finding_id=finding)
    return w, case_id, finding, action, report


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_and_reads_only_the_cases_it_may(scene, api_client, role):
    w, case_id, *_ = scene
    client = api_client(w.users[role])
    listing = client.get(f"{API}/cases")
    detail = client.get(f"{API}/cases/{case_id}")
    if role == "admin":
        assert (listing.status_code, detail.status_code) == (404, 404)
        return
    assert listing.status_code == 200
    listed = [item["id"] for item in listing.get_json()["items"]]
    assert (case_id in listed) is (role in SEES_CASE)
    assert detail.status_code == (200 if role in SEES_CASE else 404)
    assert client.get(f"{API}/cases/{case_id}/timeline").status_code == detail.status_code
    assert client.get(f"{API}/cases/{case_id}/messages").status_code == detail.status_code
    assert client.get(f"{API}/cases/999999").status_code == 404


def test_what_each_role_is_shown_of_a_case(scene, api_client):
    w, case_id, finding, action, report = scene

    def detail(role: str) -> dict:
        response = api_client(w.users[role]).get(f"{API}/cases/{case_id}")
        assert response.status_code == 200
        return response.get_json()

    staff = detail("coordinator")
    assert re.fullmatch(r"C-\d{4}-\d{4}", staff["reference"])
    assert (staff["state"], staff["severity"], staff["site"]["id"]) == ("in_dialogue", "priority", w.site)
    assert staff["lead_coordinator"] == {"id": w.coordinator2.id, "name": w.coordinator2.name}
    assert staff["monitor_organisation"]["id"] == w.orgs["monitors"]
    assert {o["id"] for o in staff["affiliates"]["organisations"]} == {
        w.orgs["affiliate_a"],
        w.orgs["affiliate_c"],
    }
    assert staff["affiliates"]["others"] is None
    assert [s["id"] for s in staff["suppliers"]] == [w.orgs["supplier_x"]]
    [shown] = staff["findings"]
    assert shown["id"] == finding and "summary" in shown and "report_ids" not in shown
    assert shown["workers_affected"] == 3
    assert [a["id"] for a in staff["actions"]] == [action]
    assert staff["actions"][0]["phase"] == "plan"
    assert staff["next_due_date"] == staff["actions"][0]["due_date"]
    assert staff["overdue"] is False
    assert staff["closures"] == []
    assert "start_remediation" in staff["transitions"]

    monitor = detail("monitor")
    assert monitor["findings"][0]["report_ids"] == [report]
    assert "start_remediation" not in monitor["transitions"]  # coordinators only

    buyer = detail("affiliate")
    assert [o["id"] for o in buyer["affiliates"]["organisations"]] == [w.orgs["affiliate_a"]]
    assert buyer["affiliates"]["others"] == 1
    assert "suppliers" not in buyer
    [shown] = buyer["findings"]
    assert "summary" in shown and "report_ids" not in shown
    assert (shown["workers_affected"], shown["workers_affected_suppressed"]) == (None, True)
    assert buyer["transitions"] == []
    assert buyer["lead_coordinator"]["id"] == w.coordinator2.id

    supplier = detail("supplier")
    assert {"id", "reference", "site", "state"} <= set(supplier)
    assert not {"affiliates", "suppliers", "closures", "severity", "monitor_organisation"} & set(supplier)
    assert not {"lead_coordinator", "next_due_date", "overdue"} & set(supplier)
    [shown] = supplier["findings"]
    assert not {"summary", "report_ids"} & set(shown)
    assert (shown["standard"], shown["severity"]) == ("FL-1", "priority")
    assert [a["id"] for a in supplier["actions"]] == [action]


def test_suppliers_see_only_their_own_actions_on_a_case(scene, api_client):
    w, case_id, finding, action, _report = scene
    w.registry.contract(w.orgs["affiliate_a"], w.orgs["supplier_y"], [w.products["laptop"]])
    other = w.action(case_id, supplier="supplier_y", finding_id=finding)
    x = api_client(w.supplier).get(f"{API}/cases/{case_id}").get_json()
    y = api_client(w.supplier_y).get(f"{API}/cases/{case_id}").get_json()
    assert [a["id"] for a in x["actions"]] == [action]
    assert [a["id"] for a in y["actions"]] == [other]
    both = api_client(w.coordinator).get(f"{API}/cases/{case_id}").get_json()
    assert [a["id"] for a in both["actions"]] == [action, other]


# --- opening and changing -------------------------------------------------------------------


def test_monitor_opens_a_case_for_its_organisation(case_world, api_client):
    w = case_world
    findings = [w.finding(severity="minor"), w.finding(severity="major")]
    client = api_client(w.monitor)
    response = client.post(f"{API}/cases", json={"site_id": w.site, "finding_ids": findings})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["state"], body["severity"]) == ("open", "major")
    assert [f["id"] for f in body["findings"]] == findings
    assert body["monitor_organisation"]["id"] == w.orgs["monitors"]
    assert body["transitions"] == ["start_dialogue"]
    with w.app.app_context():
        assert {f.case_id for f in db.session.query(Finding).filter(Finding.id.in_(findings))} == {body["id"]}


def test_coordinator_opens_a_case_with_a_lead(case_world, api_client):
    w = case_world
    finding = w.finding()
    response = api_client(w.coordinator).post(
        f"{API}/cases",
        json={"site_id": w.site, "finding_ids": [finding], "lead_coordinator_id": w.coordinator2.id},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["lead_coordinator"]["id"] == w.coordinator2.id


@pytest.mark.parametrize("role", ["affiliate", "supplier", "admin"])
def test_buyers_suppliers_and_admins_cannot_open_cases(case_world, api_client, role):
    w = case_world
    finding = w.finding()
    client = api_client(w.users[role])
    before = w.counts()
    response = client.post(f"{API}/cases", json={"site_id": w.site, "finding_ids": [finding]})
    assert response.status_code == 404
    assert w.counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"finding_ids": []}, "finding_ids"),
        ({"finding_ids": "1"}, "finding_ids"),
        ({"site_id": "here"}, "site_id"),
        ({"lead_coordinator_id": 999999}, "lead_coordinator_id"),
        ({"monitor_organisation_id": 999999}, "monitor_organisation_id"),
        ({"priority": True}, "priority"),
    ],
)
def test_opening_refuses_bad_input_by_field(case_world, api_client, body, field):
    w = case_world
    finding = w.finding()
    client = api_client(w.coordinator)
    before = w.counts()
    response = client.post(f"{API}/cases", json={"site_id": w.site, "finding_ids": [finding], **body})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == [field]
    assert w.counts() == before


def test_opening_refuses_findings_of_another_site_or_organisation(case_world, api_client):
    w = case_world
    elsewhere = w.finding(site_id=w.other_site)
    theirs = w.finding(by="other_monitor")
    client = api_client(w.monitor)
    for finding in (elsewhere, theirs):
        response = client.post(f"{API}/cases", json={"site_id": w.site, "finding_ids": [finding]})
        assert response.status_code == 422
        assert list(response.get_json()["error"]["errors"]) == ["finding_ids"]


def test_case_transitions_through_the_api(case_world, api_client):
    w = case_world
    case_id = w.case()
    coordinator, monitor = api_client(w.coordinator), api_client(w.monitor)
    url = f"{API}/cases/{case_id}/transitions"
    response = monitor.post(url, json={"name": "start_dialogue"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "in_dialogue"
    # The guard: no corrective action yet.
    response = coordinator.post(url, json={"name": "start_remediation"})
    assert response.status_code == 422
    assert "corrective action" in response.get_json()["error"]["message"]
    assert w.get(Case, case_id).state is CaseState.in_dialogue
    response = coordinator.post(url, json={"name": "close"})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["name"]
    action = w.action(case_id)
    assert coordinator.post(url, json={"name": "start_remediation"}).get_json()["state"] == "remediation"
    w.advance_action(action, ActionState.implemented)
    assert monitor.post(url, json={"name": "start_verification"}).get_json()["state"] == "verification"
    response = monitor.post(url, json={"name": "resume_remediation"})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["reason"]
    response = monitor.post(
        url, json={"name": "resume_remediation", "reason": "Workers say fees are still due."}
    )
    assert response.get_json()["state"] == "remediation"


@pytest.mark.parametrize("role", ["other_monitor", "affiliate", "affiliate_b", "supplier", "admin"])
def test_others_cannot_move_a_case(case_world, api_client, role):
    w = case_world
    case_id = w.case()
    client = api_client(w.users[role])
    response = client.post(f"{API}/cases/{case_id}/transitions", json={"name": "start_dialogue"})
    assert response.status_code == 404
    assert w.get(Case, case_id).state is CaseState.open


def test_setting_the_lead(case_world, api_client):
    w = case_world
    case_id = w.case()
    client = api_client(w.coordinator)
    url = f"{API}/cases/{case_id}/lead"
    response = client.put(url, json={"coordinator_id": w.coordinator2.id})
    assert response.status_code == 200
    assert response.get_json()["lead_coordinator"]["id"] == w.coordinator2.id
    response = client.put(url, json={"coordinator_id": w.monitor.id})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["coordinator_id"]
    response = client.put(url, json={"coordinator_id": None})
    assert response.get_json()["lead_coordinator"] is None
    assert client.put(url, json={}).status_code == 422
    assert api_client(w.monitor).put(url, json={"coordinator_id": w.coordinator.id}).status_code == 404
    assert w.get(Case, case_id).lead_coordinator_id is None


def test_adding_findings(case_world, api_client):
    w = case_world
    case_id = w.case()
    extra = w.finding(severity="priority", standard="HS-1")
    response = api_client(w.monitor).post(f"{API}/cases/{case_id}/findings", json={"finding_ids": [extra]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert extra in [f["id"] for f in body["findings"]]
    assert body["severity"] == "priority"
    response = api_client(w.affiliate).post(f"{API}/cases/{case_id}/findings", json={"finding_ids": [extra]})
    assert response.status_code == 404


def test_closing_and_reopening(case_world, api_client):
    w = case_world
    case_id = w.case(findings=[w.finding(severity="priority", workers_affected=4)])
    w.advance_case(case_id, CaseState.verification)
    for action in w.actions_of(case_id):
        w.advance_action(action, ActionState.closed)
    monitor = api_client(w.monitor)
    url = f"{API}/cases/{case_id}/closure"
    remedy = {"kind": "fees_repaid", "amount": "1250.50", "currency": "usd", "workers_covered": 4}
    # A priority case needs the confirmation that the workers were consulted.
    response = monitor.post(url, json={"outcome": "resolved", "remedies": [remedy]})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["workers_consulted"]
    assert api_client(w.coordinator).post(url, json={"outcome": "resolved"}).status_code == 404
    assert api_client(w.other_monitor).post(url, json={"outcome": "resolved"}).status_code == 404
    response = monitor.post(
        url,
        json={
            "outcome": "resolved",
            "note": "Every worker was repaid.",
            "remedies": [remedy, {"kind": "passports_returned", "workers_covered": 12}],
            "workers_consulted": True,
            "no_validation_reason": "The workers were interviewed offsite; none holds a receipt.",
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["state"], body["outcome"]) == ("closed", "resolved")
    [closure] = body["closures"]
    assert closure["workers_consulted"] is True
    assert closure["remedies"][0] == {
        "kind": "fees_repaid",
        "amount": "1250.50",
        "currency": "USD",
        "workers_covered": 4,
        "workers_covered_suppressed": False,
        "description": None,
    }
    # Buyers see the remedy, with worker counts below 5 suppressed; suppliers do not.
    buyer = api_client(w.affiliate).get(f"{API}/cases/{case_id}").get_json()
    assert [
        (r["workers_covered"], r["workers_covered_suppressed"]) for r in buyer["closures"][0]["remedies"]
    ] == [
        (None, True),
        (12, False),
    ]
    assert "closures" not in api_client(w.supplier).get(f"{API}/cases/{case_id}").get_json()

    reopen = f"{API}/cases/{case_id}/reopen"
    response = monitor.post(reopen, json={})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["reason"]
    assert api_client(w.affiliate).post(reopen, json={"reason": "x"}).status_code == 404
    response = api_client(w.coordinator).post(reopen, json={"reason": "Workers report new fees."})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["state"], body["outcome"]) == ("in_dialogue", None)
    assert body["closures"][0]["reopen_reason"] == "Workers report new fees."


@pytest.mark.parametrize(
    ("remedy", "errors"),
    [
        ({"kind": "fees_repaid"}, {"amount"}),
        ({"kind": "back_pay", "amount": "10.00"}, {"currency"}),
        ({"kind": "other", "currency": "EUR"}, {"amount"}),
        ({"kind": "other", "amount": "-5", "currency": "EUR"}, {"amount"}),
        ({"kind": "other", "currency": "EURO", "amount": "5"}, {"currency"}),
        ({"kind": "refund"}, {"kind"}),
        ({"kind": "other", "workers_covered": -1}, {"workers_covered"}),
    ],
)
def test_closure_refuses_bad_remedies_by_field(case_world, api_client, remedy, errors):
    w = case_world
    case_id = w.case()
    w.advance_case(case_id, CaseState.verification)
    for action in w.actions_of(case_id):
        w.advance_action(action, ActionState.closed)
    client = api_client(w.monitor)
    before = w.counts()
    response = client.post(
        f"{API}/cases/{case_id}/closure", json={"outcome": "resolved", "remedies": [remedy]}
    )
    assert response.status_code == 422
    # Nested fields are named by their path: remedies.0.amount.
    assert set(response.get_json()["error"]["errors"]) == {f"remedies.0.{field}" for field in errors}
    assert w.get(Case, case_id).state is CaseState.verification
    assert w.counts() == before


def test_timeline_is_filtered_by_role(scene, api_client):
    w, case_id, _finding, action, _report = scene
    for body, visibility, extra in (
        ("Internal: the agent in Kathmandu.", "internal", {}),
        ("Buyers: raise it at the review.", "buyers", {}),
        ("Parties: X, please answer.", "parties", {"supplier_id": w.orgs["supplier_x"]}),
    ):
        response = api_client(w.coordinator).post(
            f"{API}/cases/{case_id}/messages", json={"visibility": visibility, "body": body, **extra}
        )
        assert response.status_code == 201, response.get_json()

    def timeline(role: str) -> list[dict]:
        response = api_client(w.users[role]).get(f"{API}/cases/{case_id}/timeline")
        assert response.status_code == 200
        return response.get_json()

    def messages(items: list[dict]) -> list[str]:
        return [i["message"]["visibility"] for i in items if i["kind"] == "message"]

    staff = timeline("coordinator")
    assert messages(staff) == ["internal", "buyers", "parties"]
    assert {i["event"]["kind"] for i in staff if i["kind"] == "event"} >= {"case_opened", "action_requested"}
    [deadline] = [i for i in staff if i["kind"] == "deadline"]
    assert deadline["deadline"]["action_id"] == action and deadline["deadline"]["phase"] == "plan"
    assert [i["dt"] for i in staff] == sorted(i["dt"] for i in staff)
    assert messages(timeline("affiliate")) == ["buyers", "parties"]
    supplier = timeline("supplier")
    assert messages(supplier) == ["parties"]
    assert {i["event"]["visibility"] for i in supplier if i["kind"] == "event"} <= {"parties"}
    assert "Kathmandu" not in str(supplier) + str(timeline("affiliate"))


# --- filters, deadlines, pagination and query counts --------------------------------------------


@pytest.fixture
def board(case_world):
    """Cases in different states, severities, countries and standards, opened on 1 March 2027."""
    w = case_world
    with time_machine.travel(OPENED, tick=False):
        ids = {
            "open": w.case(),
            "priority": w.case(findings=[w.finding(severity="priority", standard="HS-1")]),
            "thai": w.case(
                findings=[w.finding(site_id=w.other_site, severity="minor", standard="WH-2")],
                site_id=w.other_site,
            ),
            "late": w.case(findings=[w.finding(standard="WB-1")]),
        }
        w.action(ids["late"], plan_due_date=date(2027, 3, 5))
    return w, ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"open", "priority", "thai", "late"}),
        ("state=in_dialogue", {"late"}),
        ("state=open", {"open", "priority", "thai"}),
        ("severity=priority", {"priority"}),
        ("country=TH", {"thai"}),
        ("country=cn", {"open", "priority", "late"}),
        ("category=HS", {"priority"}),
        ("category=FL", {"open"}),
        ("overdue=true", {"late"}),
        ("overdue=false", {"open", "priority", "thai"}),
    ],
)
def test_case_filters(board, api_client, query, expected):
    w, ids = board
    client = api_client(w.coordinator)
    with time_machine.travel(datetime(2027, 3, 6, 10, tzinfo=UTC), tick=False):
        response = client.get(f"{API}/cases?{query}")
    assert response.status_code == 200, response.get_json()
    names = {
        name for name, case_id in ids.items() if case_id in {i["id"] for i in response.get_json()["items"]}
    }
    assert names == expected


def test_next_deadline_and_overdue_follow_the_clock(board, api_client):
    w, ids = board
    client = api_client(w.affiliate)
    for day, overdue in ((4, False), (5, False), (6, True)):
        with time_machine.travel(datetime(2027, 3, day, 10, tzinfo=UTC), tick=False):
            items = {i["id"]: i for i in client.get(f"{API}/cases").get_json()["items"]}
        late = items[ids["late"]]
        assert (late["next_due_date"], late["overdue"]) == ("2027-03-05", overdue)
        assert (items[ids["open"]]["next_due_date"], items[ids["open"]]["overdue"]) == (None, False)
    assert ids["thai"] not in items  # affiliate A's contracts do not reach the Thai site


@pytest.mark.parametrize(
    "query",
    ["state=lost", "severity=high", "overdue=maybe", "country=CHN", "category=XX", "limit=0", "colour=red"],
)
def test_bad_filters_are_refused_by_field(case_world, api_client, query):
    response = api_client(case_world.coordinator).get(f"{API}/cases?{query}")
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == [query.split("=")[0]]


def test_cases_are_paginated_newest_first(case_world, api_client):
    w = case_world
    ids = [w.case() for _ in range(5)]
    client = api_client(w.monitor)
    seen: list[int] = []
    url = f"{API}/cases?limit=2"
    while url:
        body = client.get(url).get_json()
        seen += [item["id"] for item in body["items"]]
        url = f"{API}/cases?limit=2&after={body['next']}" if body["next"] else ""
    assert seen == sorted(ids, reverse=True)


def grow(w: CaseWorld, count: int) -> None:
    """Add cases with two findings (one report-linked), an action and a lead each."""
    for n in range(count):
        report = make_report(w.app, w.monitor, country="CN")
        findings = [w.finding(report_ids=[report], workers_affected=n), w.finding(standard="WH-1")]
        case_id = w.case(findings=findings, lead="coordinator2" if n % 2 else None)
        w.action(case_id, finding_id=findings[0])


def test_lists_run_a_bounded_number_of_queries(case_world, api_client):
    w = case_world
    clients = {
        role: api_client(w.users[role]) for role in ("coordinator", "monitor", "affiliate", "supplier")
    }
    urls = [f"{API}/cases", f"{API}/findings", f"{API}/actions", f"{API}/cases?overdue=false&category=FL"]

    def measure() -> dict[str, int]:
        counts = {}
        for role, client in clients.items():
            for url in urls:
                with counting(w.app) as count:
                    response = client.get(url)
                assert response.status_code == 200, (role, url)
                counts[f"{role} {url}"] = count[0]
        return counts

    grow(w, 2)
    small = measure()
    grow(w, 18)
    large = measure()
    assert large == small
    # The data did grow into the lists.
    assert len(clients["affiliate"].get(f"{API}/cases").get_json()["items"]) == 20
    assert len(clients["supplier"].get(f"{API}/actions").get_json()["items"]) == 20
    assert len(clients["monitor"].get(f"{API}/findings").get_json()["items"]) == 40


def test_the_case_page_runs_a_bounded_number_of_queries(case_world, api_client):
    w = case_world
    findings = [w.finding(report_ids=[make_report(w.app, w.monitor, country="CN")])]
    case_id = w.case(findings=findings)
    w.action(case_id, finding_id=findings[0])
    clients = {
        role: api_client(w.users[role]) for role in ("coordinator", "monitor", "affiliate", "supplier")
    }
    clients["coordinator"].post(
        f"{API}/cases/{case_id}/messages", json={"visibility": "buyers", "body": "First."}
    )

    def measure() -> dict[str, int]:
        counts = {}
        for role, client in clients.items():
            for url in (
                f"{API}/cases/{case_id}",
                f"{API}/cases/{case_id}/timeline",
                f"{API}/cases/{case_id}/messages",
                f"{API}/actions?case_id={case_id}",
            ):
                with counting(w.app) as count:
                    assert client.get(url).status_code == 200
                counts[f"{role} {url}"] = count[0]
        return counts

    small = measure()
    for n in range(9):
        finding = w.finding(report_ids=[make_report(w.app, w.monitor, country="CN")], standard="WH-1")
        with w.session():
            operations.add_findings(w.user("monitor"), db.session.get(Case, case_id), [finding])
        w.action(case_id, finding_id=finding)
        api_client(w.coordinator).post(
            f"{API}/cases/{case_id}/messages", json={"visibility": "buyers", "body": f"Update {n}."}
        )
    large = measure()
    assert large == small
    assert len(clients["affiliate"].get(f"{API}/cases/{case_id}").get_json()["findings"]) == 10


def test_admin_gets_404_everywhere(scene, api_client):
    w, case_id, finding, action, _report = scene
    client = api_client(w.admin)
    for url in (
        "/cases",
        f"/cases/{case_id}",
        f"/cases/{case_id}/timeline",
        f"/cases/{case_id}/messages",
        "/findings",
        f"/findings/{finding}",
        "/actions",
        f"/actions/{action}",
        "/standards",
    ):
        assert client.get(f"{API}{url}").status_code == 404, url
    assert (
        client.post(
            f"{API}/cases/{case_id}/messages", json={"visibility": "internal", "body": "x"}
        ).status_code
        == 404
    )
    assert client.post(f"{API}/cases/{case_id}/reopen", json={"reason": "x"}).status_code == 404
