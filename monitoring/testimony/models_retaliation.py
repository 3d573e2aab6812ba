"""Retaliation watch: check-ins on the worker's follow-up page and the alerts they raise.

After an anonymous report is filed, and again after a case linked to it closes, check-ins
appear on the worker's follow-up page on the days of ``RETALIATION_CHECKIN_DAYS`` ("have you
faced consequences for speaking up?"). A "yes", or a worker's flag at any time, raises a
:class:`RetaliationAlert` to the receiving monitor organisation. The answer is metadata; the
worker's optional comment is a conversation message (:class:`ReportMessage`), sealed like
every worker reply, to which the check-in or the alert points.

Cases and findings belong to the cases feature above this one: the ids kept here
(``case_id``, ``finding_id``) are plain numbers, without a foreign key into its tables.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitoring.accounts.models import User
from monitoring.core.db import Base
from monitoring.core.types import TitledEnum, UTCDateTime, enum_column, utcnow
from monitoring.testimony.models import ReportMessage, WorkerReport


class CheckInSeries(TitledEnum):
    """What started a series of check-ins."""

    report_filed = "report_filed"
    case_closed = "case_closed"

    @staticmethod
    def __titles__() -> dict[CheckInSeries, str]:
        return {
            CheckInSeries.report_filed: _l("After the report"),
            CheckInSeries.case_closed: _l("After the case closed"),
        }


class CheckInAnswer(TitledEnum):
    yes = "yes"
    no = "no"
    rather_not_say = "rather_not_say"

    @staticmethod
    def __titles__() -> dict[CheckInAnswer, str]:
        return {
            CheckInAnswer.yes: _l("Yes"),
            CheckInAnswer.no: _l("No"),
            CheckInAnswer.rather_not_say: _l("I would rather not say"),
        }


class RetaliationCheckIn(Base):
    """One scheduled check-in of a report: shown to the worker from ``due_dt`` until answered
    or until the next check-in of the report is due."""

    __tablename__ = "retaliation_check_in"
    __table_args__ = (
        UniqueConstraint("report_id", "anchor_dt", "days"),
        CheckConstraint("(answer IS NULL) = (answered_dt IS NULL)", name="answered_dt_if_answered"),
        CheckConstraint("days > 0", name="days_positive"),
        CheckConstraint("(series = 'case_closed') = (case_id IS NOT NULL)", name="case_if_after_closure"),
        Index("ix_retaliation_check_in_report_due", "report_id", "due_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("worker_report.id", ondelete="CASCADE"))
    series: Mapped[CheckInSeries] = mapped_column(enum_column(CheckInSeries, "series"))
    # The case whose closure started the series (the cases feature's id; no foreign key).
    case_id: Mapped[int | None] = mapped_column(Integer)
    # When the series started (the report filed, the case closed) and how many days after it.
    anchor_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    days: Mapped[int] = mapped_column(Integer)
    due_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[CheckInAnswer | None] = mapped_column(enum_column(CheckInAnswer, "answer"))
    answered_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker's comment, sealed as a message of the conversation.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("report_message.id"))

    report: Mapped[WorkerReport] = relationship()
    message: Mapped[ReportMessage | None] = relationship()

    def __repr__(self) -> str:
        return f"<RetaliationCheckIn {self.id} report={self.report_id} +{self.days}d>"


class AlertSource(TitledEnum):
    check_in = "check_in"
    flag = "flag"

    @staticmethod
    def __titles__() -> dict[AlertSource, str]:
        return {
            AlertSource.check_in: _l("“Yes” at a check-in"),
            AlertSource.flag: _l("Flagged by the worker"),
        }


class AlertState(TitledEnum):
    open = "open"
    finding_filed = "finding_filed"  # a retaliation finding (GR-2, priority) was filed from it
    handled = "handled"  # dealt with otherwise (for instance in the conversation with the worker)

    @staticmethod
    def __titles__() -> dict[AlertState, str]:
        return {
            AlertState.open: _l("Open"),
            AlertState.finding_filed: _l("Retaliation finding filed"),
            AlertState.handled: _l("Handled"),
        }


class RetaliationAlert(Base):
    """A worker said they faced consequences for speaking up: the monitors are to act."""

    __tablename__ = "retaliation_alert"
    __table_args__ = (
        CheckConstraint("(state = 'open') = (handled_dt IS NULL)", name="handled_dt_unless_open"),
        CheckConstraint("(state = 'finding_filed') = (finding_id IS NOT NULL)", name="finding_if_filed"),
        Index("ix_retaliation_alert_state_raised", "state", "raised_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("worker_report.id", ondelete="CASCADE"), index=True)
    source: Mapped[AlertSource] = mapped_column(enum_column(AlertSource, "source"))
    check_in_id: Mapped[int | None] = mapped_column(ForeignKey("retaliation_check_in.id"))
    # The worker's comment, sealed as a message of the conversation.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("report_message.id"))
    raised_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[AlertState] = mapped_column(enum_column(AlertState, "state"), default=AlertState.open)
    handled_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The finding filed from the alert, and its case (the cases feature's ids; no foreign key).
    finding_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(Integer)
    # Told to every member and to the coordinators once it waited too long (once).
    escalated_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    report: Mapped[WorkerReport] = relationship(lazy="joined")
    check_in: Mapped[RetaliationCheckIn | None] = relationship()
    handled_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<RetaliationAlert {self.id} report={self.report_id} {self.state.value}>"
