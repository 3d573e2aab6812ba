"""What a case tells its workers and what they tell back: the rules both skins and the
operations share.

* Which reports a case rests on: those linked to its findings (``FindingReport``).
* Which validation questions fit a finding: by its standard (a fee for FL-1, a passport for
  FL-2 ...), always with the general "has the problem been fixed?".
* Which answers a case counts: the answers of its linked reports (from the follow-up page or a
  survey), and survey answers about the case's site collected by the case's organisation since
  the case was opened (a survey of the workforce need not be linked report by report).
* Which released statuses a worker's follow-up page shows (registered with
  :mod:`monitoring.testimony.outcomes` in ``subscribers.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from monitoring.cases.models import Case, CaseState, CaseStatusRelease, Finding, FindingReport, Severity
from monitoring.core.db import db
from monitoring.testimony.models import ReportChannel, WorkerReport
from monitoring.testimony.models_outcomes import (
    ValidationAnswer,
    ValidationQuestion,
    ValidationRequest,
    ValidationSource,
    WorkerStatus,
)
from monitoring.testimony.outcomes import ReleasedStatus

Q = ValidationQuestion
# The questions that fit a standard, by its code or the code of its group; ``problem_fixed``
# fits every finding and comes first.
QUESTIONS_BY_STANDARD: dict[str, tuple[ValidationQuestion, ...]] = {
    "FL-1": (Q.fee_repaid,),
    "FL-2": (Q.passport_returned,),
    "FL-3": (Q.free_to_leave,),
    "FL-4": (Q.free_to_leave,),
    "FL-5": (Q.wages_paid, Q.free_to_leave),
    "FL": (Q.fee_repaid, Q.passport_returned, Q.free_to_leave),
    "CL": (Q.free_to_leave,),
    "FA": (Q.safe_to_speak, Q.job_back),
    "DI": (Q.safe_to_speak, Q.job_back),
    "WB": (Q.wages_paid,),
    "WH": (Q.hours_fixed,),
    "HS": (Q.danger_fixed,),
    "AG": (Q.wages_paid, Q.job_back),
    "GR": (Q.safe_to_speak, Q.job_back),
}
# The status a monitor is offered first when the case is in a state (they choose what to release).
SUGGESTED_STATUS: dict[CaseState, WorkerStatus] = {
    CaseState.open: WorkerStatus.looking_into,
    CaseState.in_dialogue: WorkerStatus.company_told,
    CaseState.remediation: WorkerStatus.plan_agreed,
    CaseState.verification: WorkerStatus.checking_fix,
    CaseState.closed: WorkerStatus.closed_fixed,
}


def questions_for(finding: Finding) -> list[ValidationQuestion]:
    """The validation questions that fit the finding's standard."""
    group = finding.standard.split("-", 1)[0]
    fitting = QUESTIONS_BY_STANDARD.get(finding.standard) or QUESTIONS_BY_STANDARD.get(group, ())
    return list(dict.fromkeys((Q.problem_fixed, *fitting)))


def validated_findings(case: Case) -> list[Finding]:
    """The findings whose remedy the workers are asked to confirm: those of priority severity."""
    return [f for f in case.findings if f.severity is Severity.priority]


# --- the reports a case rests on -------------------------------------------------------------


def linked_report_ids(case: Case, finding: Finding | None = None) -> Select[int]:
    """Ids of the reports linked to the case's findings (or to one of them)."""
    query = select(FindingReport.report_id).join(Finding, Finding.id == FindingReport.finding_id)
    if finding is not None:
        return query.where(FindingReport.finding_id == finding.id).distinct()
    return query.where(Finding.case_id == case.id).distinct()


def linked_reports(case: Case, finding: Finding | None = None) -> list[WorkerReport]:
    return list(
        db.session.scalars(
            select(WorkerReport)
            .where(WorkerReport.id.in_(linked_report_ids(case, finding)))
            .order_by(WorkerReport.id)
        )
    )


# --- the answers a case counts ---------------------------------------------------------------


def _counted(case: Case) -> ColumnElement[bool]:
    survey_at_site = and_(
        ValidationRequest.source == ValidationSource.survey,
        WorkerReport.channel == ReportChannel.survey,
        WorkerReport.organisation_id == case.monitor_organisation_id,
        WorkerReport.site_id == case.site_id,
        ValidationRequest.asked_dt >= case.opened_dt,
    )
    return or_(ValidationRequest.report_id.in_(linked_report_ids(case)), survey_at_site)


@dataclass
class QuestionCounts:
    """How many workers answered one question each way, and how many were asked and did not answer."""

    question: ValidationQuestion
    answers: Counter[ValidationAnswer] = field(default_factory=Counter)
    waiting: int = 0

    @property
    def answered(self) -> int:
        return sum(self.answers.values())


def answer_counts(case: Case) -> list[QuestionCounts]:
    """Per question (in the order of the list), the counted answers and the open questions."""
    rows = db.session.execute(
        select(ValidationRequest.question, ValidationRequest.answer, func.count(ValidationRequest.id))
        .join(WorkerReport, WorkerReport.id == ValidationRequest.report_id)
        .where(_counted(case))
        .group_by(ValidationRequest.question, ValidationRequest.answer)
    ).all()
    counts: dict[ValidationQuestion, QuestionCounts] = {}
    for question, answer, number in rows:
        item = counts.setdefault(question, QuestionCounts(question))
        if answer is None:
            item.waiting += number
        else:
            item.answers[answer] += number
    return [counts[q] for q in ValidationQuestion if q in counts]


def total_answers(case: Case) -> int:
    """How many validation answers the case counts (every question together)."""
    return int(
        db.session.scalar(
            select(func.count(ValidationRequest.id))
            .join(WorkerReport, WorkerReport.id == ValidationRequest.report_id)
            .where(_counted(case), ValidationRequest.answer.is_not(None))
        )
        or 0
    )


# --- released statuses -------------------------------------------------------------------------


def active_releases(case: Case) -> Sequence[CaseStatusRelease]:
    """The case's releases that are not withdrawn, newest first."""
    return db.session.scalars(
        select(CaseStatusRelease)
        .where(CaseStatusRelease.case_id == case.id, CaseStatusRelease.withdrawn_dt.is_(None))
        .order_by(CaseStatusRelease.released_dt.desc(), CaseStatusRelease.id.desc())
    ).all()


def released_to_report(report: WorkerReport) -> list[ReleasedStatus]:
    """The statuses released to this report's worker by the cases its findings are in.

    Only the status and its date leave this function: never the case, its texts or its reports.
    """
    cases_of_report = (
        select(Finding.case_id)
        .join(FindingReport, FindingReport.finding_id == Finding.id)
        .where(FindingReport.report_id == report.id, Finding.case_id.is_not(None))
    )
    rows = db.session.execute(
        select(CaseStatusRelease.status, CaseStatusRelease.released_dt).where(
            CaseStatusRelease.case_id.in_(cases_of_report),
            CaseStatusRelease.withdrawn_dt.is_(None),
            or_(CaseStatusRelease.report_id.is_(None), CaseStatusRelease.report_id == report.id),
        )
    ).all()
    return [ReleasedStatus(status, released_dt) for status, released_dt in rows]
