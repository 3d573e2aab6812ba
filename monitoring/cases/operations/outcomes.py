"""Telling workers the outcome, and asking them whether the remedy reached them.

The case's monitor releases a status from the fixed list to the reports the case rests on (all
of them, or one), and may withdraw it; for a priority finding they send a validation question
through the receipt channel to every report linked to it. Nothing typed for the case reaches a
worker: only the status or the question, both translated from fixed lists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases import outcomes
from monitoring.cases.models import Case, CaseState, CaseStatusRelease, Finding, Severity
from monitoring.cases.operations.common import _enum, _refuse
from monitoring.cases.permissions import can_ask_workers, can_release_status
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.testimony import operations_outcomes
from monitoring.testimony.models_outcomes import ValidationQuestion, WorkerStatus

logger = logging.getLogger(__name__)


def release_status(
    actor: User, case: Case, status: WorkerStatus | str, report_id: int | None = None
) -> CaseStatusRelease:
    """Release a status to every report the case rests on, or to one of them."""
    if not can_release_status(actor, case):
        raise _refuse(_l("Only monitors of the organisation that works the case tell its workers."))
    chosen = _enum(WorkerStatus, status, "status", _l("Choose a status from the list."))
    linked = {r.id for r in outcomes.linked_reports(case)}
    if not linked:
        raise OperationError(
            _l("No worker report is linked to this case's findings, so no worker would see it."),
            field="status",
        )
    if report_id is not None and report_id not in linked:
        raise OperationError(_l("Choose a report linked to this case's findings."), field="report_id")
    duplicate = db.session.scalar(
        select(CaseStatusRelease.id).where(
            CaseStatusRelease.case_id == case.id,
            CaseStatusRelease.status == chosen,
            CaseStatusRelease.withdrawn_dt.is_(None),
            CaseStatusRelease.report_id.is_(None)
            if report_id is None
            else CaseStatusRelease.report_id == report_id,
        )
    )
    if duplicate is not None:
        raise OperationError(_l("This status is released already."), field="status")
    release = CaseStatusRelease(
        case_id=case.id, status=chosen, report_id=report_id, released_by_id=actor.id, released_dt=utcnow()
    )
    db.session.add(release)
    db.session.flush()
    audit.record(
        "case.release_status",
        f"Released the status {chosen.value} of case {case.reference} to "
        + ("every linked report" if report_id is None else f"report {report_id}"),
        actor=actor,
        obj=case,
        data={"release_id": release.id, "status": chosen.value, "report_id": report_id},
    )
    return release


def withdraw_status(actor: User, case: Case, release_id: int) -> CaseStatusRelease:
    """Withdraw a released status: the workers' page no longer shows it."""
    if not can_release_status(actor, case):
        raise _refuse(_l("Only monitors of the organisation that works the case tell its workers."))
    release = db.session.get(CaseStatusRelease, release_id)
    if release is None or release.case_id != case.id:
        raise OperationError(_l("This release does not exist."), field="release_id")
    if release.withdrawn_dt is not None:
        raise OperationError(_l("This status was withdrawn already."), field="release_id")
    release.withdrawn_by_id = actor.id
    release.withdrawn_dt = utcnow()
    db.session.flush()
    audit.record(
        "case.withdraw_status",
        f"Withdrew the status {release.status.value} of case {case.reference}",
        actor=actor,
        obj=case,
        data={"release_id": release.id, "status": release.status.value},
    )
    return release


@dataclass(frozen=True)
class AskedWorkers:
    """How many linked reports' workers were asked, and how many could not be (no receipt)."""

    question: ValidationQuestion
    asked: int
    without_receipt: int


def _priority_finding(case: Case, finding_id: int | None) -> Finding:
    finding = next((f for f in case.findings if f.id == finding_id), None)
    if finding is None:
        raise OperationError(_l("Choose a finding of this case."), field="finding_id")
    if finding.severity is not Severity.priority:
        raise OperationError(
            _l("Workers are asked to confirm the remedy of priority findings only."), field="finding_id"
        )
    return finding


def ask_workers(
    actor: User, case: Case, finding_id: int | None, question: ValidationQuestion | str
) -> AskedWorkers:
    """Send a validation question to every report linked to a priority finding of the case."""
    if not can_ask_workers(actor, case):
        raise _refuse(_l("Only monitors of the organisation that works the case ask its workers."))
    if case.state is CaseState.closed:
        raise _refuse(_l("The case is closed: reopen it to ask the workers."))
    finding = _priority_finding(case, finding_id)
    chosen = _enum(ValidationQuestion, question, "question", _l("Choose a question from the list."))
    if chosen not in outcomes.questions_for(finding):
        raise OperationError(_l("This question does not fit the finding's standard."), field="question")
    reports = outcomes.linked_reports(case, finding)
    if not reports:
        raise OperationError(
            _l("No worker report supports this finding: link the reports to the finding first."),
            field="finding_id",
        )
    asked = [r for r in reports if operations_outcomes.ask_worker(actor, r, chosen) is not None]
    if not asked:
        raise OperationError(
            _l(
                "None of the reports of this finding has a receipt, so nobody can be asked on the "
                "follow-up page. Ask the workers in an interview or a survey instead."
            ),
            field="finding_id",
        )
    audit.record(
        "case.ask_workers",
        f"Asked the workers of {len(asked)} report(s) of finding {finding.id} of case {case.reference} "
        f"to confirm the remedy ({chosen.value})",
        actor=actor,
        obj=case,
        data={
            "finding_id": finding.id,
            "question": chosen.value,
            "asked": len(asked),
            "without_receipt": len(reports) - len(asked),
        },
    )
    logger.info("validation question %s sent for case %s", chosen.value, case.id)
    return AskedWorkers(chosen, len(asked), len(reports) - len(asked))
