"""Validation questions put to workers, and their answers (worker-validated remedy).

A monitor of the receiving organisation asks the worker of a report with a receipt; the worker
answers on the follow-up page (yes / no / partly, with an optional comment that is sealed as a
worker message of the conversation, to the organisation and to the receipt); a survey import
records the answers its rows carry. They flush and audit, never commit.
"""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.testimony import alerts, sealing
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.models_outcomes import (
    ValidationAnswer,
    ValidationQuestion,
    ValidationRequest,
    ValidationSource,
)
from monitoring.testimony.permissions import can_manage_report

logger = logging.getLogger(__name__)

MAX_COMMENT_LENGTH = 2000


def can_be_asked(report: WorkerReport) -> bool:
    """Only a worker who holds a receipt reads questions on the follow-up page."""
    return report.receipt_public_key is not None


def open_request(report: WorkerReport, question: ValidationQuestion) -> ValidationRequest | None:
    return db.session.scalar(
        select(ValidationRequest).where(
            ValidationRequest.report_id == report.id,
            ValidationRequest.question == question,
            ValidationRequest.answer.is_(None),
        )
    )


def ask_worker(actor: User, report: WorkerReport, question: ValidationQuestion) -> ValidationRequest | None:
    """Put the question to the report's worker; None if they cannot be asked (no receipt).

    A question still waiting for its answer is not asked twice: that request is returned.
    """
    if not can_manage_report(actor, report):
        raise OperationError(_l("Only monitors of the organisation that received the report can ask."))
    if not can_be_asked(report):
        return None
    waiting = open_request(report, question)
    if waiting is not None:
        return waiting
    request = ValidationRequest(
        report_id=report.id,
        question=question,
        source=ValidationSource.receipt,
        asked_by_id=actor.id,
        asked_dt=utcnow(),
    )
    db.session.add(request)
    db.session.flush()
    audit.record(
        "report.validation_asked",
        f"Asked the worker of report {report.id} to confirm a remedy ({question.value})",
        actor=actor,
        obj=report,
        data={"validation_request_id": request.id, "question": question.value},
    )
    return request


def answer_question(
    report: WorkerReport, request_id: int, answer: ValidationAnswer | str, comment: str | None = None
) -> ValidationRequest:
    """The worker with the receipt answers one of the report's open questions."""
    request = db.session.get(ValidationRequest, request_id)
    if request is None or request.report_id != report.id:
        raise OperationError(_l("This question was not found. Please open your report again."), "answer")
    if request.answer is not None:
        raise OperationError(_l("You have answered this question already. Thank you."), "answer")
    try:
        chosen = ValidationAnswer(answer)
    except ValueError:
        raise OperationError(_l("Choose yes, no or partly."), "answer") from None
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT_LENGTH:
        raise OperationError(_l("At most %(num)d characters.", num=MAX_COMMENT_LENGTH), "comment")
    if text:
        # Sealed like every worker message: to the organisation and to the receipt.
        request.comment_message = sealing.add_message(report, body=text, author=None)
    request.answer = chosen
    request.answered_dt = utcnow()
    db.session.flush()
    audit.record(
        "report.validation_answered",
        f"The worker of report {report.id} answered a validation question",
        obj=report,
        data={
            "validation_request_id": request.id,
            "question": request.question.value,
            "answer": chosen.value,
            "with_comment": bool(text),
        },
    )
    logger.info("validation question answered on an anonymous report")
    # An answer is a reply on the receipt channel: the report's monitors are told, as of a message.
    alerts.worker_message(report)
    return request


def record_survey_answers(
    report: WorkerReport, answers: dict[ValidationQuestion, ValidationAnswer]
) -> list[ValidationRequest]:
    """Keep the validation answers a survey row carried for its (new) report; flush."""
    now = utcnow()
    rows = [
        ValidationRequest(
            report_id=report.id,
            question=question,
            source=ValidationSource.survey,
            asked_by_id=report.created_by_id,
            asked_dt=now,
            answer=answer,
            answered_dt=now,
        )
        for question, answer in answers.items()
    ]
    db.session.add_all(rows)
    return rows
