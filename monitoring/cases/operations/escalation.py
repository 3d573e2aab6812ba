"""Escalation of overdue corrective actions to the coordinators (run by the daily jobs)."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monitoring.cases import deadlines
from monitoring.cases.audience import coordinators_of
from monitoring.cases.models import (
    Case,
    CaseState,
    CorrectiveAction,
    EventKind,
    Visibility,
)
from monitoring.cases.operations.common import (
    _event,
    _params,
)
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.notifications.models import NotificationKind
from monitoring.notifications.outbox import notify

logger = logging.getLogger(__name__)


def escalate_overdue(today: date, limit: int | None = None) -> int:
    """Escalate overdue actions not yet escalated for their deadline in force (at most ``limit``)
    to the case's coordinators (the lead, or all); returns how many. Running it again escalates
    nothing new, so a caller may commit and call again until it returns 0."""
    query = (
        select(CorrectiveAction)
        .join(Case, Case.id == CorrectiveAction.case_id)
        .where(
            deadlines.overdue_clause(today),
            CorrectiveAction.escalated_dt.is_(None),
            Case.state != CaseState.closed,
        )
        .options(selectinload(CorrectiveAction.case))
        .order_by(CorrectiveAction.id)
    )
    if limit is not None:
        query = query.limit(limit)
    actions = list(db.session.scalars(query))
    now = utcnow()
    for action in actions:
        case = action.case
        due = deadlines.due_date(action)
        phase = deadlines.due_phase(action)
        action.escalated_dt = now
        _event(
            case,
            EventKind.action_escalated,
            None,
            visibility=Visibility.internal,
            action=action,
            due_date=due,
        )
        db.session.flush()
        audit.record(
            "action.escalate",
            f"Escalated corrective action {action.id} of case {case.reference}: the {phase} deadline "
            f"{due} passed",
            obj=action,
            data={"phase": phase, "due_date": due, "state": action.state.value},
        )
        notify(
            coordinators_of(case),
            NotificationKind.action_escalated,
            case=case,
            action=action,
            params=_params(case, action, phase=phase, due_date=due),
            dedupe_key=f"action_escalated:{action.id}:{phase}:{due.isoformat() if due else ''}",
        )
    if actions:
        logger.info("escalated %s overdue corrective action(s)", len(actions))
    return len(actions)
