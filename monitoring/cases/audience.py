"""Who is told about a change on a case: the readers of its visibility, as active users.

``internal``: the active monitors of the case's organisation and the lead coordinator (every
coordinator when the case has no active lead). ``buyers`` adds the users of every affiliate
whose contracts reach the site today; ``parties`` adds the users of the supplier organisation
addressed.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, or_, select

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.cases.models import Case, Visibility
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.supplychain.queries import links


def _active() -> list:
    return [User.is_active.is_(True), Organisation.is_active.is_(True)]


def coordinators_of(case: Case) -> list[User]:
    """The case's active lead coordinator, or every active coordinator when there is none."""
    lead = case.lead_coordinator
    if lead is not None and lead.is_active and lead.organisation.is_active:
        return [lead]
    return list(
        db.session.scalars(
            select(User)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(User.role == UserRole.coordinator, *_active())
            .order_by(User.id)
        )
    )


def case_audience(
    case: Case,
    visibility: Visibility | str,
    supplier_id: int | None = None,
    exclude: User | None = None,
    today: date | None = None,
) -> list[User]:
    """Every active user who reads something of this visibility on the case (but ``exclude``)."""
    visibility = Visibility(visibility)
    today = today or utcnow().date()
    readers = [and_(User.role == UserRole.monitor, User.organisation_id == case.monitor_organisation_id)]
    if visibility in (Visibility.buyers, Visibility.parties):
        affiliates = select(links(today, site_id=case.site_id).c.affiliate_id)
        readers.append(and_(User.role == UserRole.affiliate, User.organisation_id.in_(affiliates)))
    if visibility is Visibility.parties and supplier_id is not None:
        readers.append(and_(User.role == UserRole.supplier, User.organisation_id == supplier_id))
    users = list(
        db.session.scalars(
            select(User)
            .join(Organisation, Organisation.id == User.organisation_id)
            .where(or_(*readers), *_active())
            .order_by(User.id)
        )
    )
    users = coordinators_of(case) + users
    excluded = exclude.id if exclude is not None else None
    return [user for user in users if user.id != excluded]
