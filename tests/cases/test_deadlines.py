"""Deadlines from severity, their bounds, overdue in SQL and the escalation of overdue actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from monitoring.cases import deadlines, operations
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseEvent,
    CorrectiveAction,
    EventKind,
    Severity,
    Visibility,
)
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.notifications.models import Notification, NotificationKind
from tests.cases.helpers import CaseWorld

# A Monday some weeks ahead of the world's contracts and disclosures (which start a year back).
DAY0 = datetime(2027, 3, 1, 9, tzinfo=UTC)
D0 = DAY0.date()


def at(day: int) -> Any:
    """Freeze the clock ``day`` days after DAY0."""
    return time_machine.travel(DAY0 + timedelta(days=day), tick=False)


@pytest.mark.parametrize(
    ("severity", "plan", "closure"), [("priority", 7, 90), ("major", 14, 180), ("minor", 14, 270)]
)
def test_default_deadlines(app: Flask, severity: str, plan: int, closure: int) -> None:
    with app.app_context():
        assert deadlines.default_deadlines(severity, D0) == (
            D0 + timedelta(days=plan),
            D0 + timedelta(days=closure),
        )
        assert deadlines.default_deadlines(Severity(severity), D0)[0] == D0 + timedelta(days=plan)


def test_defaults_follow_the_configuration(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "ACTION_PLAN_DAYS_MAJOR", 10)
    monkeypatch.setitem(app.config, "ACTION_CLOSURE_DAYS_MAJOR", 60)
    with app.app_context():
        assert deadlines.default_deadlines("major", D0) == (D0 + timedelta(days=10), D0 + timedelta(days=60))


def days(n: int) -> date:
    return D0 + timedelta(days=n)


@pytest.mark.parametrize(
    ("severity", "plan", "closure", "field"),
    [
        ("major", -1, 100, "plan_due_date"),
        ("major", 20, 19, "closure_due_date"),
        ("major", 14, 181, "closure_due_date"),
        ("minor", 14, 271, "closure_due_date"),
        ("priority", 7, 91, "closure_due_date"),
        ("priority", 7, 29, "closure_due_date"),
        ("priority", 7, 6, "closure_due_date"),
    ],
)
def test_deadlines_out_of_bounds(app: Flask, severity: str, plan: int, closure: int, field: str) -> None:
    with app.test_request_context("/"):
        with pytest.raises(OperationError) as excinfo:
            deadlines.check_deadlines(severity, D0, days(plan), days(closure))
        assert excinfo.value.field == field
        assert str(excinfo.value.message)


@pytest.mark.parametrize(
    ("severity", "plan", "closure"),
    [
        ("major", 0, 0),
        ("major", 14, 180),
        ("minor", 30, 270),
        ("priority", 0, 30),
        ("priority", 30, 30),
        ("priority", 7, 90),
    ],
)
def test_deadlines_within_bounds(app: Flask, severity: str, plan: int, closure: int) -> None:
    with app.app_context():
        deadlines.check_deadlines(severity, D0, days(plan), days(closure))


def test_request_with_explicit_deadlines(case_world: CaseWorld) -> None:
    w = case_world
    with at(0):
        case_id = w.case(severity="priority")
        with pytest.raises(OperationError) as excinfo:
            w.action(case_id, closure_due_date=days(20))
        assert excinfo.value.field == "closure_due_date"
        assert w.actions_of(case_id) == []
        action_id = w.action(case_id, plan_due_date=days(3), closure_due_date=days(45))
        action = w.get(CorrectiveAction, action_id)
        assert (action.plan_due_date, action.closure_due_date) == (days(3), days(45))
        only_plan = w.action(
            case_id, finding_id=_second_finding(w, case_id, "priority"), plan_due_date=days(2)
        )
        assert w.get(CorrectiveAction, only_plan).closure_due_date == days(90)  # the default kept


def _second_finding(w: CaseWorld, case_id: int, severity: str) -> int:
    finding_id = w.finding(severity=severity)
    with w.session():
        operations.add_findings(w.user("coordinator"), db.session.get(Case, case_id), [finding_id])
    return finding_id


def overdue_ids(today: date) -> set[int]:
    return set(db.session.scalars(select(CorrectiveAction.id).where(deadlines.overdue_clause(today))))


def test_overdue_is_computed_in_sql(case_world: CaseWorld) -> None:
    """Plan phase, closure phase, and no deadline once the work is reported."""
    w = case_world
    with at(0):
        case_id = w.case(severity="priority")
        waiting = w.action(case_id)  # plan due day 7, closure day 90
        accepted = w.action(case_id, finding_id=_second_finding(w, case_id, "priority"))
        implemented = w.action(case_id, finding_id=_second_finding(w, case_id, "priority"))
        w.advance_action(accepted, ActionState.plan_accepted)
        w.advance_action(implemented, ActionState.implemented)
    mine = {waiting, accepted, implemented}
    with w.app.app_context():
        expectations = {
            7: set(),
            8: {waiting},
            90: {waiting},
            91: {waiting, accepted},
            400: {waiting, accepted},
        }
        for day, expected in expectations.items():
            assert overdue_ids(days(day)) & mine == expected, day
            for action_id in mine:
                action = db.session.get(CorrectiveAction, action_id)
                assert deadlines.is_overdue(action, days(day)) is (action_id in expected)
        phases = {a: deadlines.due_phase(db.session.get(CorrectiveAction, a)) for a in mine}
        assert phases == {waiting: "plan", accepted: "closure", implemented: None}
        assert deadlines.due_date(db.session.get(CorrectiveAction, implemented)) is None
        # The SQL column agrees with the Python mirror.
        rows = dict(
            db.session.execute(
                select(CorrectiveAction.id, deadlines.due_date_column()).where(CorrectiveAction.id.in_(mine))
            ).all()
        )
        assert rows == {waiting: days(7), accepted: days(90), implemented: None}


def test_a_rejected_plan_is_due_by_the_plan_deadline(case_world: CaseWorld) -> None:
    w = case_world
    with at(0):
        action_id = w.action(w.case(severity="major"))
        w.advance_action(action_id, ActionState.plan_rejected)
    with w.app.app_context():
        assert overdue_ids(days(15)) & {action_id} == {action_id}
        assert overdue_ids(days(14)) & {action_id} == set()


def test_next_deadline_per_case(case_world: CaseWorld) -> None:
    w = case_world
    with at(0):
        case_id = w.case(severity="major")
        first = w.action(case_id)  # plan due day 14
        second = w.action(case_id, finding_id=_second_finding(w, case_id, "major"), plan_due_date=days(5))
        empty_case = w.case()
    with w.app.app_context():
        sub = deadlines.next_deadline_subquery(days(6))
        rows = {
            case: (due, overdue)
            for case, due, overdue in db.session.execute(
                select(Case.id, sub.c.next_due, sub.c.overdue)
                .outerjoin(sub, sub.c.case_id == Case.id)
                .where(Case.id.in_([case_id, empty_case]))
            )
        }
        assert rows == {case_id: (days(5), 1), empty_case: (None, None)}
        assert first != second


def escalations(action_id: int) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.action_id == action_id, CaseEvent.kind == EventKind.action_escalated)
            .order_by(CaseEvent.id)
        )
    )


def escalate(w: CaseWorld, day: int) -> int:
    with at(day), w.session():
        return operations.escalate_overdue(days(day))


def test_escalation_is_idempotent_and_repeats_after_a_deadline_change(case_world: CaseWorld) -> None:
    w = case_world
    with at(0):
        case_id = w.case(severity="major")
        action_id = w.action(case_id)  # plan due day 14
    assert escalate(w, 14) == 0
    assert escalate(w, 15) == 1
    assert escalate(w, 15) == 0
    assert escalate(w, 16) == 0
    with w.app.app_context():
        action = db.session.get(CorrectiveAction, action_id)
        assert action.escalated_dt is not None
        (event,) = escalations(action_id)
        assert (event.visibility, event.due_date) == (Visibility.internal, days(14))
        told = db.session.scalars(
            select(Notification).where(
                Notification.action_id == action_id, Notification.kind == NotificationKind.action_escalated
            )
        ).all()
        assert [n.user_id for n in told] == [w.users["coordinator"].id]  # the lead
        assert told[0].params["due_date"] == days(14).isoformat() and told[0].params["phase"] == "plan"
    with at(16), w.session():
        action = db.session.get(CorrectiveAction, action_id)
        operations.change_deadlines(w.user("coordinator"), action, days(20), None, "The agent was ill.")
        assert action.escalated_dt is None
    assert escalate(w, 20) == 0
    assert escalate(w, 21) == 1
    with w.app.app_context():
        assert [e.due_date for e in escalations(action_id)] == [days(14), days(20)]


def test_escalation_repeats_for_the_next_phase_and_goes_to_every_coordinator_without_lead(
    case_world: CaseWorld,
) -> None:
    w = case_world
    with at(0):
        case_id = w.case(severity="priority")
        action_id = w.action(case_id)  # plan due day 7, closure day 90
        with w.session():
            operations.set_lead(w.user("coordinator"), db.session.get(Case, case_id), None)
    assert escalate(w, 8) == 1
    with at(9):
        w.advance_action(action_id, ActionState.plan_submitted)
    with w.app.app_context():
        assert db.session.get(CorrectiveAction, action_id).escalated_dt is None  # a new deadline in force
    assert escalate(w, 90) == 0
    assert escalate(w, 91) == 1
    with w.app.app_context():
        assert [e.due_date for e in escalations(action_id)] == [days(7), days(90)]
        told = {
            n.user_id
            for n in db.session.scalars(
                select(Notification).where(
                    Notification.action_id == action_id,
                    Notification.kind == NotificationKind.action_escalated,
                )
            )
        }
        assert {w.users["coordinator"].id, w.users["coordinator2"].id} <= told
        assert w.users["monitor"].id not in told and w.users["supplier"].id not in told


def test_implemented_actions_are_not_escalated(case_world: CaseWorld) -> None:
    w = case_world
    with at(0):
        action_id = w.action(w.case(severity="minor"))
        w.advance_action(action_id, ActionState.implemented)
    with w.app.app_context():
        before = len(escalations(action_id))
    assert escalate(w, 500) == 0
    with w.app.app_context():
        assert len(escalations(action_id)) == before == 0


def test_deadline_changes_are_checked_and_recorded(case_world: CaseWorld) -> None:
    w = case_world
    with at(0):
        action_id = w.action(w.case(severity="priority"))  # plan 7, closure 90
    with at(10), w.session():
        action = db.session.get(CorrectiveAction, action_id)
        with pytest.raises(OperationError) as excinfo:  # under 30 days from the request
            operations.change_deadlines(w.user("coordinator"), action, None, days(25), "Sooner.")
        assert excinfo.value.field == "closure_due_date" and "at least" in str(excinfo.value.message)
    with at(40), w.session():
        action = db.session.get(CorrectiveAction, action_id)
        coordinator = w.user("coordinator")
        change = operations.change_deadlines
        cases = [
            (lambda: change(coordinator, action, None, None, "Nothing."), "plan_due_date"),
            (lambda: change(coordinator, action, days(39), None, "Past."), "plan_due_date"),
            (lambda: change(coordinator, action, days(50), None, ""), "reason"),
            (lambda: change(coordinator, action, None, days(39), "In the past."), "closure_due_date"),
            (lambda: change(coordinator, action, None, days(40 + 91), "Too long."), "closure_due_date"),
            (lambda: change(coordinator, action, days(100), None, "Plan after closure."), "closure_due_date"),
        ]
        for call, field in cases:
            with pytest.raises(OperationError) as excinfo:
                call()
            assert excinfo.value.field == field
        with pytest.raises(OperationError):
            change(w.user("monitor"), action, days(50), None, "Not mine to change.")
        assert (action.plan_due_date, action.closure_due_date) == (days(7), days(90))
        # The plan deadline in the past stays as it is when only the closure moves.
        change(coordinator, action, None, days(40 + 90), "Flooding closed the plant.")
        assert (action.plan_due_date, action.closure_due_date) == (days(7), days(130))
        event = db.session.scalars(
            select(CaseEvent).where(
                CaseEvent.action_id == action_id, CaseEvent.kind == EventKind.deadline_changed
            )
        ).one()
        assert (event.visibility, event.supplier_id) == (Visibility.parties, w.orgs["supplier_x"])
        assert event.note == "Flooding closed the plant."


def test_a_deadline_change_is_told_to_the_supplier_but_not_the_coordinator_who_made_it(
    case_world: CaseWorld,
) -> None:
    w = case_world
    with at(0):
        action_id = w.action(w.case(severity="major"))  # plan 14, closure 180
    with at(3), w.session():
        action = db.session.get(CorrectiveAction, action_id)
        operations.change_deadlines(w.user("coordinator"), action, days(20), None, "The agent was ill.")
        told = db.session.scalars(
            select(Notification).where(
                Notification.action_id == action_id, Notification.kind == NotificationKind.deadline_changed
            )
        ).all()
        recipients = {n.user_id for n in told}
        assert w.users["supplier"].id in recipients
        assert w.users["coordinator"].id not in recipients
        assert w.users["supplier_y"].id not in recipients
        assert all(n.params["plan_due_date"] == days(20).isoformat() for n in told)
        assert all("agent" not in str(n.params) for n in told)  # the reason is protected text
