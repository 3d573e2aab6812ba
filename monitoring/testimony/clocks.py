"""Reminders and escalations of the Whistleblower Directive clocks of direct reports.

Only direct reports (web and hotline: ``sealing.DIRECT_CHANNELS``) carry the clocks:
acknowledge within ``REPORT_ACKNOWLEDGE_DAYS`` (7), feedback within ``REPORT_FEEDBACK_DAYS``
(90). Acknowledging (:func:`operations.acknowledge`, any status change or a reply) sets
``acknowledged_dt``; recording feedback (:func:`operations.record_feedback`, a reply marked as
feedback) sets ``feedback_dt``; either stops its clock.

``REPORT_CLOCK_REMINDER_DAYS`` (2) before a clock runs out, the report's monitors are reminded:
the member who recorded it (a hotline call) while they are a member, else every member. Once it
ran out, every member of the organisation is told, and the coordinators are told as metadata
(the organisation, the report's number and country, the deadline): with the 7-day clock of a
report filed on day 0, the reminder goes out on day 5 and the escalation on day 8. Each is sent
once per clock and deadline, recorded in :class:`ReportClockNotice`. These flush, never commit;
:mod:`.jobs` commits each batch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, exists, select
from sqlalchemy.orm import InstrumentedAttribute

from monitoring.accounts.models import Organisation, User
from monitoring.core.db import db
from monitoring.core.roles import UserRole
from monitoring.notifications.models import NotificationKind
from monitoring.notifications.outbox import notify
from monitoring.testimony.alerts import members, report_params
from monitoring.testimony.models import (
    ClockNoticeStage,
    ReportClock,
    ReportClockNotice,
    ReportStatus,
    WorkerReport,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClockColumns:
    due: InstrumentedAttribute[datetime | None]
    done: InstrumentedAttribute[datetime | None]


CLOCKS: dict[ReportClock, ClockColumns] = {
    ReportClock.acknowledge: ClockColumns(WorkerReport.acknowledge_due_dt, WorkerReport.acknowledged_dt),
    ReportClock.feedback: ClockColumns(WorkerReport.feedback_due_dt, WorkerReport.feedback_dt),
}


def reminder_days() -> int:
    return int(current_app.config["REPORT_CLOCK_REMINDER_DAYS"])


def _running(clock: ReportClock) -> ColumnElement[bool]:
    """The clock runs: set, not stopped, and (for feedback) the report is still open."""
    columns = CLOCKS[clock]
    condition = and_(columns.due.is_not(None), columns.done.is_(None))
    if clock is ReportClock.feedback:
        condition = and_(condition, WorkerReport.status != ReportStatus.closed)
    return condition


def _not_told(clock: ReportClock, stage: ClockNoticeStage) -> ColumnElement[bool]:
    return ~exists().where(
        ReportClockNotice.report_id == WorkerReport.id,
        ReportClockNotice.clock == clock,
        ReportClockNotice.stage == stage,
        ReportClockNotice.due_dt == CLOCKS[clock].due,
    )


def due_notices(clock: ReportClock, stage: ClockNoticeStage, now: datetime, limit: int) -> Select[Any]:
    """Reports owing this notice now, oldest deadline first, at most ``limit``."""
    due = CLOCKS[clock].due
    if stage is ClockNoticeStage.reminder:
        window = and_(due > now, due <= now + timedelta(days=reminder_days()))
    else:
        window = due < now
    return (
        select(WorkerReport)
        .where(_running(clock), window, _not_told(clock, stage))
        .order_by(due, WorkerReport.id)
        .limit(limit)
    )


def coordinators() -> list[User]:
    """Active coordinators of active organisations (told of overdue reports as metadata)."""
    return list(
        db.session.scalars(
            select(User)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(
                User.role == UserRole.coordinator,
                User.is_active.is_(True),
                Organisation.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )


def _handler(report: WorkerReport, colleagues: Iterable[User]) -> list[User]:
    """Who is reminded: the member who recorded the report, else every member."""
    everyone = list(colleagues)
    recorder = [user for user in everyone if user.id == report.created_by_id]
    return recorder or everyone


def send_notice(
    report: WorkerReport,
    clock: ReportClock,
    stage: ClockNoticeStage,
    now: datetime,
    escalate_to: list[User] | None = None,
) -> ReportClockNotice:
    """Tell the report's monitors (and, escalating, ``escalate_to``) once; record it."""
    due: datetime | None = getattr(report, CLOCKS[clock].due.key)
    if due is None:
        raise ValueError(f"report {report.id} has no {clock.value} clock")
    params = {**report_params(report), "clock": clock.value, "due_date": due.date().isoformat()}
    colleagues = members(report.organisation)
    if stage is ClockNoticeStage.reminder:
        sent = notify(_handler(report, colleagues), NotificationKind.report_clock_reminder, params=params)
    else:
        sent = notify(colleagues, NotificationKind.report_clock_overdue, params=params)
        # The coordinators get no link to the report (it is not theirs to open): its number only.
        coordinator_params = {
            "report_number": report.id,
            "country": report.country,
            "organisation": report.organisation.name,
            "clock": clock.value,
            "due_date": due.date().isoformat(),
        }
        sent += notify(escalate_to or [], NotificationKind.report_clock_escalated, params=coordinator_params)
    notice = ReportClockNotice(
        report_id=report.id, clock=clock, stage=stage, due_dt=due, sent_dt=now, recipients=len(sent)
    )
    db.session.add(notice)
    db.session.flush()
    logger.info("report %s: %s %s sent to %d people", report.id, clock.value, stage.value, len(sent))
    return notice


def send_due_notices(now: datetime, limit: int) -> int:
    """One batch: up to ``limit`` reports per clock and stage get their notice; return how many."""
    sent = 0
    escalate_to: list[User] | None = None
    for clock in ReportClock:
        for stage in ClockNoticeStage:
            reports = list(db.session.scalars(due_notices(clock, stage, now, limit)))
            if reports and stage is ClockNoticeStage.escalation and escalate_to is None:
                escalate_to = coordinators()
            for report in reports:
                send_notice(report, clock, stage, now, escalate_to)
                sent += 1
    return sent
