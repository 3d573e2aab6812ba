"""The operations' validation, what they write, and the protection of the texts they store."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from monitoring.cases import operations
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseClosure,
    CaseEvent,
    CaseMessage,
    CaseState,
    CorrectiveAction,
    EventKind,
    Finding,
    Remedy,
    RemedyKind,
    Severity,
    SupplierResponse,
    Visibility,
)
from monitoring.cases.operations import cases as case_operations
from monitoring.core.audit import AuditEntry
from monitoring.core.crypto import DecryptionError
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.notifications.models import Notification, NotificationKind
from tests.cases.helpers import CaseWorld
from tests.testimony.monitor_helpers import make_report


def counts() -> dict[str, int]:
    return {
        m.__name__: db.session.scalar(select(func.count()).select_from(m)) or 0
        for m in (
            CaseEvent,
            AuditEntry,
            Notification,
            CaseClosure,
            Remedy,
            CaseMessage,
            SupplierResponse,
            Finding,
        )
    }


def refused(call: Any, field: str | None = None) -> OperationError:
    """Call, expect an OperationError (naming ``field``), and check that nothing was written."""
    before = counts()
    with pytest.raises(OperationError) as excinfo:
        call()
    db.session.flush()
    assert counts() == before
    if field is not None:
        assert excinfo.value.field == field, excinfo.value.message
    return excinfo.value


def finding_data(w: CaseWorld, **kw: Any) -> operations.FindingData:
    values: dict[str, Any] = {
        "site_id": w.site,
        "standard": "FL-1",
        "severity": "major",
        "workers_affected": 12,
        "evidence_type": "offsite_interviews",
        "found_date": None,
        "summary": "Workers paid agents 9000 CNY each.",
        "report_ids": [],
    }
    values.update(kw)
    return operations.FindingData(**values)


# --- findings ---------------------------------------------------------------------------------


def test_file_finding_validates(case_world: CaseWorld) -> None:
    w = case_world
    other_report = make_report(w.app, w.users["monitor"], country="CN")
    with w.app.app_context():
        monitor = w.user("monitor")
        bad = {
            "site_id": {"site_id": 999_999},
            "standard": {"standard": "XX-9"},
            "severity": {"severity": "catastrophic"},
            "evidence_type": {"evidence_type": "rumour"},
            "workers_affected": {"workers_affected": -1},
            "found_date": {"found_date": utcnow().date() + timedelta(days=1)},
            "summary": {"summary": "   "},
            "report_ids": {"report_ids": [999_999]},
        }
        for field_name, change in bad.items():
            refused(
                lambda change=change: operations.file_finding(monitor, finding_data(w, **change)), field_name
            )
        # Another monitor organisation cannot link this organisation's reports.
        other = w.user("other_monitor")
        refused(
            lambda: operations.file_finding(other, finding_data(w, report_ids=[other_report])), "report_ids"
        )
        for key in ("coordinator", "affiliate", "supplier", "admin"):
            refused(lambda key=key: operations.file_finding(w.user(key), finding_data(w)))
        finding = operations.file_finding(monitor, finding_data(w, report_ids=[other_report, other_report]))
        assert finding.found_date == utcnow().date()
        assert [link.report_id for link in finding.report_links] == [other_report]
        assert finding.summary == "Workers paid agents 9000 CNY each."
        assert finding.organisation_id == monitor.organisation_id


def test_update_finding_reports_changes_and_keeps_case_severity(case_world: CaseWorld) -> None:
    w = case_world
    finding_id = w.finding(severity="minor")
    case_id = w.case(findings=[finding_id])
    with w.session():
        monitor = w.user("monitor")
        finding = db.session.get(Finding, finding_id)
        changes = operations.update_finding(
            monitor,
            finding,
            finding_data(w, severity="priority", summary="A new summary.", workers_affected=30),
        )
        assert changes["severity"] == ["minor", "priority"]
        assert changes["summary"] == ["(protected)", "(protected)"]
        assert db.session.get(Case, case_id).severity is Severity.priority
        assert (
            operations.update_finding(
                monitor,
                finding,
                finding_data(w, severity="priority", summary="A new summary.", workers_affected=30),
            )
            == {}
        )
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "finding.update").order_by(AuditEntry.id)
        ).all()[-1]
        assert "A new summary" not in entry.data
        refused(
            lambda: operations.update_finding(monitor, finding, finding_data(w, site_id=w.other_site)),
            "site_id",
        )
        refused(lambda: operations.update_finding(w.user("other_monitor"), finding, finding_data(w)))
    w.advance_case(case_id, CaseState.closed)
    with w.app.app_context():
        finding = db.session.get(Finding, finding_id)
        refused(lambda: operations.update_finding(w.user("monitor"), finding, finding_data(w)))


# --- cases ------------------------------------------------------------------------------------


def test_open_case_reference_severity_and_checks(case_world: CaseWorld) -> None:
    w = case_world
    minor = w.finding(severity="minor")
    priority = w.finding(severity="priority")
    elsewhere = w.finding(site_id=w.other_site)
    first = w.case(findings=[minor])
    second = w.case(findings=[priority])
    year = utcnow().year
    with w.session():
        a, b = db.session.get(Case, first), db.session.get(Case, second)
        pattern = re.compile(rf"^C-{year}-\d{{4}}$")
        assert pattern.match(a.reference) and pattern.match(b.reference)
        assert int(b.reference[-4:]) == int(a.reference[-4:]) + 1
        assert a.severity is Severity.minor and b.severity is Severity.priority
        assert a.lead_coordinator_id == w.users["coordinator"].id  # the opening coordinator leads
        assert a.monitor_organisation_id == w.orgs["monitors"]
        coordinator = w.user("coordinator")
        open_case = operations.open_case
        refused(lambda: open_case(coordinator, w.site, []), "finding_ids")
        refused(lambda: open_case(coordinator, w.site, [minor]), "finding_ids")  # already in a case
        refused(lambda: open_case(coordinator, w.site, [elsewhere]), "finding_ids")  # other site
        refused(lambda: open_case(w.user("other_monitor"), w.other_site, [elsewhere]), "finding_ids")
        refused(
            lambda: open_case(
                coordinator, w.other_site, [elsewhere], monitor_organisation_id=w.orgs["other_monitors"]
            ),
            "monitor_organisation_id",
        )
        refused(
            lambda: open_case(
                coordinator, w.other_site, [elsewhere], lead_coordinator_id=w.users["monitor"].id
            ),
            "lead_coordinator_id",
        )
        for key in ("affiliate", "supplier", "admin"):
            refused(lambda key=key: open_case(w.user(key), w.other_site, [elsewhere]))
        by_monitor = open_case(w.user("monitor"), w.other_site, [elsewhere])
        assert by_monitor.lead_coordinator_id is None and by_monitor.state is CaseState.open
        kinds = [
            e.kind
            for e in db.session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == by_monitor.id).order_by(CaseEvent.id)
            )
        ]
        assert kinds == [EventKind.case_opened, EventKind.finding_added]
        told = db.session.scalars(
            select(Notification).where(
                Notification.case_id == by_monitor.id, Notification.kind == NotificationKind.case_opened
            )
        ).all()
        # No lead: every coordinator is told; affiliate B's contract reaches the other site.
        assert {n.user_id for n in told} == {
            w.users[k].id for k in ("coordinator", "coordinator2", "affiliate_b")
        }


def test_reference_sequence_survives_five_digits(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    with w.session():
        year = utcnow().year
        db.session.get(Case, case_id).reference = f"C-{year}-9999"
        db.session.flush()
        assert operations.next_reference(year) == f"C-{year}-10000"


def test_add_findings_raises_the_severity(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case(severity="minor")
    major, other_org = w.finding(severity="priority"), w.finding(by="other_monitor")
    with w.session():
        case = db.session.get(Case, case_id)
        refused(lambda: operations.add_findings(w.user("coordinator"), case, [other_org]), "finding_ids")
        refused(lambda: operations.add_findings(w.user("affiliate"), case, [major]))
        operations.add_findings(w.user("monitor"), case, [major])
        assert case.severity is Severity.priority
        assert {f.id for f in case.findings} >= {major}


def test_set_lead(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    with w.session():
        case = db.session.get(Case, case_id)
        refused(lambda: operations.set_lead(w.user("monitor"), case, w.users["coordinator2"].id))
        refused(
            lambda: operations.set_lead(w.user("coordinator"), case, w.users["affiliate"].id),
            "lead_coordinator_id",
        )
        operations.set_lead(w.user("coordinator"), case, w.users["coordinator2"].id)
        assert case.lead_coordinator_id == w.users["coordinator2"].id
        before = counts()
        operations.set_lead(w.user("coordinator"), case, w.users["coordinator2"].id)  # no change, no event
        assert counts() == before
        operations.set_lead(w.user("coordinator"), case, None)
        assert case.lead_coordinator_id is None


def test_transitions_write_event_audit_and_notifications(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    with w.session():
        case = db.session.get(Case, case_id)
        before = case.state_changed_dt
        operations.transition_case(w.user("monitor"), case, "start_dialogue")
        assert case.state is CaseState.in_dialogue and case.state_changed_dt >= before
        event = db.session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == case_id, CaseEvent.kind == EventKind.case_state_changed
            )
        ).one()
        assert (event.from_state, event.to_state, event.visibility) == (
            "open",
            "in_dialogue",
            Visibility.buyers,
        )
        assert event.actor_id == w.users["monitor"].id
        assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.start_dialogue")).all()
        told = db.session.scalars(
            select(Notification).where(
                Notification.kind == NotificationKind.case_state_changed, Notification.case_id == case_id
            )
        ).all()
        # The lead coordinator and the affiliate whose contract reaches the site; not the actor.
        assert {n.user_id for n in told} == {w.users["coordinator"].id, w.users["affiliate"].id}


# --- closing and reopening --------------------------------------------------------------------


def closure(**kw: Any) -> operations.ClosureData:
    values: dict[str, Any] = {
        "outcome": "resolved",
        "note": "Repaid.",
        "remedies": [],
        "workers_consulted": False,
    }
    values.update(kw)
    return operations.ClosureData(**values)


def remedy(**kw: Any) -> operations.RemedyData:
    values: dict[str, Any] = {
        "kind": "fees_repaid",
        "amount": Decimal("1200.50"),
        "currency": "usd",
        "workers_covered": 40,
        "description": "Repaid in cash before witnesses.",
    }
    values.update(kw)
    return operations.RemedyData(**values)


def case_ready_to_close(w: CaseWorld, severity: str = "major") -> int:
    case_id = w.case(severity=severity)
    w.advance_case(case_id, CaseState.verification)
    for action_id in w.actions_of(case_id):
        w.advance_action(action_id, ActionState.closed)
    return case_id


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "fees_repaid", "amount": None, "currency": None},
        {"kind": "back_pay", "amount": None, "currency": "USD"},
        {"amount": Decimal("100"), "currency": None},
        {"currency": "US"},
        {"currency": "QQQ"},
        {"amount": Decimal("-5")},
        {"amount": Decimal("1.005")},
        {"amount": Decimal("1e15")},
        {"workers_covered": -1},
        {"kind": "goodwill"},
        {"kind": "passports_returned", "amount": None, "currency": "EUR"},
    ],
)
def test_remedies_are_validated(case_world: CaseWorld, bad: dict[str, Any]) -> None:
    w = case_world
    case_id = case_ready_to_close(w)
    with w.app.app_context():
        case = db.session.get(Case, case_id)
        refused(
            lambda: operations.close_case(
                w.user("monitor"), case, closure(remedies=[remedy(), remedy(**bad)])
            ),
            "remedies",
        )
        assert case.state is CaseState.verification


def test_close_needs_an_outcome_and_priority_needs_consultation(case_world: CaseWorld) -> None:
    w = case_world
    priority = case_ready_to_close(w, "priority")
    major = case_ready_to_close(w, "major")
    with w.session():
        monitor = w.user("monitor")
        case = db.session.get(Case, priority)
        refused(lambda: operations.close_case(monitor, case, closure(outcome="fine")), "outcome")
        refused(lambda: operations.close_case(monitor, case, closure()), "workers_consulted")
        consulted = closure(workers_consulted=True)
        refused(lambda: operations.close_case(monitor, case, consulted), "no_validation_reason")
        assert case.state is CaseState.verification
        done = operations.close_case(
            monitor,
            case,
            closure(
                workers_consulted=True,
                remedies=[remedy(), remedy(kind="passports_returned", amount=None, currency=None)],
                no_validation_reason="The workers left before they could be asked.",
            ),
        )
        assert (
            case.state is CaseState.closed and case.closed_dt is not None and case.outcome.value == "resolved"
        )
        assert done.workers_consulted_by_id == monitor.id and done.workers_consulted_dt is not None
        assert [(r.kind, r.amount, r.currency, r.workers_covered) for r in done.remedies] == [
            (RemedyKind.fees_repaid, Decimal("1200.50"), "USD", 40),
            (RemedyKind.passports_returned, None, None, 40),
        ]
        assert done.remedies[0].description == "Repaid in cash before witnesses."
        plain = operations.close_case(monitor, db.session.get(Case, major), closure())
        assert plain.workers_consulted_by_id is None


def test_reopen_needs_a_reason_and_keeps_the_closure_history(case_world: CaseWorld) -> None:
    w = case_world
    case_id = case_ready_to_close(w)
    w.close(case_id)
    with w.session():
        case = db.session.get(Case, case_id)
        for reason in ("", "   ", None):
            refused(
                lambda reason=reason: operations.reopen_case(w.user("coordinator"), case, reason), "reason"
            )
        refused(lambda: operations.reopen_case(w.user("other_monitor"), case, "Again."))
        operations.reopen_case(w.user("coordinator"), case, "The agents charge fees again.")
        assert case.state is CaseState.in_dialogue and case.outcome is None and case.closed_dt is None
        first = case.closures[0]
        assert first.reopened_dt is not None and first.reopen_reason == "The agents charge fees again."
        event = db.session.scalars(
            select(CaseEvent).where(CaseEvent.kind == EventKind.case_reopened, CaseEvent.case_id == case_id)
        ).one()
        assert event.note == "The agents charge fees again."
    w.advance_case(case_id, CaseState.closed)
    with w.app.app_context():
        case = db.session.get(Case, case_id)
        assert len(case.closures) == 2 and case.closures[1].reopened_dt is None
        assert case.closures[0].remedies and case.closures[0].outcome.value == "resolved"


# --- corrective actions -----------------------------------------------------------------------


def test_request_action_checks(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    other_case = w.case()
    with w.session():
        case = db.session.get(Case, case_id)
        finding_id = case.findings[0].id

        def data(**kw: Any) -> operations.RequestData:
            values = {
                "finding_id": finding_id,
                "supplier_id": w.orgs["supplier_x"],
                "request": "Repay the fees.",
            }
            return operations.RequestData(**{**values, **kw})

        coordinator = w.user("coordinator")
        refused(lambda: operations.request_action(coordinator, case, data()))  # still open
        operations.transition_case(coordinator, case, "start_dialogue")
        refused(
            lambda: operations.request_action(coordinator, case, data(supplier_id=w.orgs["supplier_y"])),
            "supplier_id",
        )
        refused(
            lambda: operations.request_action(
                coordinator, case, data(finding_id=db.session.get(Case, other_case).findings[0].id)
            ),
            "finding_id",
        )
        refused(lambda: operations.request_action(coordinator, case, data(request=" ")), "request")
        for key in ("monitor", "affiliate", "supplier", "admin"):
            refused(lambda key=key: operations.request_action(w.user(key), case, data()))
        action = operations.request_action(coordinator, case, data())
        today = utcnow().date()
        assert (action.plan_due_date, action.closure_due_date) == (
            today + timedelta(days=14),
            today + timedelta(days=180),
        )
        assert action.request == "Repay the fees." and action.severity is Severity.major
        refused(lambda: operations.request_action(coordinator, case, data()), "supplier_id")  # already open
        event = db.session.scalars(select(CaseEvent).where(CaseEvent.action_id == action.id)).one()
        assert (event.kind, event.visibility, event.supplier_id) == (
            EventKind.action_requested,
            Visibility.parties,
            w.orgs["supplier_x"],
        )
        told = {
            n.user_id
            for n in db.session.scalars(select(Notification).where(Notification.action_id == action.id))
        }
        assert w.users["supplier"].id in told and w.users["supplier_y"].id not in told
        assert w.users["coordinator"].id not in told  # the actor


def test_plan_validation_rejection_and_resubmission(case_world: CaseWorld) -> None:
    w = case_world
    action_id = w.action(w.case())
    with w.session():
        supplier = w.user("supplier")
        action = db.session.get(CorrectiveAction, action_id)

        def plan(**kw: Any) -> operations.PlanData:
            values = {"root_cause": "Agents.", "corrective": "Repay.", "preventive": "Policy."}
            return operations.PlanData(**{**values, "target_date": date(2030, 1, 1), **kw})

        for field_name in ("root_cause", "corrective", "preventive"):
            refused(
                lambda f=field_name: operations.submit_plan(supplier, action, plan(**{f: ""})), field_name
            )
        refused(lambda: operations.submit_plan(supplier, action, plan(target_date=None)), "target_date")
        refused(
            lambda: operations.submit_plan(
                supplier, action, plan(target_date=utcnow().date() - timedelta(days=1))
            ),
            "target_date",
        )
        first = operations.submit_plan(supplier, action, plan())
        refused(lambda: operations.reject_plan(w.user("coordinator"), action, "  "), "reason")
        operations.reject_plan(w.user("coordinator"), action, "Agency workers are missing.")
        assert first.accepted is False and first.rejection_reason == "Agency workers are missing."
        second = operations.submit_plan(supplier, action, plan(corrective="Repay agency workers too."))
        operations.accept_plan(w.user("monitor"), action)
        assert second.accepted is True and second.decided_by_id == w.users["monitor"].id
        assert [r.id for r in action.responses] == [first.id, second.id]
        assert action.state is ActionState.plan_accepted


def test_implementation_and_verification_need_texts(case_world: CaseWorld) -> None:
    w = case_world
    action_id = w.action(w.case())
    w.advance_action(action_id, ActionState.plan_accepted)
    with w.session():
        action = db.session.get(CorrectiveAction, action_id)
        refused(lambda: operations.report_implemented(w.user("supplier"), action, "  ", []), "description")
        operations.report_implemented(w.user("supplier"), action, "Fees repaid.", [])
        assert action.implementation == "Fees repaid." and action.implemented_dt is not None
        refused(lambda: operations.verify_action(w.user("monitor"), action, False, ""), "note")
        operations.verify_action(w.user("monitor"), action, False, "Half were repaid.")
        assert action.state is ActionState.not_verified and action.verification == "Half were repaid."
        operations.report_implemented(w.user("supplier"), action, "The other half repaid too.", [])
        operations.verify_action(w.user("monitor"), action, True, None)
        assert action.state is ActionState.verified and action.verification is None
        notes = [
            e.note
            for e in db.session.scalars(
                select(CaseEvent).where(CaseEvent.action_id == action_id).order_by(CaseEvent.id)
            )
        ]
        assert "Fees repaid." in notes and "The other half repaid too." in notes  # history kept
        operations.close_action(w.user("coordinator"), action)
        assert action.state is ActionState.closed and action.closed_dt is not None


# --- messages ---------------------------------------------------------------------------------


def test_post_message_checks(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    w.action(case_id)
    with w.session():
        case = db.session.get(Case, case_id)
        post = operations.post_message
        refused(lambda: post(w.user("coordinator"), case, "internal", ""), "body")
        refused(lambda: post(w.user("coordinator"), case, "internal", "x" * 20_001), "body")
        refused(lambda: post(w.user("coordinator"), case, "everyone", "Hello"), "visibility")
        refused(lambda: post(w.user("affiliate"), case, "internal", "Hello"), "visibility")
        refused(lambda: post(w.user("coordinator"), case, "parties", "Hello"), "supplier_id")
        refused(
            lambda: post(w.user("coordinator"), case, "parties", "Hello", supplier_id=w.orgs["supplier_y"]),
            "supplier_id",
        )
        refused(
            lambda: post(w.user("supplier"), case, "parties", "Hello", supplier_id=w.orgs["supplier_y"]),
            "supplier_id",
        )
        for key in ("supplier_y", "other_monitor", "admin"):
            refused(lambda key=key: post(w.user(key), case, "parties", "Hello"))
        assert post(w.user("coordinator"), case, "internal", "x" * 20_000).supplier_id is None
        own = post(w.user("supplier"), case, "parties", "  We started.  ")
        assert own.supplier_id == w.orgs["supplier_x"] and own.body == "We started."
        buyers = post(w.user("affiliate"), case, "buyers", "Noted.", supplier_id=w.orgs["supplier_x"])
        assert buyers.supplier_id is None  # only parties messages name a supplier
        told = {
            n.user_id
            for n in db.session.scalars(
                select(Notification).where(
                    Notification.kind == NotificationKind.message_posted,
                    Notification.params["message_id"].as_integer() == own.id,
                )
            )
        }
        assert w.users["supplier"].id not in told and w.users["coordinator"].id in told
        assert w.users["affiliate"].id in told and w.users["supplier_y"].id not in told


def test_closed_cases_accept_messages_but_no_action_changes(case_world: CaseWorld) -> None:
    w = case_world
    case_id = case_ready_to_close(w)
    w.close(case_id)
    new_finding = w.finding()
    with w.session():
        case = db.session.get(Case, case_id)
        message = operations.post_message(w.user("affiliate"), case, "buyers", "Thanks, all repaid?")
        assert message.id is not None
        action = case.actions[0]
        refused(
            lambda: operations.change_deadlines(
                w.user("coordinator"), action, None, action.closure_due_date + timedelta(days=1), "More time."
            )
        )
        data = operations.RequestData(
            finding_id=case.findings[0].id, supplier_id=w.orgs["supplier_x"], request="More."
        )
        refused(lambda: operations.request_action(w.user("coordinator"), case, data))
        refused(lambda: operations.add_findings(w.user("coordinator"), case, [new_finding]))


# --- what leaves the operations: notifications, audit, ciphertexts ----------------------------

SECRETS = {
    "summary": "SUMMARY-Wang-Li-paid-9000",
    "request": "REQUEST-repay-Wang-Li",
    "root_cause": "ROOT-agent-Zhou",
    "corrective": "CORRECTIVE-refund-ledger",
    "preventive": "PREVENTIVE-no-agents",
    "rejection": "REJECTION-missing-dorm-7",
    "implementation": "IMPLEMENTED-paid-cash",
    "verification": "VERIFICATION-workers-deny",
    "message": "MESSAGE-call-Wang-Li",
    "reason": "REASON-new-complaint",
    "note": "NOTE-closure-ok",
    "remedy": "REMEDY-cash-before-witnesses",
    "no_validation": "NOVALIDATION-workers-moved-to-Penang",
}


def run_whole_path(w: CaseWorld) -> int:
    """A case through every step, with a distinct secret in every protected text."""
    finding_id = w.finding(summary=SECRETS["summary"], severity="priority")
    case_id = w.case(findings=[finding_id])
    action_id = w.action(case_id, request=SECRETS["request"])
    with w.session():
        action = db.session.get(CorrectiveAction, action_id)
        plan = operations.PlanData(
            SECRETS["root_cause"], SECRETS["corrective"], SECRETS["preventive"], date(2030, 1, 1)
        )
        operations.submit_plan(w.user("supplier"), action, plan)
        operations.reject_plan(w.user("coordinator"), action, SECRETS["rejection"])
        operations.submit_plan(w.user("supplier"), action, plan)
        operations.accept_plan(w.user("coordinator"), action)
        operations.report_implemented(w.user("supplier"), action, SECRETS["implementation"], [])
        operations.verify_action(w.user("monitor"), action, False, SECRETS["verification"])
        operations.report_implemented(w.user("supplier"), action, SECRETS["implementation"], [])
        operations.verify_action(w.user("monitor"), action, True, SECRETS["verification"])
        operations.close_action(w.user("coordinator"), action)
        case = db.session.get(Case, case_id)
        operations.post_message(
            w.user("coordinator"), case, "parties", SECRETS["message"], supplier_id=w.orgs["supplier_x"]
        )
        operations.transition_case(w.user("coordinator"), case, "start_remediation")
        operations.transition_case(w.user("monitor"), case, "start_verification")
        operations.transition_case(w.user("monitor"), case, "resume_remediation", SECRETS["reason"])
        operations.transition_case(w.user("monitor"), case, "start_verification")
        data = closure(
            note=SECRETS["note"],
            workers_consulted=True,
            remedies=[remedy(description=SECRETS["remedy"])],
            no_validation_reason=SECRETS["no_validation"],
        )
        operations.close_case(w.user("monitor"), case, data)
        operations.reopen_case(w.user("monitor"), case, SECRETS["reason"])
    return case_id


def test_notifications_and_audit_hold_metadata_only(case_world: CaseWorld) -> None:
    w = case_world
    case_id = run_whole_path(w)
    with w.app.app_context():
        notifications = db.session.scalars(select(Notification).where(Notification.case_id == case_id)).all()
        kinds = {n.kind for n in notifications}
        assert kinds >= {
            NotificationKind.case_opened,
            NotificationKind.action_requested,
            NotificationKind.plan_submitted,
            NotificationKind.plan_rejected,
            NotificationKind.plan_accepted,
            NotificationKind.action_implemented,
            NotificationKind.action_not_verified,
            NotificationKind.action_verified,
            NotificationKind.action_closed,
            NotificationKind.message_posted,
            NotificationKind.case_state_changed,
            NotificationKind.case_closed,
            NotificationKind.case_reopened,
        }
        reference = db.session.get(Case, case_id).reference
        assert all(n.params["reference"] == reference for n in notifications)
        dumped = " ".join(str(n.params) for n in notifications)
        audit_text = " ".join(e.summary + e.data for e in db.session.scalars(select(AuditEntry)))
        for name, secret in SECRETS.items():
            assert secret not in dumped, name
            assert secret not in audit_text, name


PROTECTED = [
    ("finding", "summary_ct"),
    ("corrective_action", "request_ct"),
    ("corrective_action", "implementation_ct"),
    ("corrective_action", "verification_ct"),
    ("supplier_response", "root_cause_ct"),
    ("supplier_response", "corrective_ct"),
    ("supplier_response", "preventive_ct"),
    ("supplier_response", "rejection_reason_ct"),
    ("case_message", "body_ct"),
    ("case_event", "note_ct"),
    ("case_closure", "note_ct"),
    ("case_closure", "reopen_reason_ct"),
    ("remedy", "description_ct"),
]


def test_protected_texts_are_encrypted_at_rest(case_world: CaseWorld) -> None:
    w = case_world
    run_whole_path(w)
    with w.app.app_context():
        raw = b""
        for table, column in PROTECTED:
            values = [
                v
                for (v,) in db.session.execute(
                    text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608 (constants)
                )
            ]
            assert values, (table, column)
            raw += b"".join(bytes(v) for v in values)
        for name, secret in SECRETS.items():
            assert secret.encode() not in raw, name
        # Every secret does come back through its attribute.
        assert (
            db.session.scalars(select(Finding).where(Finding.summary_ct.is_not(None))).all()[-1].summary
            == SECRETS["summary"]
        )


def test_protected_texts_are_bound_to_their_row(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    with w.session():
        case = db.session.get(Case, case_id)
        one = operations.post_message(w.user("coordinator"), case, "internal", "First message.")
        two = operations.post_message(w.user("coordinator"), case, "internal", "Second message.")
        two.body_ct = one.body_ct
        with pytest.raises(DecryptionError):
            _ = two.body
        finding = case.findings[0]
        finding.summary_ct = one.body_ct  # another table and column
        with pytest.raises(DecryptionError):
            _ = finding.summary
        db.session.rollback()


def test_a_reference_taken_meanwhile_makes_the_case_take_the_next(
    case_world: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two openings at once compute the same reference; the later one retries with the next."""
    w = case_world
    taken = w.get(Case, w.case()).reference
    finding_id = w.finding()
    answers = iter([taken])
    real = operations.next_reference
    monkeypatch.setattr(case_operations, "next_reference", lambda year: next(answers, None) or real(year))
    with w.session():
        case = operations.open_case(w.user("coordinator"), w.site, [finding_id])
        assert case.reference != taken and int(case.reference[-4:]) == int(taken[-4:]) + 1
        assert [f.id for f in case.findings] == [finding_id]
