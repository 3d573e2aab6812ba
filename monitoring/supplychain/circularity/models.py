"""A circularity report (contract, product, calendar year) and the sites where taken-back devices went."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitoring.accounts.models import User
from monitoring.core.db import Base
from monitoring.core.types import TitledEnum, UTCDateTime, enum_column, utcnow
from monitoring.supplychain.models import Contract, Product, Site


class CircularityState(TitledEnum):
    submitted = "submitted"
    confirmed = "confirmed"
    queried = "queried"

    @staticmethod
    def __titles__() -> dict[CircularityState, str]:
        return {
            CircularityState.submitted: _l("Submitted, awaiting the buyer"),
            CircularityState.confirmed: _l("Confirmed by the buyer"),
            CircularityState.queried: _l("Queried by the buyer"),
        }


class TakeBackFate(TitledEnum):
    """What became of a device taken back (reuse first, recycling second)."""

    reused = "reused"
    refurbished = "refurbished"
    recycled = "recycled"
    disposed = "disposed"
    unknown = "unknown"

    @staticmethod
    def __titles__() -> dict[TakeBackFate, str]:
        return {
            TakeBackFate.reused: _l("Reused"),
            TakeBackFate.refurbished: _l("Refurbished"),
            TakeBackFate.recycled: _l("Recycled"),
            TakeBackFate.disposed: _l("Disposed of"),
            TakeBackFate.unknown: _l("Unknown"),
        }


# The fates that happen at a site (an unknown fate has no site).
SITE_FATES = (TakeBackFate.reused, TakeBackFate.refurbished, TakeBackFate.recycled, TakeBackFate.disposed)
# The counts of a report, in the order forms, the CSV layout and the audit show them.
COUNTS = (
    "delivered",
    "repaired",
    "replaced",
    "accessories_not_bought",
    "second_life_supplied",
    "taken_back",
    "reused",
    "refurbished",
    "recycled",
    "disposed",
    "unknown_fate",
)
FATE_COUNTS = ("reused", "refurbished", "recycled", "disposed", "unknown_fate")


class CircularityReport(Base):
    """What the supplier reports for one product of one contract over one calendar year."""

    __tablename__ = "circularity_report"
    __table_args__ = (
        UniqueConstraint("contract_id", "product_id", "year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint(
            "warranty_years >= 0 AND spare_part_years >= 0 AND os_update_years >= 0",
            name="years_not_negative",
        ),
        CheckConstraint(
            " AND ".join(f"{name} >= 0" for name in COUNTS)
            + " AND (repair_median_days IS NULL OR repair_median_days >= 0)",
            name="counts_not_negative",
        ),
        CheckConstraint(f"{' + '.join(FATE_COUNTS)} <= taken_back", name="fates_within_taken_back"),
        CheckConstraint("(state = 'queried') = (query_reason IS NOT NULL)", name="reason_iff_queried"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    state: Mapped[CircularityState] = mapped_column(
        enum_column(CircularityState, "state"), default=CircularityState.submitted
    )
    # Lifespan commitments.
    warranty_years: Mapped[int] = mapped_column(Integer)
    spare_part_years: Mapped[int] = mapped_column(Integer)
    os_update_years: Mapped[int] = mapped_column(Integer)
    repairability_info: Mapped[str] = mapped_column(Text, default="")
    # Devices over the year.
    delivered: Mapped[int] = mapped_column(Integer)
    repaired: Mapped[int] = mapped_column(Integer)
    repair_median_days: Mapped[int | None] = mapped_column(Integer)
    replaced: Mapped[int] = mapped_column(Integer)
    accessories_not_bought: Mapped[int] = mapped_column(Integer)
    second_life_supplied: Mapped[int] = mapped_column(Integer)
    taken_back: Mapped[int] = mapped_column(Integer)
    reused: Mapped[int] = mapped_column(Integer)
    refurbished: Mapped[int] = mapped_column(Integer)
    recycled: Mapped[int] = mapped_column(Integer)
    disposed: Mapped[int] = mapped_column(Integer)
    unknown_fate: Mapped[int] = mapped_column(Integer)
    # Who submitted last, who decided last, and the buyer's question while queried.
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    query_reason: Mapped[str | None] = mapped_column(String(2000))

    contract: Mapped[Contract] = relationship(lazy="joined")
    product: Mapped[Product] = relationship(lazy="joined")
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    sites: Mapped[list[CircularitySite]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="CircularitySite.id"
    )

    @property
    def second_life(self) -> int:
        """Taken-back devices that got a second life (reused or refurbished)."""
        return self.reused + self.refurbished

    def __repr__(self) -> str:
        return (
            f"<CircularityReport {self.id} contract={self.contract_id} product={self.product_id} {self.year}>"
        )


class CircularitySite(Base):
    """How many taken-back devices of a report met a fate at a registry site."""

    __tablename__ = "circularity_site"
    __table_args__ = (
        UniqueConstraint("report_id", "site_id", "fate"),
        CheckConstraint("count > 0", name="count_positive"),
        CheckConstraint("fate <> 'unknown'", name="known_fate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("circularity_report.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    fate: Mapped[TakeBackFate] = mapped_column(enum_column(TakeBackFate, "fate"))
    count: Mapped[int] = mapped_column(Integer)

    report: Mapped[CircularityReport] = relationship(back_populates="sites")
    site: Mapped[Site] = relationship(lazy="joined")
