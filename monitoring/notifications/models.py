"""The notification outbox: one row per recipient, shown in the app and sent by e-mail.

A notification stores its kind and metadata parameters only (ids, references, dates, states),
never protected text, and is rendered in the recipient's language when shown or sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitoring.accounts.models import User
from monitoring.core.db import Base
from monitoring.core.types import TitledEnum, UTCDateTime, enum_column, utcnow


class NotificationKind(TitledEnum):
    case_opened = "case_opened"
    case_state_changed = "case_state_changed"
    case_closed = "case_closed"
    case_reopened = "case_reopened"
    action_requested = "action_requested"
    plan_submitted = "plan_submitted"
    plan_accepted = "plan_accepted"
    plan_rejected = "plan_rejected"
    action_implemented = "action_implemented"
    action_verified = "action_verified"
    action_not_verified = "action_not_verified"
    action_closed = "action_closed"
    message_posted = "message_posted"
    deadline_changed = "deadline_changed"
    deadline_reminder = "deadline_reminder"
    deadline_overdue = "deadline_overdue"
    action_escalated = "action_escalated"
    # Who receives a country's worker reports is to change, changed, or the change was stopped.
    coverage_change = "coverage_change"
    # Someone joined a monitor organisation and waits for a member's approval.
    membership_requested = "membership_requested"
    # Worker reports (testimony): a new web report, a survey import, a worker's reply.
    report_received = "report_received"
    survey_imported = "survey_imported"
    worker_message = "worker_message"
    # A report's acknowledgement or feedback clock runs out soon / ran out (to its monitors),
    # and the escalation of an overdue one to the coordinators (metadata only).
    report_clock_reminder = "report_clock_reminder"
    report_clock_overdue = "report_clock_overdue"
    report_clock_escalated = "report_clock_escalated"
    # A country's reports go to an organisation that cannot seal them (no usable key).
    coverage_without_key = "coverage_without_key"
    # A worker said they faced consequences for speaking up (to the report's monitors), the
    # alert was not handled in time (to every member again), and its escalation to the
    # coordinators (metadata only).
    retaliation_alert = "retaliation_alert"
    retaliation_alert_overdue = "retaliation_alert_overdue"
    retaliation_alert_escalated = "retaliation_alert_escalated"
    # An import the user started (a background job) is over: done or failed.
    import_finished = "import_finished"
    # A contract's disclosure was not confirmed by its due date (to the supplier's users), and
    # after a further wait to the buyer's users (metadata only: contract, supplier, due date).
    disclosure_confirmation_overdue = "disclosure_confirmation_overdue"
    disclosure_confirmation_escalated = "disclosure_confirmation_escalated"
    # A contract's circularity report: filed or corrected by the supplier (to the buyer's users),
    # queried with a reason or confirmed by the buyer (to the supplier's users).
    circularity_report_submitted = "circularity_report_submitted"
    circularity_report_queried = "circularity_report_queried"
    circularity_report_confirmed = "circularity_report_confirmed"

    @staticmethod
    def __titles__() -> dict[NotificationKind, str]:
        return {
            NotificationKind.case_opened: _l("Case opened"),
            NotificationKind.case_state_changed: _l("Case moved on"),
            NotificationKind.case_closed: _l("Case closed"),
            NotificationKind.case_reopened: _l("Case reopened"),
            NotificationKind.action_requested: _l("Corrective action requested"),
            NotificationKind.plan_submitted: _l("Corrective-action plan submitted"),
            NotificationKind.plan_accepted: _l("Corrective-action plan accepted"),
            NotificationKind.plan_rejected: _l("Corrective-action plan rejected"),
            NotificationKind.action_implemented: _l("Corrective action reported implemented"),
            NotificationKind.action_verified: _l("Corrective action verified"),
            NotificationKind.action_not_verified: _l("Corrective action not verified"),
            NotificationKind.action_closed: _l("Corrective action closed"),
            NotificationKind.message_posted: _l("New message"),
            NotificationKind.deadline_changed: _l("Deadline changed"),
            NotificationKind.deadline_reminder: _l("Deadline approaching"),
            NotificationKind.deadline_overdue: _l("Deadline missed"),
            NotificationKind.action_escalated: _l("Overdue corrective action escalated"),
            NotificationKind.coverage_change: _l("Change of who receives worker reports"),
            NotificationKind.membership_requested: _l("A new colleague asks to join"),
            NotificationKind.report_received: _l("New worker report"),
            NotificationKind.survey_imported: _l("Survey imported"),
            NotificationKind.worker_message: _l("New message from a worker"),
            NotificationKind.report_clock_reminder: _l("Worker report deadline approaching"),
            NotificationKind.report_clock_overdue: _l("Worker report deadline missed"),
            NotificationKind.report_clock_escalated: _l("Overdue worker report escalated"),
            NotificationKind.coverage_without_key: _l("Worker reports cannot be received"),
            NotificationKind.retaliation_alert: _l("A worker reports retaliation"),
            NotificationKind.retaliation_alert_overdue: _l("Retaliation alert not handled"),
            NotificationKind.retaliation_alert_escalated: _l("Unhandled retaliation alert escalated"),
            NotificationKind.import_finished: _l("Import finished"),
            NotificationKind.disclosure_confirmation_overdue: _l("Disclosure confirmation overdue"),
            NotificationKind.disclosure_confirmation_escalated: _l(
                "Supplier's disclosure confirmation overdue"
            ),
            NotificationKind.circularity_report_submitted: _l("Circularity report to review"),
            NotificationKind.circularity_report_queried: _l("Circularity report queried"),
            NotificationKind.circularity_report_confirmed: _l("Circularity report confirmed"),
        }


class MailState(TitledEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # gave up after the configured number of attempts
    skipped = "skipped"  # no mail server configured, or the recipient is inactive

    @staticmethod
    def __titles__() -> dict[MailState, str]:
        return {
            MailState.pending: _l("Waiting to be sent"),
            MailState.sent: _l("Sent"),
            MailState.failed: _l("Could not be sent"),
            MailState.skipped: _l("Not sent by e-mail"),
        }


class Notification(Base):
    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint("(mail_state = 'sent') = (mailed_dt IS NOT NULL)", name="mailed_dt_if_sent"),
        CheckConstraint("mail_attempts >= 0", name="attempts_not_negative"),
        Index(
            "ix_notification_unread",
            "user_id",
            sqlite_where=text("read_dt IS NULL"),
            postgresql_where=text("read_dt IS NULL"),
        ),
        Index(
            "ix_notification_pending",
            "id",
            sqlite_where=text("mail_state = 'pending'"),
            postgresql_where=text("mail_state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind, "kind"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("remediation_case.id"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("corrective_action.id"), index=True)
    # Metadata for the text (reference, site name, states, dates as ISO strings); never protected text.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Makes reminders and overdue notices idempotent: one per user, deadline and kind.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail_state: Mapped[MailState] = mapped_column(
        enum_column(MailState, "mail_state"), default=MailState.pending
    )
    mail_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind.value} to {self.user_id}>"
