"""Remediation: findings, cases, corrective actions, the dialogue and the case timeline.

Texts written by people (finding summaries, requests, plans, messages, reasons, notes, file
names and contents) are *protected*: AES-256-GCM under the server keyring, bound to table,
column and row. States, dates, severities, categories, counts and links are metadata
(DESIGN.md, confidentiality levels). Worker testimony never enters these tables: a finding
only links to the reports that support it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitoring.accounts.models import Organisation, User
from monitoring.core.crypto import ProtectedBytes
from monitoring.core.db import Base
from monitoring.core.keyring import protected
from monitoring.core.types import TitledEnum, UTCDateTime, enum_column, utcnow
from monitoring.supplychain.models import Site
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.models_outcomes import WorkerStatus


class Severity(TitledEnum):
    priority = "priority"
    major = "major"
    minor = "minor"

    @staticmethod
    def __titles__() -> dict[Severity, str]:
        return {
            Severity.priority: lazy_pgettext("severity", "Priority"),
            Severity.major: lazy_pgettext("severity", "Major"),
            Severity.minor: lazy_pgettext("severity", "Minor"),
        }


class EvidenceType(TitledEnum):
    """How a monitor established a finding."""

    offsite_interviews = "offsite_interviews"
    onsite_interviews = "onsite_interviews"
    survey = "survey"
    documents = "documents"
    observation = "observation"
    photos = "photos"
    other = "other"

    @staticmethod
    def __titles__() -> dict[EvidenceType, str]:
        return {
            EvidenceType.offsite_interviews: _l("Offsite worker interviews"),
            EvidenceType.onsite_interviews: _l("Onsite worker interviews"),
            EvidenceType.survey: _l("Worker survey"),
            EvidenceType.documents: _l("Documents (payslips, contracts, records)"),
            EvidenceType.observation: _l("Direct observation"),
            EvidenceType.photos: _l("Photos or video"),
            EvidenceType.other: _l("Other evidence"),
        }


class CaseState(TitledEnum):
    open = "open"
    in_dialogue = "in_dialogue"
    remediation = "remediation"
    verification = "verification"
    closed = "closed"

    @staticmethod
    def __titles__() -> dict[CaseState, str]:
        return {
            CaseState.open: lazy_pgettext("case state", "Open"),
            CaseState.in_dialogue: lazy_pgettext("case state", "In dialogue"),
            CaseState.remediation: lazy_pgettext("case state", "Remediation"),
            CaseState.verification: lazy_pgettext("case state", "Verification"),
            CaseState.closed: lazy_pgettext("case state", "Closed"),
        }


class CaseOutcome(TitledEnum):
    resolved = "resolved"
    partially_resolved = "partially_resolved"
    unresolved = "unresolved"

    @staticmethod
    def __titles__() -> dict[CaseOutcome, str]:
        return {
            CaseOutcome.resolved: _l("Resolved"),
            CaseOutcome.partially_resolved: _l("Partially resolved"),
            CaseOutcome.unresolved: _l("Unresolved"),
        }


class RemedyKind(TitledEnum):
    fees_repaid = "fees_repaid"
    passports_returned = "passports_returned"
    back_pay = "back_pay"
    reinstatement = "reinstatement"
    other = "other"

    @staticmethod
    def __titles__() -> dict[RemedyKind, str]:
        return {
            RemedyKind.fees_repaid: _l("Recruitment fees repaid"),
            RemedyKind.passports_returned: _l("Passports and documents returned"),
            RemedyKind.back_pay: _l("Back pay"),
            RemedyKind.reinstatement: _l("Reinstatement"),
            RemedyKind.other: _l("Other remedy"),
        }


# Remedies that are sums of money: they need an amount and a currency.
MONETARY_REMEDIES = (RemedyKind.fees_repaid, RemedyKind.back_pay)


class ActionState(TitledEnum):
    requested = "requested"
    plan_submitted = "plan_submitted"
    plan_accepted = "plan_accepted"
    plan_rejected = "plan_rejected"
    implemented = "implemented"
    verified = "verified"
    not_verified = "not_verified"
    closed = "closed"

    @staticmethod
    def __titles__() -> dict[ActionState, str]:
        return {
            ActionState.requested: _l("Plan requested"),
            ActionState.plan_submitted: _l("Plan submitted"),
            ActionState.plan_accepted: _l("Plan accepted"),
            ActionState.plan_rejected: _l("Plan rejected"),
            ActionState.implemented: _l("Implemented"),
            ActionState.verified: _l("Verified"),
            ActionState.not_verified: _l("Not verified"),
            ActionState.closed: lazy_pgettext("corrective action state", "Closed"),
        }


class Visibility(TitledEnum):
    """Who reads a message or a timeline event (DESIGN.md, workflow)."""

    internal = "internal"  # monitors of the case's organisation and coordinators
    buyers = "buyers"  # + affiliates whose contracts reach the site
    parties = "parties"  # + the supplier organisation addressed

    @staticmethod
    def __titles__() -> dict[Visibility, str]:
        return {
            Visibility.internal: _l("Internal: monitors and coordinators"),
            Visibility.buyers: _l("Buyers: also the affiliates concerned"),
            Visibility.parties: _l("Parties: also the supplier addressed"),
        }


class EventKind(TitledEnum):
    """What a timeline event records."""

    case_opened = "case_opened"
    case_state_changed = "case_state_changed"
    case_reopened = "case_reopened"
    case_closed = "case_closed"
    lead_changed = "lead_changed"
    finding_added = "finding_added"
    action_requested = "action_requested"
    action_state_changed = "action_state_changed"
    deadline_changed = "deadline_changed"
    action_escalated = "action_escalated"

    @staticmethod
    def __titles__() -> dict[EventKind, str]:
        return {
            EventKind.case_opened: _l("Case opened"),
            EventKind.case_state_changed: _l("Case state changed"),
            EventKind.case_reopened: _l("Case reopened"),
            EventKind.case_closed: _l("Case closed"),
            EventKind.lead_changed: _l("Lead coordinator changed"),
            EventKind.finding_added: _l("Finding added"),
            EventKind.action_requested: _l("Corrective action requested"),
            EventKind.action_state_changed: _l("Corrective action updated"),
            EventKind.deadline_changed: _l("Deadline changed"),
            EventKind.action_escalated: _l("Overdue action escalated"),
        }


class Finding(Base):
    """A breach of the code of labour standards that a monitor organisation found at a site."""

    __tablename__ = "finding"
    __table_args__ = (
        CheckConstraint("workers_affected IS NULL OR workers_affected >= 0", name="workers_not_negative"),
        Index("ix_finding_site_case", "site_id", "case_id"),
        Index("ix_finding_created", "created_dt", "id"),  # the findings lists' order
        Index("ix_finding_org_created", "organisation_id", "created_dt", "id"),  # a monitor's list
        Index("ix_finding_site_org", "site_id", "organisation_id"),  # a monitor's site picker
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    # The monitor organisation that filed it.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("remediation_case.id"), index=True)
    # A code of the labour standards (monitoring.cases.standards), e.g. "FL-2".
    standard: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "severity"))
    workers_affected: Mapped[int | None] = mapped_column(Integer)
    evidence_type: Mapped[EvidenceType] = mapped_column(enum_column(EvidenceType, "evidence_type"))
    found_date: Mapped[date] = mapped_column(Date)
    # The shareable summary (protected level), written to be read by buyers and coordinators.
    summary_ct: Mapped[bytes] = mapped_column(ProtectedBytes)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    summary = protected("summary_ct")

    site: Mapped[Site] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    case: Mapped[Case | None] = relationship(back_populates="findings")
    created_by: Mapped[User | None] = relationship()
    report_links: Mapped[list[FindingReport]] = relationship(
        back_populates="finding", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Finding {self.id} {self.standard} {self.severity.value}>"


class FindingReport(Base):
    """A worker report that supports a finding; only monitors of the organisation see these links."""

    __tablename__ = "finding_report"
    __table_args__ = (UniqueConstraint("finding_id", "report_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("worker_report.id"), index=True)

    finding: Mapped[Finding] = relationship(back_populates="report_links")
    report: Mapped[WorkerReport] = relationship()


class Case(Base):
    """The remediation of what was found at one site, from opening to a verified closure."""

    __tablename__ = "remediation_case"
    __table_args__ = (
        CheckConstraint("(state = 'closed') = (closed_dt IS NOT NULL)", name="closed_dt_if_closed"),
        CheckConstraint("(state = 'closed') = (outcome IS NOT NULL)", name="outcome_if_closed"),
        Index("ix_remediation_case_state_site", "state", "site_id"),
        Index("ix_remediation_case_opened", "opened_dt", "id"),  # the case board's order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A human reference, e.g. "C-2026-0007", unique.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    # The monitor organisation that works the case (its monitors see everything of it).
    monitor_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    lead_coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    state: Mapped[CaseState] = mapped_column(enum_column(CaseState, "state"), default=CaseState.open)
    # The highest severity of its findings (kept in step by the operations, for filters and deadlines).
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "severity"))
    outcome: Mapped[CaseOutcome | None] = mapped_column(enum_column(CaseOutcome, "outcome"))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    opened_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state_changed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship(lazy="joined")
    monitor_organisation: Mapped[Organisation] = relationship(lazy="joined")
    lead_coordinator: Mapped[User | None] = relationship(foreign_keys=[lead_coordinator_id])
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    findings: Mapped[list[Finding]] = relationship(back_populates="case", order_by="Finding.id")
    actions: Mapped[list[CorrectiveAction]] = relationship(
        back_populates="case", order_by="CorrectiveAction.id"
    )
    closures: Mapped[list[CaseClosure]] = relationship(back_populates="case", order_by="CaseClosure.id")

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.reference} {self.state.value}>"


class CaseClosure(Base):
    """One closing of a case: its outcome and the remedy workers got. Kept when a case reopens."""

    __tablename__ = "case_closure"
    __table_args__ = (
        CheckConstraint(
            "(workers_consulted_by_id IS NULL) = (workers_consulted_dt IS NULL)",
            name="consulted_by_and_dt",
        ),
        CheckConstraint(
            "validation_answers IS NULL OR validation_answers >= 0", name="validation_answers_not_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("remediation_case.id"), index=True)
    outcome: Mapped[CaseOutcome] = mapped_column(enum_column(CaseOutcome, "outcome"))
    note_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    closed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # For priority findings: the monitor who confirms the affected workers were consulted.
    workers_consulted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    workers_consulted_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the case is reopened after this closure.
    reopened_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_reason_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)
    # Closing a priority case as resolved: how many workers' validation answers the case had
    # then, or (when none) why the workers could not be asked.
    validation_answers: Mapped[int | None] = mapped_column(Integer)
    no_validation_reason_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)

    note = protected("note_ct")
    reopen_reason = protected("reopen_reason_ct")
    no_validation_reason = protected("no_validation_reason_ct")

    case: Mapped[Case] = relationship(back_populates="closures")
    closed_by: Mapped[User] = relationship(foreign_keys=[closed_by_id])
    workers_consulted_by: Mapped[User | None] = relationship(foreign_keys=[workers_consulted_by_id])
    remedies: Mapped[list[Remedy]] = relationship(
        back_populates="closure", cascade="all, delete-orphan", order_by="Remedy.id", lazy="selectin"
    )


class CaseStatusRelease(Base):
    """A short status the case's monitor released to the workers whose reports the case rests on.

    Only the status (one of the fixed, translated :class:`WorkerStatus`) and its date reach a
    worker's follow-up page: to every report linked to the case's findings, or to one of them
    (``report_id``). A withdrawn release is kept, with who withdrew it and when.
    """

    __tablename__ = "case_status_release"
    __table_args__ = (
        CheckConstraint("(withdrawn_dt IS NULL) = (withdrawn_by_id IS NULL)", name="withdrawn_by_and_dt"),
        Index("ix_case_status_release_case_withdrawn", "case_id", "withdrawn_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("remediation_case.id"), index=True)
    status: Mapped[WorkerStatus] = mapped_column(enum_column(WorkerStatus, "status"))
    # None: every report linked to the case's findings; else that report only.
    report_id: Mapped[int | None] = mapped_column(ForeignKey("worker_report.id"), index=True)
    released_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    released_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()
    released_by: Mapped[User] = relationship(foreign_keys=[released_by_id], lazy="joined")
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    def __repr__(self) -> str:
        return f"<CaseStatusRelease {self.id} {self.status.value}>"


class Remedy(Base):
    """What workers got, as data: e.g. fees repaid (amount, currency), workers covered."""

    __tablename__ = "remedy"
    __table_args__ = (
        CheckConstraint("workers_covered IS NULL OR workers_covered >= 0", name="workers_not_negative"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
        CheckConstraint("(amount IS NULL) = (currency IS NULL)", name="amount_has_currency"),
        CheckConstraint(
            "kind NOT IN ('fees_repaid', 'back_pay') OR amount IS NOT NULL", name="money_has_amount"
        ),
        CheckConstraint("currency IS NULL OR length(currency) = 3", name="currency_iso"),
        CheckConstraint("(closure_id IS NULL) <> (case_id IS NULL)", name="closure_or_case"),
        CheckConstraint("(case_id IS NULL) = (recorded_dt IS NULL)", name="recorded_dt_if_interim"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Recorded when the case closed, or (interim) on the open case: exactly one of the two.
    closure_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_closure.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(ForeignKey("remediation_case.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[RemedyKind] = mapped_column(enum_column(RemedyKind, "kind"))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    workers_covered: Mapped[int | None] = mapped_column(Integer)
    description_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)

    description = protected("description_ct")

    closure: Mapped[CaseClosure | None] = relationship(back_populates="remedies")


class CorrectiveAction(Base):
    """What a supplier organisation is asked to do about a finding, with its deadlines."""

    __tablename__ = "corrective_action"
    __table_args__ = (
        CheckConstraint("(state = 'closed') = (closed_dt IS NOT NULL)", name="closed_dt_if_closed"),
        CheckConstraint("closure_due_date >= plan_due_date", name="closure_after_plan"),
        # A supplier's requests: counted, and sorted by what is due when, from the index alone.
        Index(
            "ix_corrective_action_supplier_due",
            "supplier_id",
            "state",
            "plan_due_date",
            "closure_due_date",
            "id",
        ),
        Index("ix_corrective_action_supplier_requested", "supplier_id", "requested_dt", "id"),  # its list
        Index("ix_corrective_action_state_due", "state", "plan_due_date", "closure_due_date"),
        Index("ix_corrective_action_requested", "requested_dt", "id"),  # the lists' orders
        Index("ix_corrective_action_state_changed", "state_changed_dt", "id"),
        # A case's actions by state and closure date, read from the index alone: a monitor's
        # dashboard queues count their organisation's cases' actions without reading the rows.
        Index("ix_corrective_action_case_state", "case_id", "state", "closure_due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("remediation_case.id"))  # ix_corrective_action_case_state
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id"), index=True)
    # The supplier organisation addressed.
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    state: Mapped[ActionState] = mapped_column(
        enum_column(ActionState, "state"), default=ActionState.requested
    )
    # The severity of the finding when requested; it set the deadlines.
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "severity"))
    request_ct: Mapped[bytes] = mapped_column(ProtectedBytes)
    plan_due_date: Mapped[date] = mapped_column(Date)
    closure_due_date: Mapped[date] = mapped_column(Date)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state_changed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the supplier says it did, when it reports the action implemented.
    implementation_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)
    implemented_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The monitor's verification.
    verification_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    verified_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the overdue action was escalated to the coordinators (once per deadline missed).
    escalated_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request = protected("request_ct")
    implementation = protected("implementation_ct")
    verification = protected("verification_ct")

    case: Mapped[Case] = relationship(back_populates="actions")
    finding: Mapped[Finding] = relationship(lazy="joined")
    supplier: Mapped[Organisation] = relationship(lazy="joined")
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    responses: Mapped[list[SupplierResponse]] = relationship(
        back_populates="action", order_by="SupplierResponse.id"
    )

    def __repr__(self) -> str:
        return f"<CorrectiveAction {self.id} {self.state.value}>"


class SupplierResponse(Base):
    """A supplier's corrective-action plan; a rejected plan is kept and a new one submitted."""

    __tablename__ = "supplier_response"
    __table_args__ = (
        CheckConstraint("(accepted IS NULL) = (decided_dt IS NULL)", name="decided_dt_if_decided"),
        CheckConstraint(
            "accepted IS NULL OR accepted OR rejection_reason_ct IS NOT NULL", name="rejection_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("corrective_action.id"), index=True)
    root_cause_ct: Mapped[bytes] = mapped_column(ProtectedBytes)
    corrective_ct: Mapped[bytes] = mapped_column(ProtectedBytes)
    preventive_ct: Mapped[bytes] = mapped_column(ProtectedBytes)
    target_date: Mapped[date] = mapped_column(Date)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted: Mapped[bool | None] = mapped_column(Boolean)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)

    root_cause = protected("root_cause_ct")
    corrective = protected("corrective_ct")
    preventive = protected("preventive_ct")
    rejection_reason = protected("rejection_reason_ct")

    action: Mapped[CorrectiveAction] = relationship(back_populates="responses")
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class CaseMessage(Base):
    """One message of a case's dialogue; append-only.

    ``parties`` messages name the supplier organisation they are shared with.
    """

    __tablename__ = "case_message"
    __table_args__ = (
        CheckConstraint("(visibility = 'parties') = (supplier_id IS NOT NULL)", name="supplier_if_parties"),
        Index("ix_case_message_case_created", "case_id", "created_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("remediation_case.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility, "visibility"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    body_ct: Mapped[bytes] = mapped_column(ProtectedBytes)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    body = protected("body_ct")

    case: Mapped[Case] = relationship()
    author: Mapped[User] = relationship(lazy="joined")
    supplier: Mapped[Organisation | None] = relationship()
    attachments: Mapped[list[CaseFile]] = relationship(
        back_populates="message", order_by="CaseFile.id", lazy="selectin"
    )


class CaseFile(Base):
    """A file attached to a message or to a corrective action's implementation (protected level).

    The content is encrypted in 64 KiB chunks under the file's own key, which is stored under
    the server keyring; the name too.
    """

    __tablename__ = "case_file"
    __table_args__ = (
        CheckConstraint("size >= 0", name="size_not_negative"),
        CheckConstraint("(message_id IS NULL) <> (action_id IS NULL)", name="one_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("remediation_case.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("case_message.id"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("corrective_action.id"), index=True)
    file_key_ct: Mapped[bytes] = mapped_column(ProtectedBytes)
    name_ct: Mapped[bytes] = mapped_column(ProtectedBytes)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    name = protected("name_ct")

    message: Mapped[CaseMessage | None] = relationship(back_populates="attachments")
    action: Mapped[CorrectiveAction | None] = relationship()
    uploaded_by: Mapped[User | None] = relationship()


class CaseEvent(Base):
    """One entry of a case's timeline: a state change, a request, a deadline, an escalation.

    Events are append-only; the visibility says who reads them, as for messages.
    """

    __tablename__ = "case_event"
    __table_args__ = (
        CheckConstraint("(visibility = 'parties') = (supplier_id IS NOT NULL)", name="supplier_if_parties"),
        Index("ix_case_event_case_created", "case_id", "created_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("remediation_case.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("corrective_action.id"), index=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("finding.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "kind"))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility, "visibility"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A reason or note given with the change (a rejection, a reopening), protected.
    note_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)
    # Metadata for the timeline line, e.g. the new deadline.
    due_date: Mapped[date | None] = mapped_column(Date)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    note = protected("note_ct")

    actor: Mapped[User | None] = relationship(lazy="joined")
    action: Mapped[CorrectiveAction | None] = relationship()


# --- clause compliance ------------------------------------------------------------------------


class ClauseStatus(TitledEnum):
    """How a contract clause stood in a reporting period (see ``monitoring.cases.compliance``)."""

    met = "met"
    due_diligence = "due_diligence"
    breached = "breached"
    not_assessed = "not_assessed"

    @staticmethod
    def __titles__() -> dict[ClauseStatus, str]:
        return {
            ClauseStatus.met: _l("Met"),
            ClauseStatus.due_diligence: _l("In due diligence"),
            ClauseStatus.breached: _l("Breached"),
            ClauseStatus.not_assessed: _l("Not assessed"),
        }


class FindingClauseChoice(Base):
    """That a coordinator or the case's monitor chose a finding's clauses (its ``FindingClause``
    rows, possibly none). A finding without a choice breaches the default clauses."""

    __tablename__ = "finding_clause_choice"

    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    set_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FindingClause(Base):
    """A contract clause that a finding breaches, as chosen for it."""

    __tablename__ = "finding_clause"

    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True)
    clause_id: Mapped[int] = mapped_column(
        ForeignKey("contract_clause.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ClauseAssessment(Base):
    """A status set by hand for a clause and a year, with its reason; the latest one counts.

    Append-only: a new assessment replaces the shown one, the earlier ones stay as history.
    """

    __tablename__ = "clause_assessment"
    __table_args__ = (
        CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),
        Index("ix_clause_assessment_clause_year", "clause_id", "year", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("contract_clause.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[ClauseStatus] = mapped_column(enum_column(ClauseStatus, "status"))
    # Why (protected, as every reason here); required.
    reason_ct: Mapped[bytes] = mapped_column(ProtectedBytes)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    set_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reason = protected("reason_ct")

    set_by: Mapped[User] = relationship(lazy="joined")


# --- factory access and follow-up meetings -----------------------------------------------------


class AccessOutcome(TitledEnum):
    """What came of a monitor's request to enter a factory (see ``monitoring.cases.access``)."""

    granted = "granted"
    refused = "refused"
    no_answer = "no_answer"

    @staticmethod
    def __titles__() -> dict[AccessOutcome, str]:
        return {
            AccessOutcome.granted: _l("Granted"),
            AccessOutcome.refused: _l("Refused"),
            AccessOutcome.no_answer: _l("No answer"),
        }


class SiteAccess(Base):
    """A monitor organisation's request to enter a site, or its visit, and what came of it.

    A refused access is itself a finding under the monitoring clauses: recording one files the
    finding in the same transaction and links it here (``finding_id`` is set exactly then).
    """

    __tablename__ = "site_access"
    __table_args__ = (
        CheckConstraint("(outcome = 'refused') = (finding_id IS NOT NULL)", name="finding_iff_refused"),
        Index("ix_site_access_site_date", "site_id", "access_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    # The monitor organisation that asked.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The supplier organisation asked for access.
    requested_of_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    access_date: Mapped[date] = mapped_column(Date)
    outcome: Mapped[AccessOutcome] = mapped_column(enum_column(AccessOutcome, "outcome"))
    # The monitor's note (protected); optional.
    note_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("finding.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    note = protected("note_ct")

    site: Mapped[Site] = relationship()
    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    requested_of: Mapped[Organisation] = relationship(foreign_keys=[requested_of_id], lazy="joined")
    finding: Mapped[Finding | None] = relationship()
    created_by: Mapped[User | None] = relationship()


class ContractMeeting(Base):
    """A follow-up meeting between a contract's buyer and its supplier, with the actions agreed.

    Seen by the contract's buyer, its supplier and coordinators only.
    """

    __tablename__ = "contract_meeting"
    __table_args__ = (Index("ix_contract_meeting_contract_date", "contract_id", "meeting_date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    meeting_date: Mapped[date] = mapped_column(Date)
    # Who took part (free text, protected: it names people).
    participants_ct: Mapped[bytes] = mapped_column(ProtectedBytes)
    notes_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    participants = protected("participants_ct")
    notes = protected("notes_ct")

    created_by: Mapped[User | None] = relationship()
    actions: Mapped[list[MeetingAction]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingAction.position"
    )


class MeetingAction(Base):
    """An action agreed at a follow-up meeting, with the date it is due."""

    __tablename__ = "meeting_action"
    __table_args__ = (UniqueConstraint("meeting_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("contract_meeting.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text_ct: Mapped[bytes] = mapped_column(ProtectedBytes)
    due_date: Mapped[date] = mapped_column(Date)

    text = protected("text_ct")

    meeting: Mapped[ContractMeeting] = relationship(back_populates="actions")
