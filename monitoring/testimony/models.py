"""Worker testimony: reports, their conversation with the worker and evidence files.

Identity, testimony, the worker's description of the workplace, conversation messages and
evidence file names and contents are *sealed*: encrypted under a per-report data key that is
wrapped (HPKE) to the public key of the receiving monitor organisation. Everything else on
these rows is metadata (DESIGN.md, confidentiality levels).
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitoring.accounts.models import Organisation, OrganisationKey, User
from monitoring.core.db import Base
from monitoring.core.types import TitledEnum, UTCDateTime, enum_column, utcnow
from monitoring.supplychain.models import Site


class ReportChannel(TitledEnum):
    offsite_interview = "offsite_interview"
    onsite_interview = "onsite_interview"
    survey = "survey"
    hotline = "hotline"
    web = "web"
    document = "document"

    @staticmethod
    def __titles__() -> dict[ReportChannel, str]:
        return {
            ReportChannel.offsite_interview: _l("Offsite interview"),
            ReportChannel.onsite_interview: _l("Onsite interview"),
            ReportChannel.survey: _l("Survey"),
            ReportChannel.hotline: _l("Hotline"),
            ReportChannel.web: _l("Web report"),
            ReportChannel.document: _l("Document"),
        }


class ReportStatus(TitledEnum):
    received = "received"
    acknowledged = "acknowledged"
    investigating = "investigating"
    closed = "closed"

    @staticmethod
    def __titles__() -> dict[ReportStatus, str]:
        return {
            ReportStatus.received: _l("Received"),
            ReportStatus.acknowledged: _l("Acknowledged"),
            ReportStatus.investigating: _l("Being looked into"),
            ReportStatus.closed: _l("Closed"),
        }


class ErasureReason(TitledEnum):
    worker_request = "worker_request"  # the worker asked, with their receipt
    retention = "retention"  # the retention period ran out (``flask jobs run``)
    import_undone = "import_undone"  # a monitor undid the survey import that made it

    @staticmethod
    def __titles__() -> dict[ErasureReason, str]:
        return {
            ErasureReason.worker_request: _l("The worker asked"),
            ErasureReason.retention: _l("Retention period over"),
            ErasureReason.import_undone: _l("Its survey import was undone"),
        }


class RetaliationRisk(TitledEnum):
    low = "low"
    medium = "medium"
    high = "high"

    @staticmethod
    def __titles__() -> dict[RetaliationRisk, str]:
        return {
            RetaliationRisk.low: _l("Low"),
            RetaliationRisk.medium: _l("Medium"),
            RetaliationRisk.high: _l("High"),
        }


class IssueCategory(TitledEnum):
    """The checklist of issues a worker or monitor ticks; metadata, used for counts and filters."""

    forced_labour = "forced_labour"
    recruitment_fees = "recruitment_fees"
    retained_documents = "retained_documents"
    student_labour = "student_labour"
    child_labour = "child_labour"
    freedom_of_association = "freedom_of_association"
    discrimination = "discrimination"
    harassment = "harassment"
    wages = "wages"
    working_hours = "working_hours"
    health_safety = "health_safety"
    chemicals = "chemicals"
    dormitory = "dormitory"
    agency_work = "agency_work"
    retaliation = "retaliation"
    other = "other"

    @staticmethod
    def __titles__() -> dict[IssueCategory, str]:
        return {
            IssueCategory.forced_labour: _l("Forced labour or threats"),
            IssueCategory.recruitment_fees: _l("Recruitment fees or debts"),
            IssueCategory.retained_documents: _l("Passport or documents kept by others"),
            IssueCategory.student_labour: _l("Student or intern labour"),
            IssueCategory.child_labour: _l("Child labour"),
            IssueCategory.freedom_of_association: _l("Union rights"),
            IssueCategory.discrimination: _l("Discrimination"),
            IssueCategory.harassment: _l("Harassment or violence"),
            IssueCategory.wages: _l("Wages and benefits"),
            IssueCategory.working_hours: _l("Working hours and overtime"),
            IssueCategory.health_safety: _l("Health and safety"),
            IssueCategory.chemicals: _l("Chemicals"),
            IssueCategory.dormitory: _l("Dormitory and living conditions"),
            IssueCategory.agency_work: _l("Agency or temporary work"),
            IssueCategory.retaliation: _l("Punishment for speaking up"),
            IssueCategory.other: _l("Something else"),
        }


class MonitorCoverage(Base):
    """Which monitor organisation receives reports about workplaces in a country.

    The row with ``country`` NULL is the fallback for countries no organisation covers.
    """

    __tablename__ = "monitor_coverage"
    __table_args__ = (
        UniqueConstraint("country"),
        CheckConstraint("country IS NULL OR length(country) = 2", name="country_iso_alpha2"),
        Index(
            "uq_monitor_coverage_fallback",
            "is_fallback",
            unique=True,
            sqlite_where=text("is_fallback"),
            postgresql_where=text("is_fallback"),
        ),
        CheckConstraint("(country IS NULL) = is_fallback", name="fallback_has_no_country"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    is_fallback: Mapped[bool] = mapped_column(Boolean, default=False)

    organisation: Mapped[Organisation] = relationship(lazy="joined")


class CoverageChangeState(TitledEnum):
    pending = "pending"  # waiting for the receiving organisation's confirmation or the end of the wait
    confirmed = "confirmed"  # a member of the organisation receiving today confirmed; applied then
    objected = "objected"  # a monitor of either organisation objected: nothing changed
    applied = "applied"  # applied after the wait, or at once where nobody received the reports
    cancelled = "cancelled"  # withdrawn, or no longer possible when it was due

    @staticmethod
    def __titles__() -> dict[CoverageChangeState, str]:
        return {
            CoverageChangeState.pending: _l("Waiting"),
            CoverageChangeState.confirmed: _l("Confirmed and in force"),
            CoverageChangeState.objected: _l("Stopped by an objection"),
            CoverageChangeState.applied: _l("In force"),
            CoverageChangeState.cancelled: _l("Cancelled"),
        }


# The scope of the fallback route (every country without a route of its own).
FALLBACK_SCOPE = "*"


class CoverageChange(Base):
    """A requested change of who receives the reports of a country (or of every other country).

    It takes effect only when a member of the organisation that receives those reports today
    confirms it, or after ``COVERAGE_CHANGE_WAIT_DAYS`` during which the monitors of both
    organisations are told and any of them may object. ``to_organisation_id`` NULL removes the
    country's route (its reports then go to the fallback, if any).
    """

    __tablename__ = "coverage_change"
    __table_args__ = (
        CheckConstraint("scope = '*' OR length(scope) = 2", name="scope_country_or_fallback"),
        CheckConstraint("(state = 'pending') = (decided_dt IS NULL)", name="decided_dt_unless_pending"),
        CheckConstraint(
            "(state IN ('confirmed', 'applied')) = (applied_dt IS NOT NULL)", name="applied_dt_if_in_force"
        ),
        # One waiting change per scope at a time.
        Index(
            "uq_coverage_change_pending_scope",
            "scope",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A country code, or FALLBACK_SCOPE for every country without a route of its own.
    scope: Mapped[str] = mapped_column(String(2))
    # Who receives the scope's reports when the change is asked for (NULL: nobody).
    from_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Who is to receive them (NULL: the country's own route is removed).
    to_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    state: Mapped[CoverageChangeState] = mapped_column(
        enum_column(CoverageChangeState, "state"), default=CoverageChangeState.pending
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When it takes effect unless confirmed sooner or objected to.
    effective_dt: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    from_organisation: Mapped[Organisation | None] = relationship(
        foreign_keys=[from_organisation_id], lazy="joined"
    )
    to_organisation: Mapped[Organisation | None] = relationship(
        foreign_keys=[to_organisation_id], lazy="joined"
    )
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")

    @property
    def country(self) -> str | None:
        return None if self.scope == FALLBACK_SCOPE else self.scope

    def __repr__(self) -> str:
        return f"<CoverageChange {self.id} {self.scope} {self.state.value}>"


class SurveyImport(Base):
    """One survey export (KoboToolbox CSV) turned into reports."""

    __tablename__ = "survey_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    rows: Mapped[int] = mapped_column(Integer)
    # Answers left out because an earlier import of the organisation holds them already.
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    imported_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Undone by a monitor (its reports crypto-shredded): when and by whom.
    undone_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class WorkerReport(Base):
    """What one worker told a monitor, or filed anonymously at /report."""

    __tablename__ = "worker_report"
    __table_args__ = (
        CheckConstraint("country IS NULL OR length(country) = 2", name="country_iso_alpha2"),
        CheckConstraint(
            "(receipt_lookup IS NULL) = (receipt_public_key IS NULL)", name="receipt_key_if_receipt"
        ),
        CheckConstraint(
            "(status = 'received') = (acknowledged_dt IS NULL)", name="acknowledged_dt_unless_received"
        ),
        CheckConstraint("key_binding IN (1, 2)", name="key_binding_known"),
        CheckConstraint("(erased_dt IS NULL) = (erasure_reason IS NULL)", name="erasure_reason_if_erased"),
        CheckConstraint("(erased_dt IS NULL) = (wrapped_key IS NOT NULL)", name="wrapped_key_unless_erased"),
        CheckConstraint(
            "erased_dt IS NULL OR (identity_sealed IS NULL AND testimony_sealed IS NULL"
            " AND workplace_sealed IS NULL AND receipt_lookup IS NULL)",
            name="nothing_sealed_if_erased",
        ),
        Index("ix_worker_report_org_status", "organisation_id", "status"),
        # The report list's order, and the home page's deadline counts, without a scan.
        Index("ix_worker_report_org_created", "organisation_id", "created_dt", "id"),
        # The export's columns in the list's order: the CSV reads this index, not each row.
        Index(
            "ix_worker_report_export",
            "organisation_id",
            "created_dt",
            "id",
            "collected_date",
            "channel",
            "status",
            "country",
            "site_id",
        ),
        Index("ix_worker_report_org_ack_due", "organisation_id", "acknowledged_dt", "acknowledge_due_dt"),
        # With the status, the feedback-overdue count ("status != closed") reads the index alone,
        # not each report's row (sealed columns and all).
        Index(
            "ix_worker_report_org_feedback_open",
            "organisation_id",
            "feedback_dt",
            "feedback_due_dt",
            "status",
        ),
        UniqueConstraint("organisation_id", "source_digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The monitor organisation the report is sealed to, and the key version that wraps it.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    organisation_key_id: Mapped[int] = mapped_column(ForeignKey("organisation_key.id"), index=True)
    # The report's data key, sealed (HPKE) to that organisation key. ``key_binding`` 2: the
    # sealing names this table and report, so the key opens nowhere else; 1: it names only the
    # key version (rows from before December 2026, until they are re-wrapped).
    # NULL once the report is erased (crypto-shredded: see ``operations_erasure``); typed as
    # bytes because nothing reads the key of an erased report (``sealing_base`` refuses first).
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=True)
    key_binding: Mapped[int] = mapped_column(SmallInteger)
    # The organisation key version that was the newest when this data key was made. A report
    # whose data key is older than the newest version (someone left since) is re-encrypted
    # under a fresh data key, all its sealed fields, messages and files with it.
    data_key_generation: Mapped[int] = mapped_column(Integer)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    # A survey row whose workplace name matched no site exactly: the most similar site of its
    # country, until a monitor confirms or changes it (``operations_survey_undo``).
    proposed_site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    country: Mapped[str | None] = mapped_column(String(2))
    channel: Mapped[ReportChannel] = mapped_column(enum_column(ReportChannel, "channel"))
    collected_date: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(16))
    consent_share_buyers: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_share_supplier: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    retaliation_risk: Mapped[RetaliationRisk | None] = mapped_column(
        enum_column(RetaliationRisk, "retaliation_risk")
    )
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "status"), default=ReportStatus.received
    )
    # Sealed fields (AES-256-GCM under the data key, bound to table, column and row).
    identity_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    testimony_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    workplace_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    survey_import_id: Mapped[int | None] = mapped_column(ForeignKey("survey_import.id"), index=True)
    # SHA-256 of the survey tool's submission id, so a re-exported answer is not imported twice.
    source_digest: Mapped[str | None] = mapped_column(String(64))
    # Anonymous reports: a lookup derived from the receipt (never the receipt itself) and the
    # public key that replies to the worker are sealed to.
    receipt_lookup: Mapped[str | None] = mapped_column(String(64), unique=True)
    receipt_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)  # hybrid: 1,216 bytes
    # Whistleblower Directive clocks: acknowledge within 7 days, feedback within 3 months.
    acknowledge_due_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_due_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Erasure: every wrapped copy of the data key, the sealed columns, messages, grants and
    # evidence files are destroyed; the metadata the cases need stays.
    erased_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erasure_reason: Mapped[ErasureReason | None] = mapped_column(enum_column(ErasureReason, "erasure_reason"))

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    organisation_key: Mapped[OrganisationKey] = relationship()
    site: Mapped[Site | None] = relationship(lazy="joined", foreign_keys=[site_id])
    created_by: Mapped[User | None] = relationship()
    categories: Mapped[list[ReportCategory]] = relationship(
        back_populates="report", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<WorkerReport {self.id} {self.channel.value} {self.status.value}>"


class ReportCategory(Base):
    __tablename__ = "report_category"
    __table_args__ = (UniqueConstraint("report_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("worker_report.id", ondelete="CASCADE"), index=True)
    category: Mapped[IssueCategory] = mapped_column(enum_column(IssueCategory, "category"))

    report: Mapped[WorkerReport] = relationship(back_populates="categories")


class ReportMessage(Base):
    """One message of the conversation between a worker and the monitors; append-only.

    Its body is sealed under a message key wrapped twice: to the organisation (for the monitors)
    and, on anonymous reports, to the receipt's public key (for the worker).
    """

    __tablename__ = "report_message"
    __table_args__ = (
        CheckConstraint("from_worker OR author_id IS NOT NULL", name="author_unless_worker"),
        CheckConstraint("key_binding IN (1, 2)", name="key_binding_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("worker_report.id"), index=True)
    from_worker: Mapped[bool] = mapped_column(Boolean)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    organisation_key_id: Mapped[int] = mapped_column(ForeignKey("organisation_key.id"), index=True)
    organisation_wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    receipt_wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # 2: the wrapped keys and the body name this message and its author side (worker or
    # monitor); 1: only the report (rows from before December 2026, until re-wrapped).
    key_binding: Mapped[int] = mapped_column(SmallInteger)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[WorkerReport] = relationship()
    author: Mapped[User | None] = relationship()


class ReportReadMarker(Base):
    """How far one monitor read a report's conversation: the newest message they have seen.

    A report has unread worker messages for a monitor while a message from the worker is newer
    than their marker (or they have none). Opening the conversation moves the marker.
    """

    __tablename__ = "report_read_marker"
    __table_args__ = (UniqueConstraint("report_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("worker_report.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    last_message_id: Mapped[int] = mapped_column(Integer)
    read_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportClock(TitledEnum):
    """The Whistleblower Directive clocks of a direct report."""

    acknowledge = "acknowledge"
    feedback = "feedback"

    @staticmethod
    def __titles__() -> dict[ReportClock, str]:
        return {
            ReportClock.acknowledge: _l("Acknowledgement"),
            ReportClock.feedback: _l("Feedback to the worker"),
        }


class ClockNoticeStage(TitledEnum):
    reminder = "reminder"  # the clock runs out soon
    escalation = "escalation"  # the clock ran out

    @staticmethod
    def __titles__() -> dict[ClockNoticeStage, str]:
        return {
            ClockNoticeStage.reminder: _l("Reminder"),
            ClockNoticeStage.escalation: _l("Escalation"),
        }


class ReportClockNotice(Base):
    """A reminder or escalation sent for one clock of one report, so that each goes out once.

    ``due_dt`` is the deadline the notice was about: a deadline that moves is told again.
    """

    __tablename__ = "report_clock_notice"
    __table_args__ = (UniqueConstraint("report_id", "clock", "stage", "due_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("worker_report.id", ondelete="CASCADE"), index=True)
    clock: Mapped[ReportClock] = mapped_column(enum_column(ReportClock, "clock"))
    stage: Mapped[ClockNoticeStage] = mapped_column(enum_column(ClockNoticeStage, "stage"))
    due_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # How many notifications went out (members, and coordinators for an escalation).
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class KeylessCoverageAlert(Base):
    """Coordinators and administrators were told that a route leads to an organisation without
    a usable key; deleted once the route is fixed, so that a new breakage is told again."""

    __tablename__ = "keyless_coverage_alert"
    __table_args__ = (
        UniqueConstraint("scope", "organisation_id"),
        CheckConstraint("scope = '*' OR length(scope) = 2", name="scope_country_or_fallback"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A country code, or FALLBACK_SCOPE for every country without a route of its own.
    scope: Mapped[str] = mapped_column(String(2))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    raised_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Evidence(Base):
    """A file attached to a report, stored encrypted in 64 KiB chunks in the file store."""

    __tablename__ = "evidence"
    __table_args__ = (CheckConstraint("size >= 0", name="size_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("worker_report.id"), index=True)
    # The file's own key, sealed to this version of the organisation's key.
    organisation_key_id: Mapped[int] = mapped_column(ForeignKey("organisation_key.id"), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # The checked type (from the allow-list) and size are metadata.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    # The random name of the encrypted object in the file store.
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    report: Mapped[WorkerReport] = relationship()


class ReportGrant(Base):
    """A report's data key sealed to a coordinator whom the monitor organisation lets read it."""

    __tablename__ = "report_grant"
    __table_args__ = (UniqueConstraint("report_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("worker_report.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[WorkerReport] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ThrottleWindowKey(Base):
    """The random key under which one rate limit's counters of one time window are kept.

    Made on first use in the window, from the operating system's random source (nothing in the
    configuration derives it), and deleted with the window's counters once the window ends:
    after that, not even the database with every server secret links a counter to an address.
    """

    __tablename__ = "throttle_window_key"
    __table_args__ = (UniqueConstraint("scope", "window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(32))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    key: Mapped[bytes] = mapped_column(LargeBinary(32))


class ThrottleCounter(Base):
    """Requests counted per key and time window, for rate limits shared by every app server.

    Keys are HMACs under the window's random :class:`ThrottleWindowKey`, and go with it.
    """

    __tablename__ = "throttle_counter"
    __table_args__ = (UniqueConstraint("key", "window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    window_key_id: Mapped[int] = mapped_column(
        ForeignKey("throttle_window_key.id", ondelete="CASCADE"), index=True
    )
    count: Mapped[int] = mapped_column(Integer, default=0)
