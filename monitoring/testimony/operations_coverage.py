"""Operations on routing rows: which monitor organisation receives which country's reports.

Changes asked for by people wait for consent (:mod:`.routing`); these write the rows
themselves. They flush and audit, never commit.
"""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.accounts.models import Organisation, OrganisationKey, OrganisationKind, User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.supplychain.matching import is_country_code
from monitoring.testimony.models import MonitorCoverage

logger = logging.getLogger(__name__)


def is_country(code: str | None) -> bool:
    return bool(code) and is_country_code(code or "")


# --- which monitor organisation receives which country's reports ---------------------------


def set_coverage(actor: User | None, organisation: Organisation, country: str | None) -> MonitorCoverage:
    """Route a country's reports (None: the fallback for every other country) to an organisation."""
    if organisation.kind is not OrganisationKind.monitor or not organisation.is_active:
        raise OperationError(_l("Choose an active monitoring organisation."), "organisation")
    code = (country or "").strip().upper() or None
    if code is not None and not is_country(code):
        raise OperationError(_l("Choose a country from the list."), "country")
    condition = MonitorCoverage.is_fallback.is_(True) if code is None else MonitorCoverage.country == code
    coverage = db.session.scalar(select(MonitorCoverage).where(condition))
    old = coverage.organisation_id if coverage is not None else None
    if coverage is None:
        coverage = MonitorCoverage(country=code, is_fallback=code is None, organisation=organisation)
        db.session.add(coverage)
    coverage.organisation = organisation
    db.session.flush()
    audit.record(
        "coverage.set",
        f"Reports {'from countries nobody covers' if code is None else f'about {code}'} "
        f"go to {organisation.name}",
        actor=actor,
        obj=coverage,
        data={"country": code, "organisation_id": [old, organisation.id]},
    )
    return coverage


def remove_coverage(actor: User | None, coverage: MonitorCoverage) -> None:
    country, organisation_id = coverage.country, coverage.organisation_id
    coverage_id = coverage.id
    db.session.delete(coverage)
    db.session.flush()
    audit.record(
        "coverage.remove",
        f"Reports {'from countries nobody covers' if country is None else f'about {country}'} "
        "are no longer routed",
        actor=actor,
        object_type=MonitorCoverage.__tablename__,
        object_id=coverage_id,
        data={"country": country, "organisation_id": organisation_id},
    )


def organisations_with_key(organisation_ids: set[int]) -> set[int]:
    """Which of these organisations have a key in use, so reports can be sealed to them."""
    if not organisation_ids:
        return set()
    return set(
        db.session.scalars(
            select(OrganisationKey.organisation_id)
            .where(
                OrganisationKey.organisation_id.in_(organisation_ids), OrganisationKey.retired_dt.is_(None)
            )
            .distinct()
        )
    )


def coverage_rows() -> list[tuple[MonitorCoverage, bool]]:
    """Every routing row (by country, the fallback last) and whether its organisation has a key."""
    rows = list(
        db.session.scalars(
            select(MonitorCoverage).order_by(MonitorCoverage.is_fallback, MonitorCoverage.country)
        )
    )
    with_key = organisations_with_key({row.organisation_id for row in rows})
    return [(row, row.organisation_id in with_key) for row in rows]
