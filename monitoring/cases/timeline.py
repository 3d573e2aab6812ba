"""One timeline per case: the messages and events a user reads, and the deadlines ahead.

Items come oldest first. A deadline is placed at the end of its day (UTC), so that what
happened on the day it falls due comes before it; deadlines in force that have passed are
kept and marked overdue. An event about a finding carries the finding when the user may see
it, so that the page names it by its standard rather than by its number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal

from sqlalchemy import and_
from sqlalchemy.orm import selectinload

from monitoring.accounts.models import User
from monitoring.cases import deadlines
from monitoring.cases.models import Case, CaseEvent, CaseMessage, CorrectiveAction, Finding
from monitoring.cases.permissions import visible_actions, visible_events, visible_findings, visible_messages
from monitoring.core.db import db

ItemKind = Literal["message", "event", "deadline"]
# The last instant of a day; deadlines sort after everything else that day.
END_OF_DAY = time(23, 59, 59, 999999)


@dataclass(frozen=True)
class TimelineItem:
    kind: ItemKind
    dt: datetime
    message: CaseMessage | None = None
    event: CaseEvent | None = None
    # For events about a finding the user may see: that finding.
    finding: Finding | None = None
    # For deadlines: the action, which deadline ("plan" or "closure"), the date, whether it passed.
    action: CorrectiveAction | None = None
    phase: deadlines.Phase | None = None
    due_date: date | None = None
    overdue: bool = False

    @property
    def id(self) -> str:
        """A key that is unique within the timeline (for anchors and API clients)."""
        if self.message is not None:
            return f"message-{self.message.id}"
        if self.event is not None:
            return f"event-{self.event.id}"
        assert self.action is not None
        return f"deadline-{self.action.id}-{self.phase}"


def deadline_dt(due: date) -> datetime:
    return datetime.combine(due, END_OF_DAY, tzinfo=UTC)


def timeline(user: User, case: Case, today: date) -> list[TimelineItem]:
    """The case's timeline as this user may read it (four queries whatever its length)."""
    messages = db.session.scalars(visible_messages(user, case)).unique().all()
    # The event's finding comes in the same query, and only if the user may see it.
    seen = Finding.id.in_(visible_findings(user).with_only_columns(Finding.id))
    events = db.session.execute(
        visible_events(user, case)
        .outerjoin(Finding, and_(Finding.id == CaseEvent.finding_id, seen))
        .add_columns(Finding)
        .options(selectinload(CaseEvent.action))
    ).all()
    actions = db.session.scalars(
        visible_actions(user)
        .where(CorrectiveAction.case_id == case.id, deadlines.due_date_column().is_not(None))
        .order_by(CorrectiveAction.id)
    ).all()
    items = [TimelineItem("message", m.created_dt, message=m) for m in messages]
    items += [TimelineItem("event", e.created_dt, event=e, finding=f) for e, f in events]
    for action in actions:
        due = deadlines.due_date(action)
        if due is None:
            continue
        items.append(
            TimelineItem(
                "deadline",
                deadline_dt(due),
                action=action,
                phase=deadlines.due_phase(action),
                due_date=due,
                overdue=due < today,
            )
        )
    order = {"event": 0, "message": 1, "deadline": 2}
    return sorted(items, key=lambda item: (item.dt, order[item.kind], item.id))
