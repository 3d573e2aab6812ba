"""Telling monitors what workers send, and which conversations they have not read yet.

A new web report, a survey import and a worker's reply on the receipt channel each notify the
members of the receiving monitor organisation, in the app and by e-mail, in each member's
language. A notification names the report's number and country and nothing else of it: never
testimony, never the receipt (:mod:`monitoring.notifications.render` writes the words).

Each monitor has a read marker per report (:class:`ReportReadMarker`): a report has unread
worker messages for them while a worker's message is newer than the marker. Opening the
conversation moves it. These functions flush, never commit.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import ColumnElement, exists, false, func, select

from monitoring.accounts import keys
from monitoring.accounts.models import Organisation, User
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.notifications.outbox import notify
from monitoring.testimony.models import ReportMessage, ReportReadMarker, SurveyImport, WorkerReport
from monitoring.testimony.permissions import can_read_conversation, reads_conversations

logger = logging.getLogger(__name__)


def members(organisation: Organisation | int) -> list[User]:
    """The organisation's active, approved monitors, in one query."""
    org = (
        organisation if isinstance(organisation, Organisation) else db.session.get(Organisation, organisation)
    )
    if org is None:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(keys.member_ids(org))).order_by(User.id)))


def report_params(report: WorkerReport) -> dict[str, Any]:
    """What a notification may say of a report: its number and its country, nothing else."""
    return {"report_id": report.id, "country": report.country}


def report_received(report: WorkerReport) -> list[Notification]:
    """A worker filed a report on the web: tell the receiving organisation's members."""
    return notify(
        members(report.organisation), NotificationKind.report_received, params=report_params(report)
    )


def worker_message(report: WorkerReport) -> list[Notification]:
    """The worker wrote on the receipt channel: tell the receiving organisation's members."""
    return notify(members(report.organisation), NotificationKind.worker_message, params=report_params(report))


def survey_imported(actor: User, survey: SurveyImport) -> list[Notification]:
    """A survey import added reports: tell the importer's colleagues (the importer knows)."""
    colleagues = [user for user in members(survey.organisation_id) if user.id != actor.id]
    params = {"survey_import_id": survey.id, "rows": survey.rows}
    return notify(colleagues, NotificationKind.survey_imported, params=params)


# --- read markers ---------------------------------------------------------------------------


def unread_messages(user: User) -> ColumnElement[bool]:
    """A report (correlated) holds a worker's message newer than ``user``'s read marker.

    Only the monitors who read the conversation have unread messages; for anyone else false.
    """
    if not reads_conversations(user):
        return false()
    marker = (
        select(ReportReadMarker.last_message_id)
        .where(ReportReadMarker.report_id == WorkerReport.id, ReportReadMarker.user_id == user.id)
        .correlate(WorkerReport)
        .scalar_subquery()
    )
    return (
        exists()
        .where(
            ReportMessage.report_id == WorkerReport.id,
            ReportMessage.from_worker.is_(True),
            ReportMessage.id > func.coalesce(marker, 0),
        )
        .correlate(WorkerReport)
    )


def mark_conversation_read(user: User, report: WorkerReport) -> bool:
    """The monitor saw the conversation: every message up to the newest is read for them.

    Returns whether the marker moved. Nothing happens for anyone who may not read it.
    """
    if not can_read_conversation(user, report):
        return False
    newest = db.session.scalar(select(func.max(ReportMessage.id)).where(ReportMessage.report_id == report.id))
    if newest is None:
        return False
    marker = db.session.scalar(
        select(ReportReadMarker).where(
            ReportReadMarker.report_id == report.id, ReportReadMarker.user_id == user.id
        )
    )
    if marker is None:
        db.session.add(ReportReadMarker(report_id=report.id, user_id=user.id, last_message_id=newest))
    elif marker.last_message_id < newest:
        marker.last_message_id, marker.read_dt = newest, utcnow()
    else:
        return False
    db.session.flush()
    return True
