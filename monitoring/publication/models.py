"""A case's publication on the public status page: proposed, approved, withdrawn.

One row per case. The lead coordinator proposes, a monitor of the case's organisation approves,
and either may withdraw; a withdrawn publication may be proposed again, which starts it over.
The case is public only while the row is approved and not withdrawn. The audit log keeps
every step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitoring.accounts.models import User
from monitoring.cases.models import Case
from monitoring.core.db import Base
from monitoring.core.types import UTCDateTime, utcnow


class CasePublication(Base):
    __tablename__ = "case_publication"
    __table_args__ = (
        CheckConstraint("(approved_dt IS NULL) = (approved_by_id IS NULL)", name="approved_by_and_dt"),
        CheckConstraint("(withdrawn_dt IS NULL) = (withdrawn_by_id IS NULL)", name="withdrawn_by_and_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("remediation_case.id"), unique=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    proposed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    @property
    def published(self) -> bool:
        return self.approved_dt is not None and self.withdrawn_dt is None

    @property
    def awaiting_approval(self) -> bool:
        return self.approved_dt is None and self.withdrawn_dt is None
