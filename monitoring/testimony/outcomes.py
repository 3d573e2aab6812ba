"""What the follow-up page tells a worker of the outcome: released statuses and open questions.

The cases feature knows which statuses a case released and to which reports; it registers a
*status source* here (in ``cases/subscribers.py``), so that this feature shows them without
importing the feature above it. A source answers with the statuses only (from the fixed list
of :class:`WorkerStatus`) and the day each was released: nothing else of a case reaches a worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from monitoring.core.db import db
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.models_outcomes import ValidationRequest, WorkerStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReleasedStatus:
    """A status as a worker sees it: which one, and the day it was released."""

    status: WorkerStatus
    released_dt: datetime

    @property
    def title(self) -> str:
        return self.status.title

    @property
    def released_on(self) -> date:
        """The day only: the worker pages show no times."""
        return self.released_dt.date()


StatusSource = Callable[[WorkerReport], list[ReleasedStatus]]
_sources: list[StatusSource] = []


def register_status_source(source: StatusSource) -> StatusSource:
    """Add a source of released statuses (usable as a decorator); registering twice has no effect."""
    if source not in _sources:
        _sources.append(source)
    return source


def released_statuses(report: WorkerReport) -> list[ReleasedStatus]:
    """Every status released to this report's worker, newest first, each status once (its latest)."""
    newest: dict[WorkerStatus, ReleasedStatus] = {}
    for source in _sources:
        for item in source(report):
            known = newest.get(item.status)
            if known is None or item.released_dt > known.released_dt:
                newest[item.status] = item
    return sorted(newest.values(), key=lambda s: s.released_dt, reverse=True)


def validation_requests(report: WorkerReport) -> list[ValidationRequest]:
    """The questions put to this report's worker through the receipt channel, oldest first."""
    return list(
        db.session.scalars(
            select(ValidationRequest)
            .where(ValidationRequest.report_id == report.id)
            .order_by(ValidationRequest.asked_dt, ValidationRequest.id)
        )
    )
