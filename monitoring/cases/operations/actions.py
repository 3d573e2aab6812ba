"""Corrective actions: request, deadlines, the supplier's plan and work, verification."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from monitoring.accounts.models import User
from monitoring.cases import deadlines
from monitoring.cases.files import (
    PreparedFile,
    Upload,
    placeholder_ct,
    prepare_uploads,
)
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseState,
    CorrectiveAction,
    EventKind,
    Finding,
    SupplierResponse,
    Visibility,
)
from monitoring.cases.operations.common import (
    _check,
    _event,
    _optional_text,
    _refuse,
    _store,
    _tell,
    _text,
    _today,
)
from monitoring.cases.permissions import (
    can_change_deadlines,
    can_request_action,
)
from monitoring.cases.workflow import (
    REQUEST_STATES,
    Transition,
)
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.core.types import utcnow
from monitoring.notifications.models import NotificationKind
from monitoring.supplychain.queries import concerned_suppliers

logger = logging.getLogger(__name__)


@dataclass
class RequestData:
    finding_id: int
    supplier_id: int
    request: str
    plan_due_date: date | None = None
    closure_due_date: date | None = None


def request_action(actor: User, case: Case, data: RequestData) -> CorrectiveAction:
    """Ask a supplier organisation concerned by the site to correct a finding of the case."""
    if not can_request_action(actor, case):
        raise _refuse(_l("Only coordinators request corrective actions."))
    if case.state not in REQUEST_STATES:
        raise _refuse(
            _l("Corrective actions can be requested while the case is in dialogue or in remediation.")
        )
    finding = db.session.get(Finding, data.finding_id) if data.finding_id is not None else None
    if finding is None or finding.case_id != case.id:
        raise OperationError(_l("Choose a finding of this case."), field="finding_id")
    today = _today()
    suppliers = {s.organisation.id for s in concerned_suppliers(case.site_id, today)}
    if data.supplier_id not in suppliers:
        raise OperationError(
            _l("Choose a supplier that makes or supplies products of this site."), field="supplier_id"
        )
    pending = db.session.scalar(
        select(func.count())
        .select_from(CorrectiveAction)
        .where(
            CorrectiveAction.finding_id == finding.id,
            CorrectiveAction.supplier_id == data.supplier_id,
            CorrectiveAction.state != ActionState.closed,
        )
    )
    if pending:
        raise OperationError(
            _l("This supplier already has an open corrective action for this finding."), field="supplier_id"
        )
    request = _text(data.request, "request", _l("Say what the supplier is asked to do."))
    plan_due, closure_due = deadlines.default_deadlines(finding.severity, today)
    if data.plan_due_date is not None or data.closure_due_date is not None:
        plan_due = data.plan_due_date or plan_due
        closure_due = data.closure_due_date or closure_due
        deadlines.check_deadlines(finding.severity, today, plan_due, closure_due)
    now = utcnow()
    action = CorrectiveAction(
        case=case,
        finding=finding,
        supplier_id=data.supplier_id,
        state=ActionState.requested,
        severity=finding.severity,
        request_ct=placeholder_ct(),
        plan_due_date=plan_due,
        closure_due_date=closure_due,
        requested_by_id=actor.id,
        requested_dt=now,
        state_changed_dt=now,
    )
    db.session.add(action)
    db.session.flush()
    action.request = request
    _event(
        case,
        EventKind.action_requested,
        actor,
        visibility=Visibility.parties,
        supplier_id=action.supplier_id,
        action=action,
        finding=finding,
        to_state=action.state,
        due_date=plan_due,
    )
    db.session.flush()
    audit.record(
        "action.request",
        f"Requested corrective action {action.id} on case {case.reference} from organisation "
        f"{action.supplier_id}",
        actor=actor,
        obj=action,
        data={
            "case_id": case.id,
            "finding_id": finding.id,
            "supplier_id": action.supplier_id,
            "severity": action.severity.value,
            "plan_due_date": plan_due,
            "closure_due_date": closure_due,
        },
    )
    _tell(
        NotificationKind.action_requested,
        actor,
        case,
        Visibility.parties,
        action=action,
        supplier_id=action.supplier_id,
        plan_due_date=plan_due,
        closure_due_date=closure_due,
    )
    return action


def change_deadlines(
    actor: User,
    action: CorrectiveAction,
    plan_due_date: date | None,
    closure_due_date: date | None,
    reason: str,
) -> None:
    """A coordinator moves an action's deadlines, with a reason (None keeps a deadline)."""
    if not can_change_deadlines(actor, action):
        raise _refuse(_l("Only coordinators change deadlines."))
    if action.case.state is CaseState.closed or action.state is ActionState.closed:
        raise _refuse(_l("The deadlines of a closed corrective action cannot change."))
    plan_due = plan_due_date or action.plan_due_date
    closure_due = closure_due_date or action.closure_due_date
    if (plan_due, closure_due) == (action.plan_due_date, action.closure_due_date):
        raise OperationError(_l("Change at least one of the deadlines."), field="plan_due_date")
    reason = _text(reason, "reason", _l("Give the reason for the new deadline."))
    deadlines.check_deadline_change(action, _today(), plan_due, closure_due)
    old = (action.plan_due_date, action.closure_due_date)
    old_due = deadlines.due_date(action)
    action.plan_due_date, action.closure_due_date = plan_due, closure_due
    new_due = deadlines.due_date(action)
    if new_due != old_due:
        action.escalated_dt = None  # a new deadline in force may be missed (and escalated) again
    _event(
        action.case,
        EventKind.deadline_changed,
        actor,
        visibility=Visibility.parties,
        supplier_id=action.supplier_id,
        action=action,
        note=reason,
        due_date=new_due or closure_due,
    )
    db.session.flush()
    audit.record(
        "action.deadlines",
        f"Changed the deadlines of corrective action {action.id}",
        actor=actor,
        obj=action,
        data={"plan_due_date": [old[0], plan_due], "closure_due_date": [old[1], closure_due]},
    )
    _tell(
        NotificationKind.deadline_changed,
        actor,
        action.case,
        Visibility.parties,
        action=action,
        supplier_id=action.supplier_id,
        plan_due_date=plan_due,
        closure_due_date=closure_due,
    )


