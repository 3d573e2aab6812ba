"""The remediation demo data: four cases in different states, loaded once, seen by the demo roles."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import Flask
from sqlalchemy import func, select

from monitoring.accounts.models import User, UserRole
from monitoring.cases import deadlines, permissions
from monitoring.cases.demo import MONITOR_ORGANISATION, SITES, SUPPLIER
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseEvent,
    CaseFile,
    CaseMessage,
    CaseOutcome,
    CaseState,
    CorrectiveAction,
    Finding,
    FindingReport,
    RemedyKind,
    SupplierResponse,
    Visibility,
)
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.demo import LOGINS, load_demo
from monitoring.notifications.models import MailState, Notification
from monitoring.testimony.models import WorkerReport
from tests.conftest import login

LOGIN = {x.role: x for x in LOGINS}
MODELS = (Finding, FindingReport, Case, CorrectiveAction, SupplierResponse, CaseMessage, CaseFile, CaseEvent)


def _counts() -> dict[str, int]:
    models = (*MODELS, Notification, AuditEntry)
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def _cases() -> dict[CaseState, Case]:
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    by_state = {case.state: case for case in cases}
    assert len(by_state) == len(cases), "one demo case per state"
    return by_state


def _user(role: UserRole) -> User:
    user = db.session.scalar(select(User).where(User.email == LOGIN[role].email))
    assert user is not None
    return user


def test_demo_makes_four_cases_once(app: Flask) -> None:
    with app.app_context():
        result = load_demo()
        db.session.commit()
        assert result.created_cases == 4
        cases = _cases()
        assert set(cases) == {CaseState.open, CaseState.in_dialogue, CaseState.remediation, CaseState.closed}
        assert {c.site.name for c in cases.values()} == set(SITES.values())
        assert {c.monitor_organisation.name for c in cases.values()} == {MONITOR_ORGANISATION}
        before = _counts()
        assert all(before[m.__name__] > 0 for m in MODELS)

        again = load_demo()
        db.session.commit()
        assert again.created_cases == 0
        assert not again.changed
        assert _counts() == before


def test_demo_cases_hold_each_step(app: Flask) -> None:
    with app.app_context():
        load_demo()
        db.session.commit()
        cases = _cases()
        today = utcnow().date()
        lumenbyte = _user(UserRole.supplier).organisation
        assert lumenbyte.name == SUPPLIER

        # Open: nothing requested yet.
        assert cases[CaseState.open].actions == []

        # In dialogue: the action requested of the demo supplier is overdue, and it is the only one.
        dialogue = cases[CaseState.in_dialogue]
        (action,) = dialogue.actions
        assert action.supplier_id == lumenbyte.id and action.state is ActionState.requested
        assert deadlines.is_overdue(action, today)
        overdue = select(CorrectiveAction.id).where(deadlines.overdue_clause(today))
        assert db.session.scalars(overdue).all() == [action.id]
        messages = db.session.scalars(select(CaseMessage).where(CaseMessage.case_id == dialogue.id)).all()
        assert {m.visibility for m in messages} == set(Visibility)
        assert {m.supplier_id for m in messages if m.visibility is Visibility.parties} == {lumenbyte.id}
        assert {m.author.role for m in messages} >= {UserRole.monitor, UserRole.affiliate, UserRole.supplier}

        # Remediation: a plan rejected with a reason, then a second one accepted.
        remediation = cases[CaseState.remediation]
        (action,) = remediation.actions
        assert action.state is ActionState.plan_accepted
        first, second = action.responses
        assert first.accepted is False and first.rejection_reason
        assert second.accepted is True and second.submitted_dt > first.decided_dt
        assert not deadlines.is_overdue(action, today)
        # A finding with fewer than five workers: suppressed for buyers and suppliers.
        assert min(f.workers_affected or 99 for f in remediation.findings) < permissions.SMALL_CELL

        # Closed: fees repaid in ringgit and passports returned, the workers consulted.
        closed = cases[CaseState.closed]
        assert closed.outcome is CaseOutcome.resolved
        assert all(a.state is ActionState.closed for a in closed.actions)
        (closure,) = closed.closures
        assert (
            closure.workers_consulted_by is not None and closure.workers_consulted_by.role is UserRole.monitor
        )
        remedies = {r.kind: r for r in closure.remedies}
        assert set(remedies) == {RemedyKind.fees_repaid, RemedyKind.passports_returned}
        fees = remedies[RemedyKind.fees_repaid]
        assert fees.currency == "MYR" and fees.amount > Decimal(0) and fees.workers_covered == 75
        assert remedies[RemedyKind.passports_returned].workers_covered == 75
        assert db.session.scalar(select(func.count(CaseFile.id)).where(CaseFile.case_id == closed.id)) == 1

        # The steps are dated over the past months, in order, and the deadlines follow the requests.
        assert closed.opened_dt < remediation.opened_dt < dialogue.opened_dt < cases[CaseState.open].opened_dt
        assert closed.closed_dt is not None and closed.closed_dt < utcnow() - timedelta(days=60)
        for case in cases.values():
            events = db.session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            ).all()
            assert [e.created_dt for e in events] == sorted(e.created_dt for e in events)
            for a in case.actions:
                plan_due, closure_due = deadlines.default_deadlines(a.severity, a.requested_dt.date())
                assert (a.plan_due_date, a.closure_due_date) == (plan_due, closure_due)

        # Findings link the testimony demo's reports of the same organisation.
        linked = db.session.scalars(
            select(WorkerReport).join(FindingReport, FindingReport.report_id == WorkerReport.id)
        ).all()
        assert linked and {r.organisation.name for r in linked} == {MONITOR_ORGANISATION}

        # What the demo queued shows in the app but is never mailed to the made-up addresses.
        states = set(db.session.scalars(select(Notification.mail_state)))
        assert states == {MailState.skipped}
        assert db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == _user(UserRole.supplier).id)
        )


def test_demo_roles_see_their_cases(app: Flask) -> None:
    with app.app_context():
        load_demo()
        db.session.commit()
        cases = _cases()
        refs = {state: case.reference for state, case in cases.items()}
        affiliate_sees = set(db.session.scalars(permissions.visible_cases(_user(UserRole.affiliate))))
        assert {c.state for c in affiliate_sees} == {
            CaseState.in_dialogue,
            CaseState.remediation,
            CaseState.closed,
        }
        dialogue = cases[CaseState.in_dialogue]
        bodies = {
            m.visibility: m.body
            for m in db.session.scalars(select(CaseMessage).where(CaseMessage.case_id == dialogue.id))
        }
        dialogue_id = dialogue.id
    # The affiliate (City of Northhaven): the three cases its contracts reach, shared dialogue only.
    affiliate = app.test_client()
    assert (
        login(affiliate, LOGIN[UserRole.affiliate].email, LOGIN[UserRole.affiliate].password).status_code
        == 302
    )
    board = affiliate.get("/cases/").get_data(as_text=True)
    assert refs[CaseState.in_dialogue] in board and refs[CaseState.closed] in board
    assert refs[CaseState.open] not in board
    page = affiliate.get(f"/cases/{dialogue_id}").get_data(as_text=True)
    assert _html(bodies[Visibility.buyers]) in page and _html(bodies[Visibility.parties]) in page
    assert _html(bodies[Visibility.internal]) not in page
    # The supplier (Lumenbyte Devices): its requests, the overdue one among them.
    supplier = app.test_client()
    assert (
        login(supplier, LOGIN[UserRole.supplier].email, LOGIN[UserRole.supplier].password).status_code == 302
    )
    requests = supplier.get("/requests/").get_data(as_text=True)
    assert refs[CaseState.in_dialogue] in requests and refs[CaseState.remediation] in requests
    page = supplier.get(f"/cases/{dialogue_id}").get_data(as_text=True)
    assert _html(bodies[Visibility.parties]) in page
    assert _html(bodies[Visibility.buyers]) not in page and _html(bodies[Visibility.internal]) not in page
    assert supplier.get(f"/cases/{cases_open_id(app)}").status_code == 404
    # The monitor reads the internal message too.
    monitor = app.test_client()
    assert login(monitor, LOGIN[UserRole.monitor].email, LOGIN[UserRole.monitor].password).status_code == 302
    assert _html(bodies[Visibility.internal]) in monitor.get(f"/cases/{dialogue_id}").get_data(as_text=True)


def cases_open_id(app: Flask) -> int:
    with app.app_context():
        return _cases()[CaseState.open].id


def _html(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
