"""Corrective-action deadlines: defaults from severity, their bounds, and overdue in SQL.

An action has two deadlines. The *plan* deadline is in force while the supplier owes a plan
(requested, plan rejected); the *closure* deadline while the plan is being decided or carried
out (plan submitted, plan accepted, not verified). Once the supplier reports the action
implemented, and after verification, no supplier deadline is in force. The defaults and bounds
follow the RBA practice and are configured in days (``MONITORING_ACTION_*_DAYS_*``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Exists,
    Integer,
    ScalarSelect,
    Subquery,
    case,
    cast,
    exists,
    func,
    select,
)

from monitoring.cases.models import ActionState, Case, CorrectiveAction, Severity
from monitoring.core.operations import OperationError

PLAN_PHASE = frozenset({ActionState.requested, ActionState.plan_rejected})
CLOSURE_PHASE = frozenset({ActionState.plan_submitted, ActionState.plan_accepted, ActionState.not_verified})

Phase = Literal["plan", "closure"]


def _severity(severity: Severity | str) -> Severity:
    return Severity(severity)


def plan_days(severity: Severity | str) -> int:
    return int(current_app.config[f"ACTION_PLAN_DAYS_{_severity(severity).name.upper()}"])


def closure_days(severity: Severity | str) -> int:
    """The default and the latest closure deadline, in days from the request."""
    return int(current_app.config[f"ACTION_CLOSURE_DAYS_{_severity(severity).name.upper()}"])


def closure_min_days(severity: Severity | str) -> int:
    """The earliest closure deadline, in days (only priority findings have one)."""
    if _severity(severity) is Severity.priority:
        return int(current_app.config["ACTION_CLOSURE_MIN_DAYS_PRIORITY"])
    return 0


def default_deadlines(severity: Severity | str, today: date) -> tuple[date, date]:
    """(plan due, closure due) for an action requested today."""
    return today + timedelta(days=plan_days(severity)), today + timedelta(days=closure_days(severity))


def _check_order(plan_due: date, closure_due: date) -> None:
    if closure_due < plan_due:
        raise OperationError(
            _l("The closure deadline cannot be before the plan deadline."), field="closure_due_date"
        )


def _check_closure_bounds(severity: Severity, earliest: date, latest: date, closure_due: date) -> None:
    if closure_due > latest:
        raise OperationError(
            _l(
                "For a finding of this severity the closure deadline can be at most %(days)s days away.",
                days=closure_days(severity),
            ),
            field="closure_due_date",
        )
    if closure_due < earliest:
        raise OperationError(
            _l(
                "For a finding of this severity the closure deadline must be at least %(days)s days away.",
                days=closure_min_days(severity),
            ),
            field="closure_due_date",
        )


def check_deadlines(severity: Severity | str, today: date, plan_due: date, closure_due: date) -> None:
    """Refuse deadlines for a new request outside their bounds (OperationError naming the field).

    The plan is due today at the earliest and no later than the closure; the closure is due at
    most the severity's closure days from today (for priority findings also at least the minimum).
    """
    severity = _severity(severity)
    if plan_due < today:
        raise OperationError(_l("The plan deadline cannot be in the past."), field="plan_due_date")
    _check_order(plan_due, closure_due)
    _check_closure_bounds(
        severity,
        today + timedelta(days=closure_min_days(severity)),
        today + timedelta(days=closure_days(severity)),
        closure_due,
    )


def check_deadline_change(action: CorrectiveAction, today: date, plan_due: date, closure_due: date) -> None:
    """Refuse changed deadlines of an existing action outside their bounds.

    Only a date that changes must lie ahead; a changed closure deadline may be at most the
    severity's closure days from today, and for priority findings no earlier than the minimum
    counted from the request.
    """
    severity = action.severity
    if plan_due != action.plan_due_date and plan_due < today:
        raise OperationError(_l("The plan deadline cannot be in the past."), field="plan_due_date")
    _check_order(plan_due, closure_due)
    if closure_due != action.closure_due_date:
        if closure_due < today:
            raise OperationError(_l("The closure deadline cannot be in the past."), field="closure_due_date")
        requested = action.requested_dt.date()
        _check_closure_bounds(
            severity,
            requested + timedelta(days=closure_min_days(severity)),
            today + timedelta(days=closure_days(severity)),
            closure_due,
        )


# --- which deadline is in force ---------------------------------------------------------------


def due_date_column() -> ColumnElement[Any]:
    """The deadline in force of each action, in SQL (NULL when none is)."""
    return case(
        (CorrectiveAction.state.in_(PLAN_PHASE), CorrectiveAction.plan_due_date),
        (CorrectiveAction.state.in_(CLOSURE_PHASE), CorrectiveAction.closure_due_date),
        else_=None,
    )


def overdue_clause(today: date) -> ColumnElement[bool]:
    """The action's deadline in force has passed (due before today)."""
    return due_date_column() < today


def due_phase(action: CorrectiveAction) -> Phase | None:
    if action.state in PLAN_PHASE:
        return "plan"
    if action.state in CLOSURE_PHASE:
        return "closure"
    return None


def due_date_for(action: CorrectiveAction, state: ActionState) -> date | None:
    """The deadline that would be in force with the action in ``state``."""
    if state in PLAN_PHASE:
        return action.plan_due_date
    if state in CLOSURE_PHASE:
        return action.closure_due_date
    return None


def due_date(action: CorrectiveAction) -> date | None:
    return due_date_for(action, action.state)


def is_overdue(action: CorrectiveAction, today: date) -> bool:
    due = due_date(action)
    return due is not None and due < today


def case_next_due() -> ScalarSelect[Any]:
    """In a query of cases: the earliest deadline in force over the case's actions, looked up per
    case through the index on the actions' case (a list of 50 looks up 50, whatever the data)."""
    query = select(func.min(due_date_column())).where(CorrectiveAction.case_id == Case.id)
    return query.correlate(Case).scalar_subquery()


def case_overdue(today: date) -> Exists:
    """In a query of cases: one of the case's actions is overdue (its deadline in force passed)."""
    return exists().where(CorrectiveAction.case_id == Case.id, overdue_clause(today)).correlate(Case)


def next_deadline_subquery(today: date | None = None) -> Subquery:
    """Per case: ``case_id``, ``next_due`` (the earliest deadline in force over its actions)
    and, with ``today``, ``overdue`` (how many of its actions are overdue). Outer-join it on
    ``Case.id`` for lists."""
    due = due_date_column()
    columns: list[Any] = [CorrectiveAction.case_id.label("case_id"), func.min(due).label("next_due")]
    if today is not None:
        columns.append(
            cast(func.coalesce(func.sum(case((overdue_clause(today), 1), else_=0)), 0), Integer).label(
                "overdue"
            )
        )
    return select(*columns).group_by(CorrectiveAction.case_id).subquery("next_deadline")
