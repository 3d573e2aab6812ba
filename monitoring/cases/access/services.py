"""What the access pages and API read: a site's records and the suppliers one may name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monitoring.accounts.models import Organisation, OrganisationKind, User
from monitoring.cases.access.permissions import can_read_access, visible_access
from monitoring.cases.models import SiteAccess
from monitoring.core.db import db
from monitoring.supplychain.models import Site
from monitoring.supplychain.permissions import visible_sites
from monitoring.supplychain.services import load, require


def load_site(user: User, site_id: int) -> Site:
    """The site, for someone who may read access records (missing or not allowed: 404)."""
    require(can_read_access(user))
    return load(visible_sites(user), Site.id == site_id)


def site_access(user: User, site: Site) -> list[SiteAccess]:
    """The site's access records the user may see, the latest first."""
    query = (
        visible_access(user)
        .where(SiteAccess.site_id == site.id)
        .options(selectinload(SiteAccess.organisation), selectinload(SiteAccess.finding))
        .order_by(SiteAccess.access_date.desc(), SiteAccess.id.desc())
    )
    return list(db.session.scalars(query))


def supplier_choices() -> list[Organisation]:
    """The active supplier organisations, by name."""
    query = (
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.supplier, Organisation.is_active.is_(True))
        .order_by(Organisation.name)
    )
    return list(db.session.scalars(query))
