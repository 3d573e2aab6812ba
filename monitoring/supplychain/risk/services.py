"""A site's risk view, gathered from the registry and from the sources of the features above it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.supplychain import case_status, queries
from monitoring.supplychain.case_status import SiteCases
from monitoring.supplychain.models import CountryRisk, Product, Site
from monitoring.supplychain.permissions import affiliate_organisation, can_view_leverage, visible_products
from monitoring.supplychain.risk.permissions import ReportScope, report_scope

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeverityCount:
    """Findings of one severity at a site: ``severity`` is an enum member with a ``title``;
    ``rank`` 0 is the worst. Open: without a case, or with a case not closed."""

    severity: Any
    rank: int
    open: int
    closed: int


@dataclass(frozen=True)
class ReportCount:
    """Worker reports at a site: the count, or None with ``fewer_than`` when too small to show."""

    count: int | None
    fewer_than: int | None = None


@dataclass(frozen=True)
class ChainTier:
    """The tier a site holds in the chain of one product (1: it makes the product itself)."""

    product: Product
    tier: int


@dataclass
class SiteRisk:
    site: Site
    country_risk: CountryRisk | None
    tiers: list[ChainTier]
    cases: SiteCases
    findings: list[SeverityCount] = field(default_factory=list)
    worker_reports: ReportCount | None = None  # None: the user sees no count
    tier_leverage: list[queries.TierLeverage] | None = None  # None: the user sees no spend


FindingSource = Callable[[User, int, date], list[SeverityCount]]
ReportSource = Callable[[int, ReportScope], int]
_finding_sources: list[FindingSource] = []
_report_sources: list[ReportSource] = []


def register_finding_source(source: FindingSource) -> FindingSource:
    """Add a source of a site's findings by severity, as the user may see them (a decorator)."""
    if source not in _finding_sources:
        _finding_sources.append(source)
    return source


def register_report_source(source: ReportSource) -> ReportSource:
    """Add a source of how many worker reports a site has, within a scope (a decorator)."""
    if source not in _report_sources:
        _report_sources.append(source)
    return source


def chain_tiers(user: User, site: Site, today: date) -> list[ChainTier]:
    """The products the user may see whose chain the site is in today, with its tier in each."""
    reached = queries.reach(today, site.id)
    seen = visible_products(user).subquery()
    rows = db.session.execute(
        select(Product, reached.c.depth)
        .join(reached, reached.c.product_id == Product.id)
        .where(Product.id.in_(select(seen.c.id)))
        .order_by(reached.c.depth, Product.brand, Product.model, Product.id)
    ).all()
    return [ChainTier(product, int(depth) + 1) for product, depth in rows]


def _report_count(user: User, site_id: int) -> ReportCount | None:
    scope = report_scope(user)
    if scope is None or not _report_sources:
        return None
    count = sum(source(site_id, scope) for source in _report_sources)
    if 0 < count < scope.suppress_below:
        return ReportCount(None, scope.suppress_below)
    return ReportCount(count)


def site_risk(user: User, site: Site, today: date) -> SiteRisk:
    """The risk view of a site the user may open (see :func:`.permissions.risk_sites`)."""
    findings: dict[int, SeverityCount] = {}
    for source in _finding_sources:
        for row in source(user, site.id, today):
            held = findings.get(row.rank)
            if held is not None:
                row = SeverityCount(row.severity, row.rank, held.open + row.open, held.closed + row.closed)
            findings[row.rank] = row
    affiliate = affiliate_organisation(user)
    if can_view_leverage(user) or affiliate is not None:
        leverage = queries.tier_leverage(site.id, today, affiliate)
    else:
        leverage = None
    return SiteRisk(
        site=site,
        country_risk=db.session.get(CountryRisk, site.country),
        tiers=chain_tiers(user, site, today),
        cases=case_status.cases_at(user, {site.id}, today).get(site.id, SiteCases()),
        findings=[findings[rank] for rank in sorted(findings)],
        worker_reports=_report_count(user, site.id),
        tier_leverage=leverage,
    )


def country_risks() -> list[CountryRisk]:
    return list(db.session.scalars(select(CountryRisk).order_by(CountryRisk.country)))
