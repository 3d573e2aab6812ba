"""The supply-chain registry: sites, products, contracts and disclosures.

A contract of an affiliate (public buyer) with a supplier covers products; a supplier
discloses which site makes which part of a product. Which affiliates and suppliers a site
concerns is derived from these links (see :mod:`monitoring.supplychain.queries`), never stored.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitoring.accounts.models import Organisation, User
from monitoring.core.db import Base
from monitoring.core.names import search_text
from monitoring.core.types import TitledEnum, UTCDateTime, enum_column, utcnow


class SiteKind(TitledEnum):
    final_assembly = "final_assembly"
    component = "component"
    recycling = "recycling"

    @staticmethod
    def __titles__() -> dict[SiteKind, str]:
        return {
            SiteKind.final_assembly: _l("Final assembly"),
            SiteKind.component: _l("Component manufacturing"),
            SiteKind.recycling: _l("Repair, refurbishment or recycling"),
        }


class ProductCategory(TitledEnum):
    smartphone = "smartphone"
    laptop = "laptop"
    tablet = "tablet"
    desktop = "desktop"
    server = "server"
    printer = "printer"
    audio_visual = "audio_visual"
    other = "other"

    @staticmethod
    def __titles__() -> dict[ProductCategory, str]:
        return {
            ProductCategory.smartphone: _l("Smartphone"),
            ProductCategory.laptop: _l("Laptop"),
            ProductCategory.tablet: _l("Tablet"),
            ProductCategory.desktop: _l("Desktop computer"),
            ProductCategory.server: _l("Server"),
            ProductCategory.printer: _l("Printer or multifunction device"),
            ProductCategory.audio_visual: _l("Audio-visual equipment"),
            ProductCategory.other: _l("Other"),
        }


class ClauseKind(TitledEnum):
    labour_standards = "labour_standards"
    monitoring = "monitoring"
    remediation = "remediation"
    disclosure = "disclosure"
    circularity = "circularity"
    other = "other"

    @staticmethod
    def __titles__() -> dict[ClauseKind, str]:
        return {
            ClauseKind.labour_standards: _l("Labour standards"),
            ClauseKind.monitoring: _l("Worker-driven monitoring"),
            ClauseKind.remediation: _l("Remediation"),
            ClauseKind.disclosure: _l("Supply-chain disclosure"),
            ClauseKind.circularity: _l("Circularity"),
            ClauseKind.other: _l("Other"),
        }


class DisclosurePart(TitledEnum):
    final_assembly = "final_assembly"
    battery = "battery"
    display = "display"
    printed_circuit_board = "printed_circuit_board"
    semiconductor = "semiconductor"
    camera_module = "camera_module"
    casing = "casing"
    power_supply = "power_supply"
    cable = "cable"
    packaging = "packaging"
    other = "other"

    @staticmethod
    def __titles__() -> dict[DisclosurePart, str]:
        return {
            DisclosurePart.final_assembly: _l("Final assembly"),
            DisclosurePart.battery: _l("Battery"),
            DisclosurePart.display: _l("Display"),
            DisclosurePart.printed_circuit_board: _l("Printed circuit board"),
            DisclosurePart.semiconductor: _l("Semiconductors and memory"),
            DisclosurePart.camera_module: _l("Camera module"),
            DisclosurePart.casing: _l("Casing and mechanical parts"),
            DisclosurePart.power_supply: _l("Power supply and charger"),
            DisclosurePart.cable: _l("Cables and connectors"),
            DisclosurePart.packaging: _l("Packaging"),
            DisclosurePart.other: _l("Other part"),
        }


class DuplicateState(TitledEnum):
    proposed = "proposed"
    merged = "merged"
    dismissed = "dismissed"

    @staticmethod
    def __titles__() -> dict[DuplicateState, str]:
        return {
            DuplicateState.proposed: _l("Awaiting a decision"),
            DuplicateState.merged: _l("Merged"),
            DuplicateState.dismissed: _l("Not a duplicate"),
        }


# A search key holds at most this many characters (in PostgreSQL's index limit in any script).
SEARCH_KEY_LENGTH = 600


def search_key(name: str) -> str:
    """The key a name is searched by (:func:`monitoring.core.names.search_text`), cut to size."""
    return search_text(name)[:SEARCH_KEY_LENGTH]


def _default_search_key(context: Any) -> str:
    """A new row's key from its name (for rows inserted without one, e.g. by the imports)."""
    return search_key(context.get_current_parameters().get("name") or "")