_ACTION_NOTICES = {
    "submit_plan": NotificationKind.plan_submitted,
    "accept_plan": NotificationKind.plan_accepted,
    "reject_plan": NotificationKind.plan_rejected,
    "report_implemented": NotificationKind.action_implemented,
    "verify": NotificationKind.action_verified,
    "reject_verification": NotificationKind.action_not_verified,
    "close_action": NotificationKind.action_closed,
}


def _move_action(
    actor: User,
    action: CorrectiveAction,
    transition: Transition,
    *,
    note: str | None = None,
    audit_data: dict[str, Any] | None = None,
) -> None:
    """Take a checked transition: state, timeline event, audit entry, notifications."""
    old = action.state
    old_due = (deadlines.due_phase(action), deadlines.due_date(action))
    now = utcnow()
    action.state = transition.target
    action.state_changed_dt = now
    if action.state is ActionState.closed:
        action.closed_dt = now
    due = deadlines.due_date(action)
    if (deadlines.due_phase(action), due) != old_due:
        action.escalated_dt = None
    case = action.case
    _event(
        case,
        EventKind.action_state_changed,
        actor,
        visibility=Visibility.parties,
        supplier_id=action.supplier_id,
        action=action,
        from_state=old,
        to_state=action.state,
        note=note,
        due_date=due,
    )
    db.session.flush()
    audit.record(
        f"action.{transition.name}",
        f"Moved corrective action {action.id} of case {case.reference} "
        f"from {old.value} to {action.state.value}",
        actor=actor,
        obj=action,
        data={"state": [old.value, action.state.value], **(audit_data or {})},
    )
    _tell(
        _ACTION_NOTICES[transition.name],
        actor,
        case,
        Visibility.parties,
        action=action,
        supplier_id=action.supplier_id,
        from_state=old.value,
        to_state=action.state.value,
        due_date=due,
    )


