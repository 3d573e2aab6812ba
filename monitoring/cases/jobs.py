"""The daily jobs of ``flask jobs run``: deadline reminders, overdue notices, escalation, e-mail.

Reminders and overdue notices go to the users of the supplier organisation an action is
addressed to, once per action, phase and due date (a changed deadline is reminded again).
Every step commits before the next (jobs are transactions of their own), and e-mail is sent
last, from committed rows only.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import contains_eager

from monitoring.accounts.models import Organisation, User
from monitoring.cases.deadlines import due_date_column, due_phase, overdue_clause
from monitoring.cases.models import Case, CaseState, CorrectiveAction
from monitoring.cases.operations import escalate_overdue
from monitoring.core.db import db
from monitoring.core.roles import UserRole
from monitoring.core.types import utcnow
from monitoring.notifications.delivery import DeliveryResult, deliver_pending
from monitoring.notifications.models import NotificationKind
from monitoring.notifications.outbox import notify

logger = logging.getLogger(__name__)

# Actions handled per transaction by the jobs below.
BATCH = 200


@dataclass
class JobsResult:
    reminders: int = 0
    overdue: int = 0
    escalated: int = 0
    delivery: DeliveryResult = field(default_factory=DeliveryResult)

    def summary(self) -> str:
        return (
            f"notifications: {self.reminders} deadline reminders, {self.overdue} overdue notices, "
            f"{self.escalated} escalations; {self.delivery.summary()}"
        )


def _actions_due(condition: ColumnElement[bool]) -> list[tuple[CorrectiveAction, date]]:
    """Actions of open cases whose deadline in force meets ``condition``, with that deadline."""
    due = due_date_column().label("due")
    query = (
        select(CorrectiveAction, due)
        .join(CorrectiveAction.case)
        .options(contains_eager(CorrectiveAction.case))
        .where(Case.state != CaseState.closed, condition)
        .order_by(CorrectiveAction.id)
    )
    return [(action, due_date) for action, due_date in db.session.execute(query).unique().all()]


def _supplier_users(supplier_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active users of each supplier organisation, in one query."""
    ids = set(supplier_ids)
    users: dict[int, list[User]] = defaultdict(list)
    if not ids:
        return users
    query = (
        select(User)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(
            User.organisation_id.in_(ids),
            User.role == UserRole.supplier,
            User.is_active.is_(True),
            Organisation.is_active.is_(True),
        )
        .order_by(User.id)
    )
    for user in db.session.scalars(query):
        users[user.organisation_id].append(user)
    return users


def _params(action: CorrectiveAction, phase: str, due: date) -> dict[str, Any]:
    case = action.case
    return {
        "reference": case.reference,
        "site": case.site.name,
        "supplier": action.supplier.name,
        "phase": phase,
        "due_date": due.isoformat(),
    }


def _notify_suppliers(
    rows: list[tuple[CorrectiveAction, date]], kind: NotificationKind, key_prefix: str
) -> int:
    """Queue one notice per action to its supplier's users, committing every BATCH actions."""
    recipients = _supplier_users(action.supplier_id for action, _due in rows)
    created = 0
    for number, (action, due) in enumerate(rows, start=1):
        if number % BATCH == 0:
            db.session.commit()
        phase = due_phase(action)
        if phase is None or due is None:
            continue
        created += len(
            notify(
                recipients.get(action.supplier_id, []),
                kind,
                action=action,
                params=_params(action, phase, due),
                dedupe_key=f"{key_prefix}:{action.id}:{phase}:{due.isoformat()}",
            )
        )
    return created


def queue_reminders(today: date) -> int:
    """Remind the supplier of deadlines due within ``DEADLINE_REMINDER_DAYS``; return rows queued."""
    days = int(current_app.config["DEADLINE_REMINDER_DAYS"])
    if days <= 0:
        return 0
    due = due_date_column()
    rows = _actions_due((due >= today) & (due <= today + timedelta(days=days)))
    return _notify_suppliers(rows, NotificationKind.deadline_reminder, "reminder")


def queue_overdue_notices(today: date) -> int:
    """Tell the supplier once that a deadline has passed; return rows queued."""
    return _notify_suppliers(
        _actions_due(overdue_clause(today)), NotificationKind.deadline_overdue, "overdue"
    )


def run_notification_jobs(
    today: date | None = None, now: datetime | None = None, *, deliver: bool = True
) -> JobsResult:
    """Queue reminders and overdue notices, escalate overdue actions, then send pending e-mail."""
    now = now or utcnow()
    today = today or now.date()
    result = JobsResult()
    result.reminders = queue_reminders(today)
    db.session.commit()
    result.overdue = queue_overdue_notices(today)
    db.session.commit()
    # In batches, each its own transaction: a backlog of overdue actions must not hold the
    # audit chain's lock (and SQLite's write lock) for the whole run.
    while escalated := escalate_overdue(today, limit=BATCH):
        result.escalated += escalated
        db.session.commit()
    if deliver:
        result.delivery = deliver_pending(now=now)
    logger.info(result.summary())
    return result
