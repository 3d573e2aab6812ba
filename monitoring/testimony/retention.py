"""Retention of sealed testimony: which reports are due for erasure, and erasing them.

A report linked to cases is erased ``RETENTION_YEARS_AFTER_CASE_CLOSED`` years after the last
of them closed (and its own last activity), and never while one of them is open; a report
linked to no case ``RETENTION_YEARS_AFTER_LAST_ACTIVITY`` years after its last activity (filed,
acknowledged, answered, or a message either way). The cases feature is above this one: it
registers a *case source* here (in ``cases/subscribers.py``) that tells, for a list of
reports, whether a linked case is open and when the last one closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from monitoring.core.db import db
from monitoring.testimony import operations_erasure
from monitoring.testimony.models import ErasureReason, ReportMessage, WorkerReport

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseLinks:
    """What retention needs to know of the cases a report is linked to."""

    any_open: bool
    last_closed_dt: datetime | None


CaseSource = Callable[[list[int]], dict[int, CaseLinks]]
_sources: list[CaseSource] = []


def register_case_source(source: CaseSource) -> CaseSource:
    """Add a source of case links (usable as a decorator); registering twice has no effect."""
    if source not in _sources:
        _sources.append(source)
    return source


def _case_links(report_ids: list[int]) -> dict[int, CaseLinks]:
    links: dict[int, CaseLinks] = {}
    for source in _sources:
        for report_id, found in source(report_ids).items():
            known = links.get(report_id)
            if known is not None:
                closed = [dt for dt in (known.last_closed_dt, found.last_closed_dt) if dt is not None]
                found = CaseLinks(known.any_open or found.any_open, max(closed) if closed else None)
            links[report_id] = found
    return links


def years_before(moment: datetime, years: int) -> datetime:
    """The same moment ``years`` earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def _last_activity(reports: list[WorkerReport]) -> dict[int, datetime]:
    newest_message = dict(
        db.session.execute(
            select(ReportMessage.report_id, func.max(ReportMessage.created_dt))
            .where(ReportMessage.report_id.in_([r.id for r in reports]))
            .group_by(ReportMessage.report_id)
        ).all()
    )
    activity: dict[int, datetime] = {}
    for report in reports:
        moments = [
            report.created_dt,
            report.acknowledged_dt,
            report.feedback_dt,
            newest_message.get(report.id),
        ]
        activity[report.id] = max(m for m in moments if m is not None)
    return activity


def _is_due(
    activity: datetime, links: CaseLinks | None, *, closed_cutoff: datetime, idle_cutoff: datetime
) -> bool:
    if links is None:
        return activity <= idle_cutoff
    if links.any_open or links.last_closed_dt is None:
        return False
    return links.last_closed_dt <= closed_cutoff and activity <= closed_cutoff


def erase_due_batch(now: datetime, after_id: int, batch_size: int) -> tuple[int, int | None]:
    """Look at up to ``batch_size`` reports after ``after_id`` and erase those due; flush.

    Returns (erased, the last id looked at, or None when no report is left to look at).
    """
    closed_cutoff = years_before(now, int(current_app.config["RETENTION_YEARS_AFTER_CASE_CLOSED"]))
    idle_cutoff = years_before(now, int(current_app.config["RETENTION_YEARS_AFTER_LAST_ACTIVITY"]))
    reports = list(
        db.session.scalars(
            select(WorkerReport)
            .where(
                WorkerReport.id > after_id,
                WorkerReport.erased_dt.is_(None),
                # Nothing filed after the earlier cutoff can be due under either rule.
                WorkerReport.created_dt <= max(closed_cutoff, idle_cutoff),
            )
            .order_by(WorkerReport.id)
            .limit(batch_size)
        )
    )
    if not reports:
        return 0, None
    activity = _last_activity(reports)
    links = _case_links([r.id for r in reports])
    erased = 0
    for report in reports:
        if _is_due(
            activity[report.id], links.get(report.id), closed_cutoff=closed_cutoff, idle_cutoff=idle_cutoff
        ):
            operations_erasure.erase_report(report, ErasureReason.retention)
            erased += 1
    return erased, reports[-1].id