@dataclass
class PlanData:
    root_cause: str
    corrective: str
    preventive: str
    target_date: date | None


def submit_plan(actor: User, action: CorrectiveAction, data: PlanData) -> SupplierResponse:
    """The supplier answers with root cause, corrective and preventive action and a target date."""
    transition = _check(actor, action, "submit_plan")
    root_cause = _text(data.root_cause, "root_cause", _l("Describe the root cause."))
    corrective = _text(data.corrective, "corrective", _l("Describe the corrective action."))
    preventive = _text(data.preventive, "preventive", _l("Describe the preventive action."))
    if data.target_date is None:
        raise OperationError(_l("Give the date by which the plan will be carried out."), field="target_date")
    if data.target_date < _today():
        raise OperationError(_l("The target date cannot be in the past."), field="target_date")
    response = SupplierResponse(
        action=action,
        root_cause_ct=placeholder_ct(),
        corrective_ct=placeholder_ct(),
        preventive_ct=placeholder_ct(),
        target_date=data.target_date,
        submitted_by_id=actor.id,
        submitted_dt=utcnow(),
    )
    db.session.add(response)
    db.session.flush()
    response.root_cause = root_cause
    response.corrective = corrective
    response.preventive = preventive
    _move_action(
        actor,
        action,
        transition,
        audit_data={"response_id": response.id, "target_date": data.target_date},
    )
    return response


def _pending_response(action: CorrectiveAction) -> SupplierResponse:
    pending = [r for r in action.responses if r.accepted is None]
    if not pending:  # the table guarantees one in plan_submitted; a broken row must not pass
        raise _refuse(_l("There is no plan to decide on."))
    return pending[-1]


def accept_plan(actor: User, action: CorrectiveAction) -> None:
    transition = _check(actor, action, "accept_plan")
    response = _pending_response(action)
    response.accepted = True
    response.decided_by_id = actor.id
    response.decided_dt = utcnow()
    _move_action(actor, action, transition, audit_data={"response_id": response.id})


def reject_plan(actor: User, action: CorrectiveAction, reason: str) -> None:
    """Reject the plan with a reason; the supplier submits a new one."""
    transition = _check(actor, action, "reject_plan")
    reason = _text(reason, "reason", _l("Say why the plan is rejected."))
    response = _pending_response(action)
    response.accepted = False
    response.decided_by_id = actor.id
    response.decided_dt = utcnow()
    response.rejection_reason = reason
    _move_action(actor, action, transition, note=reason, audit_data={"response_id": response.id})


def report_implemented(
    actor: User, action: CorrectiveAction, description: str, files: Sequence[Upload] = ()
) -> None:
    """The supplier reports the action carried out, with evidence files if it has any."""
    transition = _check(actor, action, "report_implemented")
    description = _text(description, "description", _l("Describe what was done."))
    prepared = prepare_uploads(files)
    # A file refused while it is stored leaves nothing behind.
    attempt(_implement, actor, action, transition, description, prepared)


def _implement(
    actor: User,
    action: CorrectiveAction,
    transition: Transition,
    description: str,
    prepared: list[PreparedFile],
) -> None:
    stored = _store(actor, action.case, prepared, action=action)
    action.implementation = description
    action.implemented_dt = utcnow()
    _move_action(actor, action, transition, note=description, audit_data={"files": [f.id for f in stored]})


def verify_action(actor: User, action: CorrectiveAction, verified: bool, note: str | None) -> None:
    """A monitor of the case's organisation verifies the implementation, or finds it wanting."""
    name = "verify" if verified else "reject_verification"
    transition = _check(actor, action, name)
    # A verification may come without a note; a refusal must say what was not verified.
    note = _optional_text(note, "note") if verified else _text(note, "note", _l("Say what was not verified."))
    action.verification = note
    action.verified_by_id = actor.id
    action.verified_dt = utcnow()
    _move_action(actor, action, transition, note=note)


def close_action(actor: User, action: CorrectiveAction) -> None:
    transition = _check(actor, action, "close_action")
    _move_action(actor, action, transition)
