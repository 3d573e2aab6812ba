"""Retaliation watch: schedule check-ins, take the worker's answers and flags, raise alerts.

A report filed with a receipt gets check-ins on the days of ``RETALIATION_CHECKIN_DAYS`` after
it was filed, and a new series after each closure of a case linked to it (the cases feature
calls :func:`schedule_after_closure`). The worker's follow-up page shows the check-in that is
due (the newest whose day has come, while unanswered): nothing depends on a job having run.
A "yes", or a flag the worker raises at any time, is a :class:`RetaliationAlert` for the
receiving organisation: its members are notified at once (metadata only: the report's number
and country), and :func:`escalate_due_alerts` (``flask jobs run``) tells every member again and
the coordinators (metadata only) once an alert waited ``RETALIATION_ALERT_ESCALATE_DAYS``.

The answer is metadata (it raises the alert); the worker's comment is sealed as a message of
the conversation, like any worker reply. These functions flush and audit, never commit.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.config import retaliation_checkin_days
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.notifications.models import NotificationKind
from monitoring.notifications.outbox import notify
from monitoring.testimony import alerts, sealing
from monitoring.testimony.models import ReportMessage, RetaliationRisk, WorkerReport
from monitoring.testimony.models_retaliation import (
    AlertSource,
    AlertState,
    CheckInAnswer,
    CheckInSeries,
    RetaliationAlert,
    RetaliationCheckIn,
)

logger = logging.getLogger(__name__)

MAX_COMMENT_LENGTH = 10_000
# The shareable summary proposed for a retaliation finding filed from an alert.
DEFAULT_FINDING_SUMMARY = _l(
    "A worker who reported a problem at this workplace says they were punished for speaking up."
)


def checkin_days() -> tuple[int, ...]:
    return retaliation_checkin_days(current_app.config["RETALIATION_CHECKIN_DAYS"])


def escalate_after() -> timedelta:
    return timedelta(days=int(current_app.config["RETALIATION_ALERT_ESCALATE_DAYS"]))


# --- the schedule ---------------------------------------------------------------------------


def schedule_check_ins(
    report: WorkerReport, series: CheckInSeries, anchor_dt: datetime, case_id: int | None = None
) -> list[RetaliationCheckIn]:
    """Plan the report's check-ins after ``anchor_dt``; only reports with a receipt have them.

    A series planned already (the same report and start) is left as it is.
    """
    if report.receipt_lookup is None:
        return []
    planned = set(
        db.session.scalars(
            select(RetaliationCheckIn.days).where(
                RetaliationCheckIn.report_id == report.id, RetaliationCheckIn.anchor_dt == anchor_dt
            )
        )
    )
    made = [
        RetaliationCheckIn(
            report_id=report.id,
            series=series,
            case_id=case_id,
            anchor_dt=anchor_dt,
            days=days,
            due_dt=anchor_dt + timedelta(days=days),
        )
        for days in checkin_days()
        if days not in planned
    ]
    db.session.add_all(made)
    db.session.flush()
    if made:
        audit.record(
            "report.check_ins_scheduled",
            f"Planned {len(made)} retaliation check-ins of report {report.id} ({series.value})",
            obj=report,
            data={"series": series.value, "case_id": case_id, "days": [c.days for c in made]},
        )
    return made


def schedule_after_closure(report_ids: list[int], case_id: int, closed_dt: datetime) -> int:
    """A case linked to these reports closed: each report with a receipt gets a new series."""
    if not report_ids:
        return 0
    reports = db.session.scalars(
        select(WorkerReport).where(WorkerReport.id.in_(report_ids), WorkerReport.receipt_lookup.is_not(None))
    )
    return sum(len(schedule_check_ins(r, CheckInSeries.case_closed, closed_dt, case_id)) for r in reports)


def current_check_in(report: WorkerReport, now: datetime | None = None) -> RetaliationCheckIn | None:
    """The check-in the worker is asked now: the newest due one, unless it was answered."""
    newest = db.session.scalar(
        select(RetaliationCheckIn)
        .where(RetaliationCheckIn.report_id == report.id, RetaliationCheckIn.due_dt <= (now or utcnow()))
        .order_by(RetaliationCheckIn.due_dt.desc(), RetaliationCheckIn.id.desc())
        .limit(1)
    )
    return newest if newest is not None and newest.answer is None else None


# --- the worker's answers -------------------------------------------------------------------


def _comment(report: WorkerReport, comment: str | None) -> ReportMessage | None:
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT_LENGTH:
        raise OperationError(_l("At most %(num)d characters.", num=MAX_COMMENT_LENGTH), "comment")
    return sealing.add_message(report, body=text, author=None) if text else None


def answer_check_in(
    report: WorkerReport, check_in_id: int, answer: CheckInAnswer, comment: str | None = None
) -> RetaliationCheckIn:
    """The worker answers the check-in shown to them; a "yes" raises an alert."""
    check_in = current_check_in(report)
    if check_in is None or check_in.id != check_in_id:
        raise OperationError(_l("This question was already answered or is no longer open."), "answer")
    message = _comment(report, comment)
    check_in.answer, check_in.answered_dt = answer, utcnow()
    check_in.message_id = message.id if message is not None else None
    db.session.flush()
    audit.record(
        "report.check_in_answer",
        f"The worker answered retaliation check-in {check_in.id} of report {report.id}",
        obj=report,
        data={"check_in_id": check_in.id, "answer": answer.value, "comment": message is not None},
    )
    if answer is CheckInAnswer.yes:
        raise_alert(report, AlertSource.check_in, check_in=check_in, message=message)
    elif message is not None:
        alerts.worker_message(report)
    return check_in


def flag_retaliation(report: WorkerReport, comment: str | None = None) -> RetaliationAlert:
    """The worker says, at any time, that they face consequences for speaking up.

    While an alert of the report is still open, a new flag adds its comment to the conversation
    and tells the members of the message instead of raising a second alert.
    """
    message = _comment(report, comment)
    open_alert = db.session.scalar(
        select(RetaliationAlert)
        .where(RetaliationAlert.report_id == report.id, RetaliationAlert.state == AlertState.open)
        .order_by(RetaliationAlert.id.desc())
        .limit(1)
    )
    if open_alert is not None:
        if message is not None:
            alerts.worker_message(report)
        audit.record(
            "report.retaliation_flag",
            f"The worker flagged retaliation again on report {report.id} (alert {open_alert.id} open)",
            obj=report,
            data={"alert_id": open_alert.id, "comment": message is not None},
        )
        return open_alert
    return raise_alert(report, AlertSource.flag, message=message)


def _alert_params(alert: RetaliationAlert) -> dict[str, Any]:
    """What a notification may say: the alert, the report's number and country, nothing else."""
    return {"alert_id": alert.id, "report_number": alert.report_id, "country": alert.report.country}


