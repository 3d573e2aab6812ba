"""The corrective-actions API: the whole path of an action and a case, and who may take which step."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from monitoring.cases.models import ActionState, CaseState, CorrectiveAction
from monitoring.core.types import utcnow
from tests.testimony.monitor_helpers import PDF

API = "/api/v1"
PLAN = {
    "root_cause": "Agents in Nepal charge fees the factory does not know of.",
    "corrective": "Repay every fee in full.",
    "preventive": "Employer-pays clause in every agent contract.",
    "target_date": "2027-06-30",
}


def _state(w, action_id: int) -> ActionState:
    return w.get(CorrectiveAction, action_id).state


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_the_whole_path_through_the_api(case_world, api_client):
    w = case_world
    coordinator, monitor = api_client(w.coordinator), api_client(w.monitor)
    supplier, affiliate = api_client(w.supplier), api_client(w.affiliate)
    finding = w.finding(severity="priority", workers_affected=25)
    case_id = _ok(monitor.post(f"{API}/cases", json={"site_id": w.site, "finding_ids": [finding]}), 201)["id"]
    _ok(coordinator.post(f"{API}/cases/{case_id}/transitions", json={"name": "start_dialogue"}))

    # request
    action = _ok(
        coordinator.post(
            f"{API}/cases/{case_id}/actions",
            json={
                "finding_id": finding,
                "supplier_id": w.orgs["supplier_x"],
                "request": "Repay every recruitment fee.",
            },
        ),
        201,
    )
    action_id = action["id"]
    today = utcnow().date()
    assert (action["state"], action["phase"], action["severity"]) == ("requested", "plan", "priority")
    assert action["plan_due_date"] == (today + timedelta(days=7)).isoformat() == action["due_date"]
    assert action["closure_due_date"] == (today + timedelta(days=90)).isoformat()
    assert action["request"] == "Repay every recruitment fee."
    assert action["transitions"] == []  # the supplier's turn
    assert _ok(supplier.get(f"{API}/actions/{action_id}"))["transitions"] == ["submit_plan"]
    _ok(coordinator.post(f"{API}/cases/{case_id}/transitions", json={"name": "start_remediation"}))

    # plan → rejected → resubmitted → accepted
    body = _ok(supplier.post(f"{API}/actions/{action_id}/plan", json=PLAN), 201)
    assert body["state"] == "plan_submitted" and body["phase"] == "closure"
    assert [r["root_cause"] for r in body["responses"]] == [PLAN["root_cause"]]
    response = monitor.post(f"{API}/actions/{action_id}/decision", json={"accept": False})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["reason"]
    body = _ok(
        monitor.post(
            f"{API}/actions/{action_id}/decision",
            json={"accept": False, "reason": "Agency workers are left out."},
        )
    )
    assert body["state"] == "plan_rejected"
    assert (body["responses"][0]["accepted"], body["responses"][0]["rejection_reason"]) == (
        False,
        "Agency workers are left out.",
    )
    assert _ok(supplier.get(f"{API}/actions/{action_id}"))["responses"][0]["rejection_reason"] == (
        "Agency workers are left out."
    )
    body = _ok(
        supplier.post(
            f"{API}/actions/{action_id}/plan", json={**PLAN, "corrective": "Repay all, agency too."}
        ),
        201,
    )
    assert [r["accepted"] for r in body["responses"]] == [False, None]
    body = _ok(coordinator.post(f"{API}/actions/{action_id}/decision", json={"accept": True}))
    assert body["state"] == "plan_accepted" and body["responses"][1]["accepted"] is True

    # implemented with a file
    response = supplier.post(
        f"{API}/actions/{action_id}/implementation",
        data={
            "description": "All fees repaid; bank receipts attached.",
            "files": (io.BytesIO(PDF), "receipts.pdf"),
        },
        content_type="multipart/form-data",
    )
    body = _ok(response)
    assert body["state"] == "implemented"
    assert body["implementation"] == "All fees repaid; bank receipts attached."
    [evidence] = body["files"]
    assert (evidence["name"], evidence["content_type"], evidence["size"]) == (
        "receipts.pdf",
        "application/pdf",
        len(PDF),
    )
    download = affiliate.get(f"{API}/actions/{action_id}/files/{evidence['id']}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "sandbox"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "receipts.pdf" in download.headers["Content-Disposition"]
    assert (
        api_client(w.supplier_y).get(f"{API}/actions/{action_id}/files/{evidence['id']}").status_code == 404
    )
    assert (
        api_client(w.affiliate_b).get(f"{API}/actions/{action_id}/files/{evidence['id']}").status_code == 404
    )
    # The case's file route serves the action's evidence too, to whoever may read it.
    assert coordinator.get(f"{API}/cases/{case_id}/files/{evidence['id']}").data == PDF
    assert api_client(w.other_monitor).get(f"{API}/cases/{case_id}/files/{evidence['id']}").status_code == 404

    # verified → closed
    _ok(monitor.post(f"{API}/cases/{case_id}/transitions", json={"name": "start_verification"}))
    body = _ok(
        monitor.post(
            f"{API}/actions/{action_id}/verification",
            json={"verified": True, "note": "Twelve workers confirmed the repayment."},
        )
    )
    assert (body["state"], body["verification"]) == ("verified", "Twelve workers confirmed the repayment.")
    assert _ok(coordinator.post(f"{API}/actions/{action_id}/close"))["state"] == "closed"

    # case → closed with a remedy
    case = _ok(
        monitor.post(
            f"{API}/cases/{case_id}/closure",
            json={
                "outcome": "resolved",
                "remedies": [
                    {"kind": "fees_repaid", "amount": "30000.00", "currency": "USD", "workers_covered": 25},
                    {"kind": "passports_returned", "workers_covered": 25},
                ],
                "workers_consulted": True,
                "no_validation_reason": "Workers were interviewed offsite.",
            },
        )
    )
    assert (case["state"], case["outcome"]) == ("closed", "resolved")
    assert [r["kind"] for r in case["closures"][0]["remedies"]] == ["fees_repaid", "passports_returned"]
    assert [a["state"] for a in case["actions"]] == ["closed"]
    # A closed case's actions do not move any more.
    response = coordinator.post(f"{API}/actions/{action_id}/close")
    assert response.status_code == 422


@pytest.fixture
def requested(case_world):
    w = case_world
    case_id = w.case(findings=[w.finding(severity="major", workers_affected=2)])
    return w, case_id, w.action(case_id)


ACTION_READERS = {"coordinator", "monitor", "affiliate", "supplier"}


@pytest.mark.parametrize(
    "role",
    [
        "coordinator",
        "monitor",
        "other_monitor",
        "affiliate",
        "affiliate_b",
        "supplier",
        "supplier_y",
        "admin",
    ],
)
def test_each_role_reads_only_the_actions_it_may(requested, api_client, role):
    w, _case_id, action_id = requested
    client = api_client(w.users[role])
    response = client.get(f"{API}/actions/{action_id}")
    assert response.status_code == (200 if role in ACTION_READERS else 404)
    listing = client.get(f"{API}/actions")
    if role == "admin":
        assert listing.status_code == 404
        return
    assert (action_id in [a["id"] for a in listing.get_json()["items"]]) is (role in ACTION_READERS)
    if role not in ACTION_READERS:
        assert client.post(f"{API}/actions/{action_id}/plan", json=PLAN).status_code == 404
        return
    body = response.get_json()
    assert body["finding"]["workers_affected"] == (None if role in ("affiliate", "supplier") else 2)
    assert ("summary" in body["finding"]) is (role != "supplier")
    assert "report_ids" not in body["finding"] or role == "monitor"
    assert ("escalated_dt" in body) is (role in ("coordinator", "monitor"))


@pytest.mark.parametrize(
    ("role", "url", "json", "status"),
    [
        ("supplier", "decision", {"accept": True}, 404),
        ("affiliate", "decision", {"accept": True}, 404),
        ("other_monitor", "decision", {"accept": True}, 404),
        ("monitor", "plan", PLAN, 404),
        ("coordinator", "plan", PLAN, 404),
        ("affiliate", "plan", PLAN, 404),
        ("supplier", "verification", {"verified": True}, 404),
        ("coordinator", "verification", {"verified": True}, 404),
        ("supplier", "close", None, 404),
        ("affiliate", "close", None, 404),
        (
            "monitor",
            "deadlines",
            {"plan_due_date": "2030-01-01", "closure_due_date": "2030-02-01", "reason": "x"},
            404,
        ),
        # Allowed roles in the wrong state: refused with the reason.
        ("coordinator", "decision", {"accept": True}, 422),
        ("monitor", "verification", {"verified": True}, 422),
        ("coordinator", "close", None, 422),
    ],
)
def test_steps_out_of_turn_are_refused_and_change_nothing(requested, api_client, role, url, json, status):
    w, _case_id, action_id = requested
    client = api_client(w.users[role])
    before = w.counts()
    response = client.post(f"{API}/actions/{action_id}/{url}", json=json)
    if url == "deadlines":
        response = client.put(f"{API}/actions/{action_id}/{url}", json=json)
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert response.get_json()["error"]["message"]
    assert _state(w, action_id) is ActionState.requested
    assert w.counts() == before


def test_submitting_twice_is_refused(requested, api_client):
    w, _case_id, action_id = requested
    client = api_client(w.supplier)
    _ok(client.post(f"{API}/actions/{action_id}/plan", json=PLAN), 201)
    response = client.post(f"{API}/actions/{action_id}/plan", json=PLAN)
    assert response.status_code == 422
    assert "Plan submitted" in response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**PLAN, "root_cause": ""}, "root_cause"),
        ({key: value for key, value in PLAN.items() if key != "preventive"}, "preventive"),
        ({**PLAN, "target_date": "2001-01-01"}, "target_date"),
        ({**PLAN, "target_date": "soon"}, "target_date"),
        ({**PLAN, "budget": 100}, "budget"),
    ],
)
def test_plan_input_is_checked_by_field(requested, api_client, body, field):
    w, _case_id, action_id = requested
    response = api_client(w.supplier).post(f"{API}/actions/{action_id}/plan", json=body)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == [field]
    assert _state(w, action_id) is ActionState.requested


def test_implementation_input(requested, api_client):
    w, _case_id, action_id = requested
    w.advance_action(action_id, ActionState.plan_accepted)
    client = api_client(w.supplier)
    url = f"{API}/actions/{action_id}/implementation"
    response = client.post(
        url,
        data={"description": "Done.", "files": (io.BytesIO(b"just text"), "notes.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["files"]
    response = client.post(
        url, data={"files": (io.BytesIO(PDF), "a.pdf")}, content_type="multipart/form-data"
    )
    assert list(response.get_json()["error"]["errors"]) == ["description"]
    response = client.post(url, json={"description": "Done.", "files": []})
    assert list(response.get_json()["error"]["errors"]) == ["files"]
    assert _state(w, action_id) is ActionState.plan_accepted
    # A JSON body with the description alone is enough.
    body = _ok(client.post(url, json={"description": "Fees repaid, no documents."}))
    assert (body["state"], body["files"]) == ("implemented", [])


def test_implementation_over_the_size_limit_is_refused_unread(requested, api_client, app, monkeypatch):
    w, _case_id, action_id = requested
    w.advance_action(action_id, ActionState.plan_accepted)
    monkeypatch.setitem(app.config, "CASE_UPLOAD_MAX_BYTES", 10_000)
    limit = app.config["EVIDENCE_MAX_BYTES"]
    app.config["EVIDENCE_MAX_BYTES"] = 1000
    try:
        response = api_client(w.supplier).post(
            f"{API}/actions/{action_id}/implementation",
            data={"description": "Done.", "files": (io.BytesIO(PDF + b"0" * 400_000), "big.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 413
        assert "at most 10 files" in response.get_json()["error"]["message"]
        # Within the body's limit, a file over the size of one file is refused by the operation.
        response = api_client(w.supplier).post(
            f"{API}/actions/{action_id}/implementation",
            data={"description": "Done.", "files": (io.BytesIO(PDF + b"0" * 2000), "big.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422
        assert list(response.get_json()["error"]["errors"]) == ["files"]
    finally:
        app.config["EVIDENCE_MAX_BYTES"] = limit
    assert _state(w, action_id) is ActionState.plan_accepted


def test_verification_needs_a_note_when_refused(requested, api_client):
    w, _case_id, action_id = requested
    w.advance_action(action_id, ActionState.implemented)
    client = api_client(w.monitor)
    response = client.post(f"{API}/actions/{action_id}/verification", json={"verified": False})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["note"]
    body = _ok(
        client.post(
            f"{API}/actions/{action_id}/verification", json={"verified": False, "note": "Half was repaid."}
        )
    )
    assert (body["state"], body["verification"]) == ("not_verified", "Half was repaid.")
    assert _ok(api_client(w.supplier).get(f"{API}/actions/{action_id}"))["transitions"] == [
        "report_implemented"
    ]


def test_changing_deadlines(requested, api_client):
    w, _case_id, action_id = requested
    client = api_client(w.coordinator)
    url = f"{API}/actions/{action_id}/deadlines"
    today = utcnow().date()
    plan, closure = today + timedelta(days=30), today + timedelta(days=120)
    body = _ok(
        client.put(
            url,
            json={
                "plan_due_date": plan.isoformat(),
                "closure_due_date": closure.isoformat(),
                "reason": "The factory is closed for the New Year.",
            },
        )
    )
    assert (body["plan_due_date"], body["closure_due_date"], body["due_date"]) == (
        plan.isoformat(),
        closure.isoformat(),
        plan.isoformat(),
    )
    for json, field in (
        (
            {"plan_due_date": plan.isoformat(), "closure_due_date": (plan - timedelta(days=1)).isoformat()},
            "closure_due_date",
        ),
        (
            {
                "plan_due_date": plan.isoformat(),
                "closure_due_date": (today + timedelta(days=400)).isoformat(),
            },
            "closure_due_date",
        ),
        (
            {
                "plan_due_date": (today - timedelta(days=3)).isoformat(),
                "closure_due_date": closure.isoformat(),
            },
            "plan_due_date",
        ),
    ):
        response = client.put(url, json={**json, "reason": "Because."})
        assert response.status_code == 422
        assert list(response.get_json()["error"]["errors"]) == [field]
    response = client.put(
        url, json={"plan_due_date": plan.isoformat(), "closure_due_date": closure.isoformat()}
    )
    assert list(response.get_json()["error"]["errors"]) == ["reason"]
    assert w.get(CorrectiveAction, action_id).plan_due_date == plan


def test_requesting_refuses_bad_input_by_field(case_world, api_client):
    w = case_world
    asked, fresh = w.finding(), w.finding(standard="WH-1")
    case_id = w.case(findings=[asked, fresh])
    w.action(case_id, finding_id=asked)  # moves the case into dialogue
    loose = w.finding(standard="WH-2")  # in no case
    client = api_client(w.coordinator)
    url = f"{API}/cases/{case_id}/actions"
    base = {"finding_id": fresh, "supplier_id": w.orgs["supplier_x"], "request": "Repay the fees."}
    before = w.counts()
    for json, field in (
        ({**base, "finding_id": loose}, "finding_id"),
        ({**base, "supplier_id": w.orgs["supplier_y"]}, "supplier_id"),
        ({**base, "finding_id": asked}, "supplier_id"),  # X already has an open action on it
        ({**base, "request": ""}, "request"),
        ({**base, "plan_due_date": "2001-01-01"}, "plan_due_date"),
        ({**base, "deadline": "2030-01-01"}, "deadline"),
    ):
        response = client.post(url, json=json)
        assert response.status_code == 422, json
        assert list(response.get_json()["error"]["errors"]) == [field]
    assert w.counts() == before
    for role in ("monitor", "affiliate", "supplier", "admin"):
        assert api_client(w.users[role]).post(url, json=base).status_code == 404
    _ok(client.post(url, json=base), 201)


def test_action_list_filters_and_scoping(case_world, api_client):
    w = case_world
    opened = datetime(2027, 3, 1, 9, tzinfo=UTC)
    with time_machine.travel(opened, tick=False):
        first = w.case()
        late = w.action(first, plan_due_date=date(2027, 3, 5))
        second = w.case(findings=[w.finding(standard="WH-1")])
        w.registry.contract(w.orgs["affiliate_a"], w.orgs["supplier_y"], [w.products["laptop"]])
        other = w.action(second, supplier="supplier_y")
        done = w.action(second)
        w.advance_action(done, ActionState.implemented)
    coordinator, supplier = api_client(w.coordinator), api_client(w.supplier)

    def listed(client, query: str = "") -> dict[int, dict]:
        with time_machine.travel(datetime(2027, 3, 6, 9, tzinfo=UTC), tick=False):
            response = client.get(f"{API}/actions?{query}")
        assert response.status_code == 200, response.get_json()
        return {a["id"]: a for a in response.get_json()["items"]}

    assert set(listed(coordinator)) == {late, other, done}
    assert set(listed(supplier)) == {late, done}
    assert set(listed(api_client(w.supplier_y))) == {other}
    assert set(listed(coordinator, f"case_id={second}")) == {other, done}
    assert set(listed(coordinator, "state=implemented")) == {done}
    assert set(listed(coordinator, "overdue=true")) == {late}
    assert set(listed(coordinator, "overdue=false")) == {other, done}
    items = listed(supplier)
    assert (items[late]["due_date"], items[late]["phase"], items[late]["overdue"]) == (
        "2027-03-05",
        "plan",
        True,
    )
    assert (items[done]["due_date"], items[done]["phase"], items[done]["overdue"]) == (None, None, False)
    assert items[late]["case_reference"].startswith("C-2027-")
    assert "summary" not in str(items)
    page = coordinator.get(f"{API}/actions?limit=2").get_json()
    assert len(page["items"]) == 2 and page["next"]
    rest = coordinator.get(f"{API}/actions?limit=2&after={page['next']}").get_json()
    assert [a["id"] for a in page["items"] + rest["items"]] == [done, other, late]
    assert coordinator.get(f"{API}/actions?state=lost").status_code == 422


def test_monitor_of_the_case_may_accept_a_plan(requested, api_client):
    w, case_id, action_id = requested
    w.advance_action(action_id, ActionState.plan_submitted)
    body = _ok(api_client(w.monitor).post(f"{API}/actions/{action_id}/decision", json={"accept": True}))
    assert body["state"] == "plan_accepted"
    case = api_client(w.coordinator).get(f"{API}/cases/{case_id}").get_json()
    assert case["state"] == CaseState.in_dialogue.value
