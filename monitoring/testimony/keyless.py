"""Routes to an organisation that cannot seal reports: found before a worker writes a word.

A country's reports (or every other country's, through the fallback) may go to a monitor
organisation that has no usable key: none was ever made, or every version is retired. A worker
from that country is told so at the workplace step, before the form, and where else to turn.
The coordinators and administrators are told once per country and organisation
(:class:`KeylessCoverageAlert`), when a worker meets the dead end or when ``flask jobs run``
sweeps the routes, and again only after the route was fixed and broke anew. The health page
(``/admin/coverage-health``) lists every such route. These flush, never commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from monitoring.accounts import keys
from monitoring.accounts.models import Organisation, User
from monitoring.core.db import db
from monitoring.core.roles import UserRole
from monitoring.core.types import utcnow
from monitoring.notifications.models import NotificationKind
from monitoring.notifications.outbox import notify
from monitoring.testimony.models import FALLBACK_SCOPE, KeylessCoverageAlert, MonitorCoverage
from monitoring.testimony.operations_coverage import coverage_rows

logger = logging.getLogger(__name__)


def can_seal_for(organisation: Organisation) -> bool:
    """The organisation is active and has a key version new reports can be sealed to."""
    return organisation.is_active and keys.current_organisation_key(organisation) is not None


@dataclass(frozen=True)
class KeylessRoute:
    """A route whose organisation cannot seal, and when the people in charge were told."""

    coverage: MonitorCoverage
    alerted_dt: datetime | None

    @property
    def country(self) -> str | None:
        return self.coverage.country

    @property
    def is_fallback(self) -> bool:
        return self.coverage.is_fallback

    @property
    def organisation(self) -> Organisation:
        return self.coverage.organisation

    def __getattr__(self, name: str) -> Any:
        return getattr(self.coverage, name)


def scope_of(coverage: MonitorCoverage) -> str:
    return coverage.country or FALLBACK_SCOPE


def keyless_routes() -> list[KeylessRoute]:
    """Every route whose organisation has no usable key (by country, the fallback last)."""
    rows = [row for row, has_key in coverage_rows() if not (has_key and row.organisation.is_active)]
    alerts = {
        (a.scope, a.organisation_id): a.raised_dt for a in db.session.scalars(select(KeylessCoverageAlert))
    }
    return [KeylessRoute(row, alerts.get((scope_of(row), row.organisation_id))) for row in rows]


def _people_in_charge() -> list[User]:
    """Active coordinators and administrators of active organisations."""
    return list(
        db.session.scalars(
            select(User)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(
                User.role.in_([UserRole.coordinator, UserRole.admin]),
                User.is_active.is_(True),
                Organisation.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )


def _raise_alert(scope: str, organisation_id: int) -> bool:
    """Record the alert unless it exists (a concurrent worker's request may record it too)."""
    db.session.flush()
    row = {"scope": scope, "organisation_id": organisation_id, "raised_dt": utcnow()}
    dialect = db.session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(KeylessCoverageAlert).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(KeylessCoverageAlert).on_conflict_do_nothing()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        stmt = insert(KeylessCoverageAlert)
    inserted = db.session.execute(stmt.values(**row).returning(KeylessCoverageAlert.id)).scalar_one_or_none()
    return inserted is not None


def warn(coverage: MonitorCoverage) -> int:
    """Tell the coordinators and administrators of a keyless route, once until it is fixed."""
    if not _raise_alert(scope_of(coverage), coverage.organisation_id):
        return 0
    params = {"country": coverage.country, "organisation": coverage.organisation.name}
    sent = notify(_people_in_charge(), NotificationKind.coverage_without_key, params=params)
    logger.warning(
        "reports about %s go to organisation %s, which cannot seal them",
        scope_of(coverage),
        coverage.organisation_id,
    )
    return len(sent)


def route_of(organisation: Organisation, country: str | None) -> MonitorCoverage | None:
    """The route that sends a country's reports to the organisation: its own, else the fallback."""
    own = (
        db.session.scalar(select(MonitorCoverage).where(MonitorCoverage.country == country.upper()))
        if country
        else None
    )
    route = own or db.session.scalar(select(MonitorCoverage).where(MonitorCoverage.is_fallback.is_(True)))
    return route if route is not None and route.organisation_id == organisation.id else None


def warn_dead_end(organisation: Organisation, country: str | None) -> int:
    """A worker from ``country`` met a route to ``organisation``, which cannot seal."""
    route = route_of(organisation, country)
    return warn(route) if route is not None else 0


def sweep() -> tuple[int, int]:
    """Warn of every keyless route; forget the alerts of routes fixed since. Returns (warned, cleared)."""
    broken = keyless_routes()
    warned = sum(1 for route in broken if warn(route.coverage))
    still = {(scope_of(route.coverage), route.coverage.organisation_id) for route in broken}
    fixed = [
        alert.id
        for alert in db.session.scalars(select(KeylessCoverageAlert))
        if (alert.scope, alert.organisation_id) not in still
    ]
    if fixed:
        db.session.execute(delete(KeylessCoverageAlert).where(KeylessCoverageAlert.id.in_(fixed)))
        db.session.flush()
    return warned, len(fixed)