class Site(Base):
    """A factory or workplace.

    A site merged into another keeps its row (``merged_into_id`` set) so that history and old
    links stay readable; lists skip merged sites.
    """

    __tablename__ = "site"
    __table_args__ = (
        CheckConstraint("length(country) = 2 AND country = upper(country)", name="country_iso_alpha2"),
        CheckConstraint("workers_approx IS NULL OR workers_approx >= 0", name="workers_not_negative"),
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"),
        CheckConstraint(
            "longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"
        ),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
        CheckConstraint("(merged_into_id IS NULL) = (merged_dt IS NULL)", name="merged_dt_if_merged"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_self"),
        Index("ix_site_country_kind", "country", "kind"),
        Index("ix_site_name", "name", "id"),  # the site list's order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(500), default="")
    city: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2))
    os_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    kind: Mapped[SiteKind] = mapped_column(enum_column(SiteKind, "kind"))
    workers_approx: Mapped[int | None] = mapped_column(Integer)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Normalised name + address + country (see ``monitoring.supplychain.matching``), for matching.
    match_key: Mapped[str] = mapped_column(String(900), index=True)
    # Normalised name + country alone, to propose likely duplicates with another address.
    name_key: Mapped[str] = mapped_column(String(400), index=True)
    # The name folded for search in any script; kept with the name by the operations and imports.
    search_key: Mapped[str] = mapped_column(
        String(SEARCH_KEY_LENGTH), index=True, default=_default_search_key
    )
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    merged_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    merged_into: Mapped[Site | None] = relationship(remote_side=[id])
    # Loaded when read: the lists that show them (sites, duplicates) load them for the whole page
    # in one query (supplychain.services), and every other page that loads a site pays nothing.
    alternative_names: Mapped[list[SiteName]] = relationship(
        back_populates="site",
        cascade="all, delete-orphan",
        order_by="SiteName.name, SiteName.id",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"<Site {self.id} {self.country} {self.name!r}>"


class SiteName(Base):
    """Another name of a site: in another script or language (the Chinese name of a Chinese
    factory), or a trading or former name. Workers and staff find the site by it."""

    __tablename__ = "site_name"
    __table_args__ = (UniqueConstraint("site_id", "search_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    search_key: Mapped[str] = mapped_column(
        String(SEARCH_KEY_LENGTH), index=True, default=_default_search_key
    )
    # The name as ``matching.normalise_name`` folds it (without the country, which is the
    # site's), to propose sites of the same name as likely duplicates.
    name_key: Mapped[str] = mapped_column(String(400), index=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    site: Mapped[Site] = relationship(back_populates="alternative_names")

    def __repr__(self) -> str:
        return f"<SiteName {self.id} of site {self.site_id} {self.name!r}>"


class SiteDuplicate(Base):
    """A pair of sites that look like the same place, for a coordinator to merge or dismiss."""

    __tablename__ = "site_duplicate"
    __table_args__ = (
        UniqueConstraint("site_id", "candidate_id"),
        CheckConstraint("site_id <> candidate_id", name="different_sites"),
        CheckConstraint("(state = 'proposed') = (decided_dt IS NULL)", name="decided_dt_if_decided"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The site that stays (``candidate`` is merged into it when confirmed).
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    state: Mapped[DuplicateState] = mapped_column(
        enum_column(DuplicateState, "state"), default=DuplicateState.proposed
    )
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    site: Mapped[Site] = relationship(foreign_keys=[site_id])
    candidate: Mapped[Site] = relationship(foreign_keys=[candidate_id])
    decided_by: Mapped[User | None] = relationship()


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("brand_key", "model_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200))
    # Case- and space-folded brand and model, so "HP  EliteBook" and "hp elitebook" are one product.
    brand_key: Mapped[str] = mapped_column(String(200))
    model_key: Mapped[str] = mapped_column(String(200))
    category: Mapped[ProductCategory] = mapped_column(enum_column(ProductCategory, "category"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.brand} {self.model}>"


class CurrencyRate(Base):
    """How many euros one unit of a currency is worth, to add up spend across contracts."""

    __tablename__ = "currency_rate"
    __table_args__ = (
        CheckConstraint("length(currency) = 3 AND currency = upper(currency)", name="currency_iso"),
        CheckConstraint("eur_per_unit > 0", name="rate_positive"),
    )

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    eur_per_unit: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Contract(Base):
    """A public buyer's contract with a supplier."""

    __tablename__ = "contract"
    __table_args__ = (
        UniqueConstraint("affiliate_id", "reference"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        CheckConstraint("annual_spend IS NULL OR annual_spend >= 0", name="spend_not_negative"),
        CheckConstraint("length(currency) = 3 AND currency = upper(currency)", name="currency_iso"),
        CheckConstraint("affiliate_id <> supplier_id", name="two_parties"),
        Index("ix_contract_start", "start_date", "id"),  # the contract list's order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    affiliate_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    reference: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    annual_spend: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    labour_conditions: Mapped[bool] = mapped_column(Boolean, default=True)
    # The supplier's last "still true" for its disclosure (see supplychain.obligations), and the
    # due dates whose overdue notice (to the supplier) and escalation (to the buyer) went out.
    disclosure_confirmed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disclosure_overdue_notified_for: Mapped[date | None] = mapped_column(Date)
    disclosure_escalated_for: Mapped[date | None] = mapped_column(Date)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    affiliate: Mapped[Organisation] = relationship(foreign_keys=[affiliate_id], lazy="joined")
    supplier: Mapped[Organisation] = relationship(foreign_keys=[supplier_id], lazy="joined")
    clauses: Mapped[list[ContractClause]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ContractClause.position"
    )
    products: Mapped[list[ContractProduct]] = relationship(
        back_populates="contract", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Contract {self.id} {self.reference!r}>"


class ContractClause(Base):
    """One labour-rights or circularity clause of a contract."""

    __tablename__ = "contract_clause"
    __table_args__ = (UniqueConstraint("contract_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ClauseKind] = mapped_column(enum_column(ClauseKind, "kind"))
    # Where the clause sits in the contract, e.g. "§ 12.3" or "Annex 4".
    reference: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text)

    contract: Mapped[Contract] = relationship(back_populates="clauses")


class ContractProduct(Base):
    """A product model covered by a contract."""

    __tablename__ = "contract_product"
    __table_args__ = (
        UniqueConstraint("contract_id", "product_id"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    quantity: Mapped[int | None] = mapped_column(Integer)
    added_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="products")
    product: Mapped[Product] = relationship(lazy="joined")


class Disclosure(Base):
    """A supplier's statement that a part of a product is made at a site, with provenance."""

    __tablename__ = "disclosure"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_to_after_from"),
        CheckConstraint(
            "(withdrawn_dt IS NULL) = (withdrawn_by_id IS NULL)", name="withdrawn_by_if_withdrawn"
        ),
        CheckConstraint(
            "supplies_site_id IS NULL OR supplies_site_id <> site_id", name="supplies_another_site"
        ),
        CheckConstraint(
            "value_share IS NULL OR (value_share > 0 AND value_share <= 100)", name="value_share_percent"
        ),
        CheckConstraint("units_per_product IS NULL OR units_per_product > 0", name="units_positive"),
        Index("ix_disclosure_site_product", "site_id", "product_id"),
        Index("ix_disclosure_disclosed", "disclosed_dt", "id"),  # the disclosure list's order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    part: Mapped[DisclosurePart] = mapped_column(enum_column(DisclosurePart, "part"))
    # The site the part goes to (a cell site delivering to a pack site), so that chains of
    # several tiers are held; None when the site makes the product itself or it is not known.
    supplies_site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    # Where known: the part's share of the product's value (percent) and how many go into one
    # product. Leverage per tier weighs a contract's spend by the share; unknown is never 100 %.
    value_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    units_per_product: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # Where the statement comes from: a document title, file name or address.
    source: Mapped[str] = mapped_column(String(500), default="")
    disclosed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disclosed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    supplier: Mapped[Organisation] = relationship(lazy="joined")
    product: Mapped[Product] = relationship(lazy="joined")
    site: Mapped[Site] = relationship(foreign_keys=[site_id], lazy="joined")
    supplies_site: Mapped[Site | None] = relationship(foreign_keys=[supplies_site_id])
    disclosed_by: Mapped[User] = relationship(foreign_keys=[disclosed_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])


class CountryRisk(Base):
    """A country's risk level (1 lowest to 5 highest) as the coordinators set it, with its source.

    No outside rating is built in: the operating organisation keeps this table and says where each
    level comes from. Every change is audited.
    """

    __tablename__ = "country_risk"
    __table_args__ = (
        CheckConstraint("length(country) = 2 AND country = upper(country)", name="country_iso_alpha2"),
        CheckConstraint("level >= 1 AND level <= 5", name="level_range"),
    )

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(500), default="")
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class SiteLeverage(Base):
    """One site's place in the stored leverage ranking (see ``supplychain.leverage``).

    The ranking of every linked site is computed by one statement over all current disclosures,
    too slow to run on each request at full size; it is stored here, whole, with
    :class:`LeverageSnapshot` saying when, and read a page at a time by (rank, site)."""

    __tablename__ = "site_leverage"
    __table_args__ = (Index("ix_site_leverage_rank", "rank", "site_id"),)

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    affiliates: Mapped[int] = mapped_column(Integer)
    contracts: Mapped[int] = mapped_column(Integer)
    spend_cents: Mapped[int] = mapped_column(BigInteger)
    unconverted: Mapped[int] = mapped_column(Integer)


class LeverageSnapshot(Base):
    """When the stored leverage ranking was computed, and for which day (one row, id 1).

    No row: there is no valid ranking stored (never computed, or a change to the contracts,
    disclosures, rates or sites made it out of date)."""

    __tablename__ = "leverage_snapshot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    computed_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_for: Mapped[date] = mapped_column(Date)


class BuyerSite(Base):
    """A site one buyer's contracts in force reach today (see ``supplychain.buyer_reach``).

    Walking up a buyer's chains from its products grows with the registry; the set is stored
    here per buyer, with :class:`BuyerSiteSnapshot` saying when and for which day, so that its
    case board and pages look a site up by key."""

    __tablename__ = "buyer_site"

    affiliate_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)


class BuyerSiteSnapshot(Base):
    """When a buyer's stored sites were computed, and for which day (one row a buyer).

    No row: the buyer has no valid set stored (never computed, or a change to the contracts,
    disclosures or sites made every stored set out of date)."""

    __tablename__ = "buyer_site_snapshot"

    affiliate_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    computed_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_for: Mapped[date] = mapped_column(Date)
