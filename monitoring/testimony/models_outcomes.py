"""What workers hear back about the outcome, and how they confirm a remedy.

The statuses a monitor releases to workers and the validation questions are fixed lists with
titles translated into every worker language: a worker never reads text a person typed for
the case (it could name other workers or hold the case's internal reasoning). Which status a
case released lives with the case (``cases``); this feature only knows the list, so the
follow-up page can show it in the worker's language.

A :class:`ValidationRequest` is one question put to one report's worker, through the receipt
channel, or answered in a survey import. The answer (yes / no / partly) is metadata; an
optional comment is a worker message of the report's conversation, sealed like any other.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitoring.accounts.models import User
from monitoring.core.db import Base
from monitoring.core.types import TitledEnum, UTCDateTime, enum_column, utcnow
from monitoring.testimony.models import ReportMessage, WorkerReport


class WorkerStatus(TitledEnum):
    """A short status a monitor may release to the workers whose reports a case rests on."""

    looking_into = "looking_into"
    company_told = "company_told"
    plan_agreed = "plan_agreed"
    checking_fix = "checking_fix"
    closed_fixed = "closed_fixed"
    closed_fees_repaid = "closed_fees_repaid"
    closed_documents_returned = "closed_documents_returned"
    closed_wages_paid = "closed_wages_paid"
    closed_partly_fixed = "closed_partly_fixed"
    closed_not_fixed = "closed_not_fixed"

    @staticmethod
    def __titles__() -> dict[WorkerStatus, str]:
        return {
            # Translators: shown to a worker about the case their report led to; plain words.
            WorkerStatus.looking_into: _l("The monitors are looking into the problem you reported."),
            WorkerStatus.company_told: _l("The company has been told about the problem and asked to fix it."),
            WorkerStatus.plan_agreed: _l("The company has agreed a plan to fix this."),
            WorkerStatus.checking_fix: _l("The company says it has fixed this. The monitors are checking."),
            WorkerStatus.closed_fixed: _l("The case is closed: the problem has been fixed."),
            WorkerStatus.closed_fees_repaid: _l("The case is closed: recruitment fees are being repaid."),
            WorkerStatus.closed_documents_returned: _l(
                "The case is closed: passports and documents have been returned."
            ),
            WorkerStatus.closed_wages_paid: _l("The case is closed: the wages owed are being paid."),
            WorkerStatus.closed_partly_fixed: _l("The case is closed: part of the problem has been fixed."),
            WorkerStatus.closed_not_fixed: _l(
                "The case is closed, but the problem was not fixed. The monitors keep following it."
            ),
        }


class ValidationQuestion(TitledEnum):
    """A question that asks the workers themselves whether a remedy reached them."""

    problem_fixed = "problem_fixed"
    fee_repaid = "fee_repaid"
    passport_returned = "passport_returned"
    free_to_leave = "free_to_leave"
    wages_paid = "wages_paid"
    hours_fixed = "hours_fixed"
    danger_fixed = "danger_fixed"
    job_back = "job_back"
    safe_to_speak = "safe_to_speak"

    @staticmethod
    def __titles__() -> dict[ValidationQuestion, str]:
        return {
            # Translators: a question to a worker, answered yes, no or partly.
            ValidationQuestion.problem_fixed: _l("Has the problem you reported been fixed?"),
            ValidationQuestion.fee_repaid: _l("Has the recruitment fee been repaid to you?"),
            ValidationQuestion.passport_returned: _l("Has your passport or identity document been returned?"),
            ValidationQuestion.free_to_leave: _l(
                "Are you now free to leave the workplace, the dormitory or the job?"
            ),
            ValidationQuestion.wages_paid: _l("Have you been paid the wages you were owed?"),
            ValidationQuestion.hours_fixed: _l("Are your working hours now within the limit?"),
            ValidationQuestion.danger_fixed: _l("Has the danger at work been fixed?"),
            ValidationQuestion.job_back: _l("Have you got your job back?"),
            ValidationQuestion.safe_to_speak: _l("Can you now raise a problem without being punished?"),
        }


class ValidationAnswer(TitledEnum):
    yes = "yes"
    no = "no"
    partly = "partly"

    @staticmethod
    def __titles__() -> dict[ValidationAnswer, str]:
        return {
            # Translators: an answer to "Has the fee been repaid to you?"
            ValidationAnswer.yes: _l("Yes"),
            ValidationAnswer.no: _l("No"),
            ValidationAnswer.partly: _l("Partly"),
        }


class ValidationSource(TitledEnum):
    receipt = "receipt"  # asked and answered on the follow-up page
    survey = "survey"  # answered in a survey import

    @staticmethod
    def __titles__() -> dict[ValidationSource, str]:
        return {
            ValidationSource.receipt: _l("Follow-up page"),
            ValidationSource.survey: _l("Survey"),
        }


class ValidationRequest(Base):
    """One validation question put to one report's worker, and their answer once given."""

    __tablename__ = "validation_request"
    __table_args__ = (
        CheckConstraint("(answer IS NULL) = (answered_dt IS NULL)", name="answered_dt_if_answered"),
        CheckConstraint("source = 'receipt' OR answer IS NOT NULL", name="survey_answered"),
        # One open question of a kind per report: asking again while unanswered changes nothing.
        Index(
            "uq_validation_request_open",
            "report_id",
            "question",
            unique=True,
            sqlite_where=text("answer IS NULL"),
            postgresql_where=text("answer IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("worker_report.id", ondelete="CASCADE"), index=True)
    question: Mapped[ValidationQuestion] = mapped_column(enum_column(ValidationQuestion, "question"))
    source: Mapped[ValidationSource] = mapped_column(enum_column(ValidationSource, "source"))
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    asked_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[ValidationAnswer | None] = mapped_column(enum_column(ValidationAnswer, "answer"))
    answered_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker's optional comment: a message of the conversation, sealed like the others.
    comment_message_id: Mapped[int | None] = mapped_column(ForeignKey("report_message.id"))

    report: Mapped[WorkerReport] = relationship()
    asked_by: Mapped[User | None] = relationship()
    comment_message: Mapped[ReportMessage | None] = relationship()

    def __repr__(self) -> str:
        return f"<ValidationRequest {self.id} {self.question.value} {self.answer}>"
