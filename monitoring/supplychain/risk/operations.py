"""Keeping the country risk table: coordinators set a level (1 to 5) and its source per country."""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.supplychain.matching import country_codes
from monitoring.supplychain.models import CountryRisk
from monitoring.supplychain.operations_sites import clean_text
from monitoring.supplychain.risk.permissions import can_set_country_risk

logger = logging.getLogger(__name__)

MIN_LEVEL, MAX_LEVEL = 1, 5


def set_country_risk(actor: User, country: str, level: int, source: str) -> CountryRisk:
    """Set (or change) a country's risk level with the source it comes from; audited."""
    if not can_set_country_risk(actor):
        raise OperationError(_l("Only coordinators keep the country risk table."))
    code = (country or "").strip().upper()
    if code not in country_codes():
        raise OperationError(_l("Choose a country."), field="country")
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise OperationError(_l("Give a level from 1 (lowest risk) to 5 (highest)."), field="level")
    note = clean_text(source)
    if not note:
        raise OperationError(_l("Say where this level comes from."), field="source")
    if len(note) > 500:
        raise OperationError(_l("The source may be at most 500 characters long."), field="source")
    risk = db.session.get(CountryRisk, code)
    before = {"level": risk.level, "source": risk.source} if risk is not None else None
    if risk is None:
        risk = CountryRisk(country=code)
        db.session.add(risk)
    risk.level, risk.source, risk.updated_by_id = level, note, actor.id
    db.session.flush()
    audit.record(
        "country_risk.set",
        f"Set the risk level of {code} to {level}",
        actor=actor,
        obj=risk,
        object_id=code,
        data={"country": code, "level": level, "source": note, "before": before},
    )
    logger.info("Country risk %s set to %s by user %s", code, level, actor.id)
    return risk
