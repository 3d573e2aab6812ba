"""The crosswalk table and imported third-party audits with their findings."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitoring.accounts.models import User
from monitoring.cases.models import Severity
from monitoring.core.crypto import ProtectedBytes
from monitoring.core.db import Base
from monitoring.core.keyring import protected
from monitoring.core.types import TitledEnum, UTCDateTime, enum_column, utcnow
from monitoring.supplychain.models import Site
from monitoring.testimony.models import IssueCategory


class CrosswalkEntry(Base):
    """One link of the crosswalk: an RBA Code section and/or a worker issue category to one of
    our standards (``monitoring.cases.standards``), with a note on why."""

    __tablename__ = "crosswalk_entry"
    __table_args__ = (
        CheckConstraint("rba_section IS NOT NULL OR issue_category IS NOT NULL", name="section_or_category"),
        Index("ix_crosswalk_entry_section", "rba_section"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A section of the RBA Code of Conduct 8.0, e.g. "A3".
    rba_section: Mapped[str | None] = mapped_column(String(8))
    # A code of our standards, e.g. "WH" or "FL-2".
    standard: Mapped[str] = mapped_column(String(16), index=True)
    issue_category: Mapped[IssueCategory | None] = mapped_column(enum_column(IssueCategory, "issue_category"))
    note: Mapped[str | None] = mapped_column(String(500))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    updated_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<CrosswalkEntry {self.id} {self.rba_section} {self.standard} {self.issue_category}>"


class AuditFindingStatus(TitledEnum):
    """Where an audit finding stood in the audit report; open and in_progress count as open."""

    open = "open"
    in_progress = "in_progress"
    closed = "closed"

    @staticmethod
    def __titles__() -> dict[AuditFindingStatus, str]:
        return {
            AuditFindingStatus.open: _l("Open"),
            AuditFindingStatus.in_progress: _l("In progress"),
            AuditFindingStatus.closed: _l("Closed"),
        }

    @property
    def is_open(self) -> bool:
        return self is not AuditFindingStatus.closed


class SocialAudit(Base):
    """A third-party social audit of a site (e.g. an RBA Validated Assessment), as imported."""

    __tablename__ = "social_audit"
    __table_args__ = (Index("ix_social_audit_site_date", "site_id", "audit_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    audit_date: Mapped[date] = mapped_column(Date)
    firm: Mapped[str] = mapped_column(String(200))
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    imported_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()
    imported_by: Mapped[User | None] = relationship()
    findings: Mapped[list[SocialAuditFinding]] = relationship(
        back_populates="audit", cascade="all, delete-orphan", order_by="SocialAuditFinding.id"
    )


class SocialAuditFinding(Base):
    """A finding of a third-party audit under an RBA Code section; its text is protected."""

    __tablename__ = "social_audit_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("social_audit.id", ondelete="CASCADE"), index=True)
    rba_section: Mapped[str] = mapped_column(String(8))
    severity: Mapped[Severity] = mapped_column(enum_column(Severity, "severity"))
    status: Mapped[AuditFindingStatus] = mapped_column(enum_column(AuditFindingStatus, "status"))
    text_ct: Mapped[bytes] = mapped_column(ProtectedBytes)

    text = protected("text_ct")

    audit: Mapped[SocialAudit] = relationship(back_populates="findings")
