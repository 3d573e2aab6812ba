"""What pages and API show of the workers' side of a case: released statuses, validation counts.

Every role that sees a case sees how many workers confirmed its remedy; affiliates and
suppliers see counts below ``SMALL_CELL`` suppressed, and then no total either (it would give
the suppressed cells away). Only coordinators and the case's monitors see what was released to
workers, and only the monitors see to which report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases import outcomes, permissions
from monitoring.cases.models import Case, CaseStatusRelease
from monitoring.core.db import db
from monitoring.testimony.models_outcomes import (
    ValidationAnswer,
    ValidationQuestion,
    WorkerStatus,
)


@dataclass
class ShownCounts:
    """One question's answers as this user may see them (None: suppressed)."""

    question: ValidationQuestion
    yes: int | None
    no: int | None
    partly: int | None
    waiting: int | None
    answered: int | None
    suppressed: bool

    @property
    def title(self) -> str:
        return self.question.title


@dataclass
class AskableFinding:
    """A priority finding of the case and the questions that fit it."""

    finding_id: int
    standard: str
    questions: list[ValidationQuestion]
    reports: int | None = None  # how many reports support it (for the case's monitors only)


@dataclass
class ValidationSummary:
    counts: list[ShownCounts]
    total: int | None
    findings: list[AskableFinding] = field(default_factory=list)
    small_cell: int = permissions.SMALL_CELL


def _shown(user: User, item: outcomes.QuestionCounts) -> ShownCounts:
    yes, no, partly, waiting = (
        permissions.shown_workers(user, n)
        for n in (
            item.answers[ValidationAnswer.yes],
            item.answers[ValidationAnswer.no],
            item.answers[ValidationAnswer.partly],
            item.waiting,
        )
    )
    suppressed = None in (yes, no, partly, waiting)
    # A total next to a suppressed cell would give it away.
    answered = None if suppressed else permissions.shown_workers(user, item.answered)
    return ShownCounts(item.question, yes, no, partly, waiting, answered=answered, suppressed=suppressed)


def validation_summary(user: User, case: Case) -> ValidationSummary:
    """The counts per question for this user; the askable findings for the case's monitors."""
    raw = outcomes.answer_counts(case)
    counts = [_shown(user, item) for item in raw]
    total_raw = sum(item.answered for item in raw)
    total = None if any(c.suppressed for c in counts) else permissions.shown_workers(user, total_raw)
    if total_raw == 0:
        total = 0  # nothing to give away: nobody answered
    findings = []
    if permissions.can_ask_workers(user, case):
        findings = [
            AskableFinding(f.id, f.standard, outcomes.questions_for(f), len(outcomes.linked_reports(case, f)))
            for f in outcomes.validated_findings(case)
        ]
    return ValidationSummary(counts, total, findings)


@dataclass
class ShownRelease:
    id: int
    status: WorkerStatus
    to_every_report: bool
    report_id: int | None
    released_dt: datetime
    released_by: str | None
    withdrawn_dt: datetime | None

    @property
    def title(self) -> str:
        return self.status.title


def releases(user: User, case: Case) -> list[ShownRelease]:
    """Every release of the case, newest first, withdrawn ones too ([] for who may not see them)."""
    if not permissions.sees_worker_releases(user, case):
        return []
    rows = db.session.scalars(
        select(CaseStatusRelease)
        .where(CaseStatusRelease.case_id == case.id)
        .order_by(CaseStatusRelease.released_dt.desc(), CaseStatusRelease.id.desc())
    ).all()
    sees_reports = permissions.sees_case_reports(user, case)
    return [
        ShownRelease(
            id=r.id,
            status=r.status,
            to_every_report=r.report_id is None,
            report_id=r.report_id if sees_reports else None,
            released_dt=r.released_dt,
            released_by=r.released_by.name if r.released_by is not None else None,
            withdrawn_dt=r.withdrawn_dt,
        )
        for r in rows
    ]


def release_of(user: User, case: Case, release_id: int) -> ShownRelease | None:
    return next((r for r in releases(user, case) if r.id == release_id), None)


def report_choices(user: User, case: Case) -> list[tuple[int, Any, Any]]:
    """The reports a status may go to alone: (id, channel title, collected date); monitors only."""
    if not permissions.sees_case_reports(user, case):
        return []
    return [(r.id, r.channel.title, r.collected_date) for r in outcomes.linked_reports(case)]


def suggested_status(case: Case) -> WorkerStatus:
    return outcomes.SUGGESTED_STATUS[case.state]
