"""What a site's links derive, computed by the database, and how sites are searched by name.

A site concerns an affiliate when one of the affiliate's contracts in force today covers a
product that a current disclosure (valid today, not withdrawn, by any supplier) places at the
site, or at a site downstream of it: a disclosure may name the site its part goes to
(``supplies_site_id``), and a site is linked to every product made, at any tier downstream, from
what it supplies (:func:`reach`, a recursive query bounded to :data:`MAX_TIERS` and so safe
against cycles). The *collective leverage* of a site is the number of distinct affiliates it concerns and
their total annual spend in euros: each contract's spend counts once per site however many
products and disclosures link it, and contracts whose currency has no rate are counted apart
instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Integer,
    Numeric,
    Select,
    Subquery,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from monitoring.accounts.models import Organisation
from monitoring.core.db import db
from monitoring.supplychain.models import (
    Contract,
    ContractProduct,
    CurrencyRate,
    Disclosure,
    DisclosurePart,
    Product,
    Site,
    SiteName,
    search_key,
)
from monitoring.supplychain.permissions import contract_in_force, disclosure_is_current

BASE_CURRENCY = "EUR"
# How many steps a chain is followed downstream (a site that supplies the final assembly site
# directly is one step away); a cycle in the disclosures ends there too.
MAX_TIERS = 6


@dataclass(frozen=True)
class Leverage:
    affiliates: int
    contracts: int
    spend_cents: int  # in euro cents
    unconverted_contracts: int  # contracts with a spend in a currency that has no rate

    @property
    def spend_eur(self) -> Decimal:
        return Decimal(self.spend_cents).scaleb(-2)


NO_LEVERAGE = Leverage(0, 0, 0, 0)


@dataclass(frozen=True)
class RankedSite:
    site: Site
    rank: int
    leverage: Leverage
    as_of: datetime | None = None  # when the stored ranking was computed (None: just now)


@dataclass(frozen=True)
class ConcernedAffiliate:
    organisation: Organisation
    leverage: Leverage  # its own contracts, spend and unconverted contracts (affiliates = 1)


@dataclass(frozen=True)
class ConcernedSupplier:
    organisation: Organisation
    disclosed: bool  # it states that a product is made at the site
    contracted: bool  # it is the supplier of a contract in force that reaches the site


@dataclass(frozen=True)
class UnconvertedSpend:
    currency: str
    annual_spend: Decimal
    contracts: int


# A search looks for at most this many words.
MAX_SEARCH_WORDS = 5


def site_search(text: str, *columns: Any) -> ColumnElement[bool] | None:
    """Sites whose name or one of whose alternative names holds each word of ``text``, in any
    script, or whose ``columns`` (an address, a city) hold it as typed; None for no words.

    Names are compared by their search keys (:func:`monitoring.supplychain.models.search_key`):
    a ``LIKE`` on a column folded when it was written, so SQLite and PostgreSQL agree on case
    in every script and no row is folded while searching.
    """
    conditions = []
    for word in text.split()[:MAX_SEARCH_WORDS]:
        key = search_key(word)
        matches = [column.icontains(word, autoescape=True) for column in columns]
        if key:
            other_name = exists().where(
                SiteName.site_id == Site.id, SiteName.search_key.contains(key, autoescape=True)
            )
            matches = [Site.search_key.contains(key, autoescape=True), other_name, *matches]
        if matches:
            conditions.append(or_(*matches))
    return and_(*conditions) if conditions else None


@lru_cache(maxsize=256)
def reach(today: date, site_id: int | None = None) -> Subquery:
    """Each (site, product) pair linked today, with ``depth``: 0 when a current disclosure places
    the product at the site itself, n when the site supplies (through n current disclosures naming
    the site their part goes to) a site where the product is made; the smallest depth of each pair.

    Only the sites upstream of ``site_id``'s own when given. The recursion stops at
    :data:`MAX_TIERS` steps, so a cycle in the disclosures ends; UNION keeps each step's rows once.

    Built once per day and site (a statement is immutable, so several can share it): building
    the recursive statement cost more than running it, several times a page.
    """
    pairs = _pairs(today, site_id, with_share=False)
    return (
        select(pairs.c.site_id, pairs.c.product_id, func.min(pairs.c.depth).label("depth"))
        .group_by(pairs.c.site_id, pairs.c.product_id)
        .subquery("reach")
    )


@lru_cache(maxsize=256)
def _pairs(today: date, site_id: int | None, *, with_share: bool) -> Subquery:
    """(site, product, depth[, share]) for every path of :func:`reach`.

    With ``with_share`` each path carries its value share: the product of the shares (percent)
    of the disclosures along it, NULL when one is unknown; a final assembly at the chain's end
    counts as the whole product (:func:`_end_share`), but a site's own final assembly of unknown
    share stays unknown. Only for one site: paths,
    unlike pairs, may be many.
    """

    def valid(disclosure: Any) -> ColumnElement[bool]:
        return _current(disclosure, today)

    def share(column: Any) -> Any:
        return cast(column, Numeric).label("share")

    columns: list[Any] = [
        Disclosure.site_id.label("origin_id"),
        Disclosure.supplies_site_id.label("site_id"),
        literal_column("1", Integer).label("depth"),
    ]
    edge = select(*columns, *([share(Disclosure.value_share)] if with_share else []))
    edge = edge.where(Disclosure.supplies_site_id.is_not(None), valid(Disclosure)).distinct()
    if site_id is not None:
        edge = edge.where(Disclosure.site_id == site_id)
    downstream = edge.cte(recursive=True)  # anonymous: a statement may hold several
    before = downstream.alias()
    step = aliased(Disclosure, name="step")
    carried = [share(before.c.share * step.value_share / 100)] if with_share else []
    downstream = downstream.union(
        select(before.c.origin_id, step.supplies_site_id, before.c.depth + 1, *carried)
        .join(step, step.site_id == before.c.site_id)
        .where(
            step.supplies_site_id.is_not(None),
            step.supplies_site_id != before.c.origin_id,
            before.c.depth < MAX_TIERS,
            valid(step),
        )
    )
    depth0 = literal_column("0", Integer).label("depth")
    direct = select(
        Disclosure.site_id,
        Disclosure.product_id,
        depth0,
        *([share(Disclosure.value_share)] if with_share else []),
    ).where(valid(Disclosure))
    if site_id is not None:
        direct = direct.where(Disclosure.site_id == site_id)
    made = aliased(Disclosure, name="made")
    chained = (
        select(
            downstream.c.origin_id,
            made.product_id,
            downstream.c.depth,
            *([share(downstream.c.share * _end_share(made) / 100)] if with_share else []),
        )
        .join(made, made.site_id == downstream.c.site_id)
        .where(valid(made))
    )
    return union_all(direct, chained).subquery("pairs")


def _current(disclosure: Any, today: date) -> ColumnElement[bool]:
    """The disclosure holds today: in its validity dates and not withdrawn."""
    return and_(
        disclosure.valid_from <= today,
        or_(disclosure.valid_to.is_(None), disclosure.valid_to >= today),
        disclosure.withdrawn_dt.is_(None),
    )


def buyer_sites(today: date, affiliate_id: int) -> Select[Any]:
    """The ids of the sites linked today to one buyer's contracts in force, as :func:`links`
    links them: :func:`walk_up`, stored per buyer (``supplychain.buyer_reach``)."""
    from monitoring.supplychain import buyer_reach  # the store builds on this module

    return buyer_reach.buyer_sites(today, affiliate_id)


@lru_cache(maxsize=256)
def walk_up(today: date, affiliate_id: int) -> Select[Any]:
    """The ids of the sites linked today to one buyer's contracts in force, as :func:`links`
    links them, computed now: the sites placing one of its products, and the sites upstream of
    those through current disclosures naming the site their part goes to, up to
    :data:`MAX_TIERS` steps (a site may come more than once).

    Walked up from the buyer's own products, so that its cost follows the buyer's chains rather
    than every disclosure in the registry (:func:`reach` walks down from every site). UNION
    keeps each (site, depth) once, so a cycle ends at the bound.
    """
    products = (
        select(ContractProduct.product_id)
        .join(Contract, Contract.id == ContractProduct.contract_id)
        .where(Contract.affiliate_id == affiliate_id, contract_in_force(today))
    )
    placed = select(Disclosure.site_id.label("site_id"), literal_column("0", Integer).label("depth")).where(
        _current(Disclosure, today), Disclosure.product_id.in_(products)
    )
    upstream = placed.cte(recursive=True)  # anonymous: a statement may hold several
    before = upstream.alias()
    step = aliased(Disclosure, name="upstream_step")
    upstream = upstream.union(
        select(step.site_id, before.c.depth + 1)
        .join(step, step.supplies_site_id == before.c.site_id)
        .where(before.c.depth < MAX_TIERS, _current(step, today))
    )
    return select(upstream.c.site_id)


def _end_share(made: Any) -> Any:
    """What the disclosure at a chain's end weighs: its share where known; for a final assembly
    of unknown share the whole product (what arrives there goes into the product itself)."""
    return case(
        (made.part == DisclosurePart.final_assembly, func.coalesce(made.value_share, 100)),
        else_=made.value_share,
    )


@dataclass(frozen=True)
class TierLeverage:
    """The contracts reaching a site at one tier (1: the site makes the product itself) and their
    spend weighed by the site's value share; contracts of unknown share are counted apart."""

    tier: int
    contracts: int
    spend_cents: int  # each contract's euro spend in full, as in Leverage
    weighted_cents: int  # each contract's euro spend times the share, for the contracts of known share
    unknown_share: int  # contracts whose share is not known (never counted as 100 %)
    unconverted_contracts: int

    @property
    def spend_eur(self) -> Decimal:
        return Decimal(self.spend_cents).scaleb(-2)

    @property
    def weighted_eur(self) -> Decimal:
        return Decimal(self.weighted_cents).scaleb(-2)