def raise_alert(
    report: WorkerReport,
    source: AlertSource,
    *,
    check_in: RetaliationCheckIn | None = None,
    message: ReportMessage | None = None,
) -> RetaliationAlert:
    """Open an alert and tell the receiving organisation's members (metadata only)."""
    alert = RetaliationAlert(
        report=report,
        source=source,
        check_in_id=check_in.id if check_in is not None else None,
        message_id=message.id if message is not None else None,
        raised_dt=utcnow(),
        state=AlertState.open,
    )
    db.session.add(alert)
    db.session.flush()
    sent = notify(
        alerts.members(report.organisation), NotificationKind.retaliation_alert, params=_alert_params(alert)
    )
    audit.record(
        "report.retaliation_alert",
        f"Retaliation alert {alert.id} raised on report {report.id} ({source.value})",
        obj=report,
        data={"alert_id": alert.id, "source": source.value, "notified": len(sent)},
    )
    logger.info("retaliation alert %s on report %s: %d notified", alert.id, report.id, len(sent))
    return alert


# --- the monitors' side ---------------------------------------------------------------------


def _require_open(alert: RetaliationAlert) -> None:
    if alert.state is not AlertState.open:
        raise OperationError(_l("This alert was handled already."), "alert")


def handle_alert(actor: User, alert: RetaliationAlert) -> RetaliationAlert:
    """A member dealt with the alert without a finding (for instance in the conversation)."""
    _require_open(alert)
    alert.state, alert.handled_dt, alert.handled_by_id = AlertState.handled, utcnow(), actor.id
    db.session.flush()
    audit.record(
        "report.retaliation_alert_handle",
        f"Retaliation alert {alert.id} of report {alert.report_id} handled without a finding",
        actor=actor,
        obj=alert.report,
        data={"alert_id": alert.id, "state": ["open", alert.state.value]},
    )
    return alert


def record_finding(actor: User, alert: RetaliationAlert, finding_id: int, case_id: int) -> RetaliationAlert:
    """A retaliation finding was filed from the alert (by the cases feature): it is handled."""
    _require_open(alert)
    alert.state, alert.handled_dt, alert.handled_by_id = AlertState.finding_filed, utcnow(), actor.id
    alert.finding_id, alert.case_id = finding_id, case_id
    db.session.flush()
    audit.record(
        "report.retaliation_alert_finding",
        f"Retaliation alert {alert.id} of report {alert.report_id}: finding {finding_id} in case {case_id}",
        actor=actor,
        obj=alert.report,
        data={"alert_id": alert.id, "finding_id": finding_id, "case_id": case_id},
    )
    return alert


def set_retaliation_risk(actor: User, report: WorkerReport, risk: RetaliationRisk | None) -> bool:
    """Change the report's retaliation risk after intake; returns whether it changed."""
    old = report.retaliation_risk
    if old is risk:
        return False
    report.retaliation_risk = risk
    db.session.flush()
    audit.record(
        "report.retaliation_risk",
        f"Changed the retaliation risk of report {report.id}",
        actor=actor,
        obj=report,
        data={"retaliation_risk": [old.value if old else None, risk.value if risk else None]},
    )
    return True


# --- escalation (flask jobs run) ------------------------------------------------------------


def escalate_due_alerts(now: datetime, limit: int, coordinators: list[User]) -> int:
    """Alerts open for too long: tell every member again and the coordinators, once each."""
    due = list(
        db.session.scalars(
            select(RetaliationAlert)
            .where(
                RetaliationAlert.state == AlertState.open,
                RetaliationAlert.escalated_dt.is_(None),
                RetaliationAlert.raised_dt <= now - escalate_after(),
            )
            .order_by(RetaliationAlert.raised_dt, RetaliationAlert.id)
            .limit(limit)
        )
    )
    for alert in due:
        raised = alert.raised_dt.date().isoformat()
        members = alerts.members(alert.report.organisation)
        sent = notify(
            members,
            NotificationKind.retaliation_alert_overdue,
            params={**_alert_params(alert), "due_date": raised},
        )
        # The coordinators get no link (the report is not theirs to open): its number only.
        sent += notify(
            coordinators,
            NotificationKind.retaliation_alert_escalated,
            params={
                "report_number": alert.report_id,
                "country": alert.report.country,
                "organisation": alert.report.organisation.name,
                "due_date": raised,
            },
        )
        alert.escalated_dt = now
        db.session.flush()
        audit.record(
            "report.retaliation_alert_escalate",
            f"Retaliation alert {alert.id} of report {alert.report_id} escalated",
            obj=alert.report,
            data={"alert_id": alert.id, "notified": len(sent)},
        )
    return len(due)
