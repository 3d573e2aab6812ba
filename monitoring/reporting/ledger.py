"""The remedy ledger: what workers received, totalled in SQL over what the user may see.

A remedy counts when it was recorded at the closure of a case that is closed now (the closure not
reopened), or recorded on the case before it closed (an interim remedy). Rows are totalled by
kind, currency, buyer (affiliate whose contract reaches the site today), supplier (asked to act on
the case), country and year (of the closure, or of the interim record). A remedy at a site two
buyers reach appears under each of them; the grand totals count it once.

Amounts are converted to euros with the stored rates (``supplychain`` ``CurrencyRate``); an
amount in a currency without a rate keeps ``amount_eur = None`` and is listed apart in the
totals (``unconverted``), never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select

from monitoring.accounts.models import User
from monitoring.cases.models import Case, CaseClosure, CorrectiveAction, Remedy, RemedyKind
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.reporting.figures import Period
from monitoring.reporting.permissions import case_scope
from monitoring.reporting.suppression import Suppressed, shown_to
from monitoring.supplychain.models import CurrencyRate, Site
from monitoring.supplychain.permissions import affiliate_organisation, supplier_organisation
from monitoring.supplychain.queries import BASE_CURRENCY, links


@dataclass(frozen=True)
class LedgerRow:
    kind: RemedyKind
    currency: str | None
    buyer_id: int | None
    supplier_id: int | None
    country: str
    year: int
    remedies: int
    workers_covered: int | Suppressed
    amount: Decimal | Suppressed | None
    amount_eur: Decimal | Suppressed | None

    @property
    def suppressed(self) -> bool:
        return isinstance(self.workers_covered, Suppressed)


@dataclass(frozen=True)
class UnconvertedAmount:
    """The total in a currency that has no stored rate."""

    currency: str
    amount: Decimal | Suppressed
    remedies: int

    @property
    def suppressed(self) -> bool:
        return isinstance(self.amount, Suppressed)


@dataclass(frozen=True)
class Ledger:
    rows: list[LedgerRow]
    remedies: int = 0
    workers_covered: int | Suppressed = 0
    total_eur: Decimal | Suppressed = Decimal("0")
    unconverted: list[UnconvertedAmount] = field(default_factory=list)

    @property
    def suppressed(self) -> bool:
        return isinstance(self.workers_covered, Suppressed)


def counted_remedies(user: User, period: Period) -> Any:
    """Remedy ids that count, with their case, year and kind of record (a subquery)."""
    when = func.coalesce(CaseClosure.closed_dt, Remedy.recorded_dt)
    case_id = func.coalesce(CaseClosure.case_id, Remedy.case_id)
    closed = and_(CaseClosure.reopened_dt.is_(None), Case.closed_dt.is_not(None))
    return (
        select(
            Remedy.id.label("remedy_id"),
            Case.id.label("case_id"),
            Case.site_id.label("site_id"),
            func.extract("year", when).label("year"),
        )
        .outerjoin(CaseClosure, CaseClosure.id == Remedy.closure_id)
        .join(Case, Case.id == case_id)
        .where(or_(Remedy.case_id.is_not(None), closed), case_scope(user), period.clause(when))
        .subquery("counted")
    )


def eur_amount(amount: Any) -> Any:
    """An amount in euros: itself for euros, times the rate otherwise (NULL without a rate)."""
    return amount * case((Remedy.currency == BASE_CURRENCY, literal(1)), else_=CurrencyRate.eur_per_unit)


def _rows_query(user: User, period: Period) -> Select[Any]:
    counted = counted_remedies(user, period)
    # An affiliate's rows are its own, a supplier's those of its own contracts: whom else a site
    # concerns is the staff's to see.
    linked = links(
        utcnow().date(), affiliate_id=affiliate_organisation(user), supplier_id=supplier_organisation(user)
    )
    suppliers = select(CorrectiveAction.case_id, CorrectiveAction.supplier_id).distinct().subquery("sup")
    # One row per (remedy, buyer, supplier) first, so a remedy is not added twice to one group.
    pairs = (
        select(
            Remedy.id,
            Remedy.kind,
            Remedy.currency,
            Remedy.amount,
            Remedy.workers_covered,
            eur_amount(Remedy.amount).label("eur"),
            linked.c.affiliate_id.label("buyer_id"),
            suppliers.c.supplier_id,
            Site.country,
            counted.c.year,
        )
        .join(counted, counted.c.remedy_id == Remedy.id)
        .join(Site, Site.id == counted.c.site_id)
        .outerjoin(CurrencyRate, CurrencyRate.currency == Remedy.currency)
        .outerjoin(linked, linked.c.site_id == counted.c.site_id)
        .outerjoin(suppliers, suppliers.c.case_id == counted.c.case_id)
        .distinct()
        .subquery("pairs")
    )
    keys = (
        pairs.c.kind,
        pairs.c.currency,
        pairs.c.buyer_id,
        pairs.c.supplier_id,
        pairs.c.country,
        pairs.c.year,
    )
    return (
        select(
            *keys,
            func.count(pairs.c.id),
            func.coalesce(func.sum(pairs.c.workers_covered), 0),
            func.sum(pairs.c.amount),
            func.sum(pairs.c.eur),
        )
        .group_by(*keys)
        .order_by(pairs.c.year, pairs.c.country, pairs.c.kind, pairs.c.currency)
    )


def _totals(user: User, period: Period) -> tuple[int, int, Decimal, list[UnconvertedAmount]]:
    counted = counted_remedies(user, period)
    base = (
        select(Remedy)
        .join(counted, counted.c.remedy_id == Remedy.id)
        .outerjoin(CurrencyRate, CurrencyRate.currency == Remedy.currency)
    )
    remedies, workers, eur = db.session.execute(
        base.with_only_columns(
            func.count(Remedy.id),
            func.coalesce(func.sum(Remedy.workers_covered), 0),
            func.coalesce(func.sum(eur_amount(Remedy.amount)), 0),
        )
    ).one()
    missing = and_(
        Remedy.amount.is_not(None), Remedy.currency != BASE_CURRENCY, CurrencyRate.currency.is_(None)
    )
    unconverted = [
        UnconvertedAmount(str(currency), _money(amount), int(count))
        for currency, amount, count in db.session.execute(
            base.with_only_columns(Remedy.currency, func.sum(Remedy.amount), func.count(Remedy.id))
            .where(missing)
            .group_by(Remedy.currency)
            .order_by(Remedy.currency)
        )
    ]
    return int(remedies), int(workers), _money(eur), unconverted


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _maybe_money(value: Any) -> Decimal | None:
    return None if value is None else _money(value)


def remedy_ledger(user: User, period: Period | None = None) -> Ledger:
    """The ledger over the remedies the user may see, unsuppressed (three queries)."""
    period = period or Period()
    rows = [
        LedgerRow(
            kind=kind if isinstance(kind, RemedyKind) else RemedyKind(kind),
            currency=currency,
            buyer_id=buyer_id,
            supplier_id=supplier_id,
            country=country,
            year=int(year),
            remedies=int(count),
            workers_covered=int(workers),
            amount=_maybe_money(amount),
            amount_eur=_maybe_money(eur),
        )
        for kind, currency, buyer_id, supplier_id, country, year, count, workers, amount, eur in (
            db.session.execute(_rows_query(user, period))
        )
    ]
    remedies, workers, total_eur, unconverted = _totals(user, period)
    return Ledger(rows, remedies, workers, total_eur, unconverted)


def _row_for(user: User, row: LedgerRow) -> LedgerRow:
    workers = row.workers_covered if isinstance(row.workers_covered, int) else None
    if shown_to(user, True, workers=workers) is True:
        return row
    hidden = shown_to(user, None, workers=workers)
    assert isinstance(hidden, Suppressed)
    return replace(row, workers_covered=hidden, amount=hidden, amount_eur=hidden)


def ledger_for(user: User, ledger: Ledger) -> Ledger:
    """The ledger as ``user`` may see it: under 5 workers suppressed for buyers and suppliers."""
    rows = [_row_for(user, row) for row in ledger.rows]
    workers = ledger.workers_covered if isinstance(ledger.workers_covered, int) else 0
    return Ledger(
        rows,
        ledger.remedies,
        shown_to(user, workers, workers=workers),
        _suppress_money(user, ledger.total_eur, workers),
        [replace(u, amount=_suppress_money(user, u.amount, workers)) for u in ledger.unconverted],
    )


def _suppress_money(user: User, amount: Decimal | Suppressed, workers: int) -> Decimal | Suppressed:
    return shown_to(user, amount, workers=workers) if isinstance(amount, Decimal) else amount


def totals_by(rows: Iterable[LedgerRow], attribute: str) -> dict[Any, int]:
    """Remedies per value of one column of the ledger (for the dashboard's chart)."""
    result: dict[Any, int] = {}
    for row in rows:
        key = getattr(row, attribute)
        result[key] = result.get(key, 0) + row.remedies
    return result