def tier_leverage(site_id: int, today: date, affiliate_id: int | None = None) -> list[TierLeverage]:
    """A site's leverage per tier: each contract in force reaching it counts once, at its nearest
    tier, weighed by the largest known share over the paths of that tier (only one buyer's
    contracts with ``affiliate_id``)."""
    pairs = _pairs(today, site_id, with_share=True)
    own = Contract.affiliate_id == affiliate_id if affiliate_id is not None else true()
    rows = db.session.execute(
        select(
            Contract.id,
            pairs.c.depth,
            pairs.c.share,
            Contract.annual_spend,
            Contract.currency,
            CurrencyRate.eur_per_unit,
        )
        .select_from(pairs)
        .join(ContractProduct, ContractProduct.product_id == pairs.c.product_id)
        .join(Contract, Contract.id == ContractProduct.contract_id)
        .outerjoin(CurrencyRate, CurrencyRate.currency == Contract.currency)
        .where(contract_in_force(today), own)
    ).all()
    nearest: dict[int, tuple[int, Decimal | None, Decimal | None, bool]] = {}
    for contract_id, depth, share, spend, currency, rate in rows:
        eur = (
            None if spend is None else spend if currency == BASE_CURRENCY else spend * rate if rate else None
        )
        unconverted = spend is not None and eur is None
        known = Decimal(str(share)) if share is not None else None
        held = nearest.get(contract_id)
        if (
            held is None
            or depth < held[0]
            or (depth == held[0] and known is not None and (held[1] is None or known > held[1]))
        ):
            nearest[contract_id] = (depth, known, eur, unconverted)
    tiers: dict[int, list[int]] = {}
    for depth, known, eur, unconverted in nearest.values():
        row = tiers.setdefault(depth, [0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += round((eur or 0) * 100)
        if known is None:
            row[3] += 1
        else:
            row[2] += round((eur or 0) * known)  # euros times percent is cents
        row[4] += int(unconverted)
    return [TierLeverage(depth + 1, *tiers[depth]) for depth in sorted(tiers)]


def links(
    today: date, site_id: int | None = None, affiliate_id: int | None = None, supplier_id: int | None = None
) -> Subquery:
    """Each (site, contract) pair linked today, once, with the contract's parties and spend
    (only one buyer's or one supplier's contracts when ``affiliate_id`` or ``supplier_id``)."""
    reached = reach(today, site_id)
    query = (
        select(
            reached.c.site_id,
            Contract.id.label("contract_id"),
            Contract.affiliate_id,
            Contract.supplier_id,
            Contract.annual_spend,
            Contract.currency,
        )
        .select_from(reached)
        .join(ContractProduct, ContractProduct.product_id == reached.c.product_id)
        .join(Contract, Contract.id == ContractProduct.contract_id)
        .where(contract_in_force(today))
        .distinct()
    )
    if affiliate_id is not None:
        query = query.where(Contract.affiliate_id == affiliate_id)
    if supplier_id is not None:
        query = query.where(Contract.supplier_id == supplier_id)
    return query.subquery("links")


def _spend_columns(linked: Subquery) -> list[Any]:
    """Contracts, spend in euro cents and unconverted contracts of the grouped links.

    The query must outer-join ``CurrencyRate`` on the link's currency.
    """
    eur = case(
        (linked.c.currency == BASE_CURRENCY, linked.c.annual_spend),
        else_=linked.c.annual_spend * CurrencyRate.eur_per_unit,
    )
    unconverted = and_(
        linked.c.annual_spend.is_not(None),
        linked.c.currency != BASE_CURRENCY,
        CurrencyRate.currency.is_(None),
    )
    return [
        func.count(linked.c.contract_id).label("contracts"),
        cast(func.round(func.coalesce(func.sum(eur), 0) * 100), BigInteger).label("spend_cents"),
        func.coalesce(func.sum(case((unconverted, 1), else_=0)), 0).label("unconverted"),
    ]


def leverage_by_site(today: date) -> Subquery:
    """One row per linked site: affiliates, contracts, spend_cents, unconverted."""
    linked = links(today)
    return (
        select(
            linked.c.site_id,
            func.count(distinct(linked.c.affiliate_id)).label("affiliates"),
            *_spend_columns(linked),
        )
        .select_from(linked)
        .outerjoin(CurrencyRate, CurrencyRate.currency == linked.c.currency)
        .group_by(linked.c.site_id)
        .subquery("leverage")
    )


def ranking_rows(today: date) -> Select[Any]:
    """Every live linked site with its rank by leverage (affiliates, then euro spend, descending;
    equal for ties): site_id, affiliates, contracts, spend_cents, unconverted, rank."""
    lev = leverage_by_site(today)
    order = (lev.c.affiliates.desc(), lev.c.spend_cents.desc())
    return (
        select(*lev.c, func.rank().over(order_by=order).label("rank"))
        .join(Site, Site.id == lev.c.site_id)
        .where(Site.merged_into_id.is_(None))
    )


def leverage_ranking(today: date) -> tuple[Select[Any], list[Any]]:
    """Sites by leverage (affiliates, then euro spend, descending) with their rank (equal for
    ties), and the keyset to page it by, computed now (``supplychain.leverage`` stores it)."""
    ranking = ranking_rows(today).subquery("ranking")
    query = select(
        Site,
        ranking.c.rank,
        ranking.c.affiliates,
        ranking.c.contracts,
        ranking.c.spend_cents,
        ranking.c.unconverted,
    ).join(ranking, ranking.c.site_id == Site.id)
    return query, [ranking.c.rank, Site.id]


def ranked(rows: Sequence[Any], as_of: datetime | None = None) -> list[RankedSite]:
    """Turn rows of :func:`leverage_ranking` into RankedSite objects."""
    return [
        RankedSite(site, int(rank), Leverage(int(a), int(c), int(s), int(u)), as_of)
        for site, rank, a, c, s, u in rows
    ]


def site_leverage(site_id: int, today: date) -> Leverage:
    linked = links(today, site_id=site_id)
    row = db.session.execute(
        select(func.count(distinct(linked.c.affiliate_id)), *_spend_columns(linked))
        .select_from(linked)
        .outerjoin(CurrencyRate, CurrencyRate.currency == linked.c.currency)
    ).one()
    return Leverage(*(int(value or 0) for value in row))


def concerned_affiliates(
    site_id: int, today: date, affiliate_id: int | None = None
) -> list[ConcernedAffiliate]:
    """The affiliates a site concerns, largest euro spend first (or only the one given)."""
    linked = links(today, site_id=site_id, affiliate_id=affiliate_id)
    columns = _spend_columns(linked)
    rows = db.session.execute(
        select(Organisation, *columns)
        .join(linked, linked.c.affiliate_id == Organisation.id)
        .outerjoin(CurrencyRate, CurrencyRate.currency == linked.c.currency)
        .group_by(Organisation.id)
        .order_by(columns[1].desc(), Organisation.name, Organisation.id)
    ).all()
    return [ConcernedAffiliate(org, Leverage(1, int(c), int(s), int(u))) for org, c, s, u in rows]


def other_affiliates(site_id: int, today: date, affiliate_id: int) -> int:
    """How many affiliates other than the given one a site concerns (their names stay hidden)."""
    linked = links(today, site_id=site_id)
    return (
        db.session.scalar(
            select(func.count(distinct(linked.c.affiliate_id))).where(linked.c.affiliate_id != affiliate_id)
        )
        or 0
    )


def concerned_suppliers(
    site_id: int, today: date, affiliate_id: int | None = None
) -> list[ConcernedSupplier]:
    """Suppliers that disclose a current product at the site or supply a contract reaching it.

    With ``affiliate_id``, only those an affiliate may know of: the suppliers of its own
    contracts that reach the site, and those disclosing the products its contracts cover.
    """
    contracted = select(links(today, site_id=site_id, affiliate_id=affiliate_id).c.supplier_id)
    disclosed = select(Disclosure.supplier_id).where(
        Disclosure.site_id == site_id, disclosure_is_current(today)
    )
    if affiliate_id is not None:
        covered = select(ContractProduct.product_id).join(Contract)
        covered = covered.where(Contract.affiliate_id == affiliate_id)
        disclosed = disclosed.where(Disclosure.product_id.in_(covered))
    is_disclosing = Organisation.id.in_(disclosed)
    is_contracted = Organisation.id.in_(contracted)
    rows = db.session.execute(
        select(Organisation, type_coerce(is_disclosing, Boolean), type_coerce(is_contracted, Boolean))
        .where(is_disclosing | is_contracted)
        .order_by(Organisation.name, Organisation.id)
    ).all()
    return [ConcernedSupplier(org, bool(d), bool(c)) for org, d, c in rows]


def unconverted_spend(site_id: int, today: date) -> list[UnconvertedSpend]:
    """The spend of contracts reaching a site whose currency has no rate, per currency."""
    linked = links(today, site_id=site_id)
    rows = db.session.execute(
        select(linked.c.currency, func.sum(linked.c.annual_spend), func.count(linked.c.contract_id))
        .select_from(linked)
        .outerjoin(CurrencyRate, CurrencyRate.currency == linked.c.currency)
        .where(
            linked.c.annual_spend.is_not(None),
            linked.c.currency != BASE_CURRENCY,
            CurrencyRate.currency.is_(None),
        )
        .group_by(linked.c.currency)
        .order_by(linked.c.currency)
    ).all()
    return [UnconvertedSpend(currency, Decimal(total), int(n)) for currency, total, n in rows]


def contracts_reaching_site(site_id: int, today: date, affiliate_id: int) -> list[tuple[Contract, Product]]:
    """An affiliate's contracts in force that cover a product currently made at the site, or
    downstream of it."""
    reached = reach(today, site_id)
    made_here = ContractProduct.product_id.in_(select(reached.c.product_id))
    rows = db.session.execute(
        select(Contract, Product)
        .join(ContractProduct, ContractProduct.contract_id == Contract.id)
        .join(Product, Product.id == ContractProduct.product_id)
        .where(Contract.affiliate_id == affiliate_id, contract_in_force(today), made_here)
        .order_by(Contract.reference, Product.brand, Product.model, Product.id)
    ).all()
    return [(contract, product) for contract, product in rows]
