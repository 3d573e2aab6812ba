"""Who sees a site's risk view and its parts, and who keeps the country risk table.

Coordinators and monitors see every site's risk view. A buyer (affiliate) sees it for the sites
in its chains: those a contract of its own in force reaches today, at any tier. A supplier sees
it for the sites it disclosed. Everyone else gets 404. Worker reports are shown as counts only:
exact to coordinators (every report) and monitors (their organisation's), to buyers with counts
under five shown as "fewer than 5", and not at all to suppliers (a count of complaints at a
supplier's own site could point at the workers who made them). Coordinators set the country
risk levels; every working role reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, false, select

from monitoring.accounts.models import User
from monitoring.core.roles import (
    WORKING_ROLES,
    UserRole,
    is_affiliate,
    is_coordinator,
    is_monitor,
    is_staff,
    is_supplier,
)
from monitoring.supplychain.models import Disclosure, Site
from monitoring.supplychain.queries import links

RISK_ROLES = WORKING_ROLES
COUNTRY_RISK_EDITORS = (UserRole.coordinator,)
# Below this many, a buyer sees "fewer than 5" instead of a count of worker reports.
MIN_SHOWN_REPORTS = 5


def risk_sites(user: User, today: date) -> Select[Site]:
    """The sites whose risk view the user may open (merged sites only for staff)."""
    query = select(Site)
    if is_staff(user):
        return query
    if is_affiliate(user) and user.organisation_id is not None:
        chain = select(links(today, affiliate_id=user.organisation_id).c.site_id)
        return query.where(Site.merged_into_id.is_(None), Site.id.in_(chain))
    if is_supplier(user) and user.organisation_id is not None:
        disclosed = select(Disclosure.site_id).where(Disclosure.supplier_id == user.organisation_id)
        return query.where(Site.merged_into_id.is_(None), Site.id.in_(disclosed))
    return query.where(false())


@dataclass(frozen=True)
class ReportScope:
    """Which worker reports a user's count covers: every organisation's (``organisation_id``
    None) or one monitor organisation's; ``suppress_below`` hides small counts."""

    organisation_id: int | None
    suppress_below: int = 0


def report_scope(user: User) -> ReportScope | None:
    """The worker reports a user may count at a site; None when the user sees no count."""
    if is_coordinator(user):
        return ReportScope(None)
    if is_monitor(user) and user.organisation_id is not None:
        return ReportScope(user.organisation_id)
    if is_affiliate(user):
        return ReportScope(None, MIN_SHOWN_REPORTS)
    return None


def can_set_country_risk(user: User) -> bool:
    return is_coordinator(user)
