"""Who may read and record factory access.

Monitors record their organisation's requests and visits and read them; coordinators read every
organisation's. Nobody else sees access records (404).
"""

from __future__ import annotations

from sqlalchemy import Select, false, select

from monitoring.accounts.models import User
from monitoring.cases.models import SiteAccess
from monitoring.core.roles import UserRole, is_coordinator, is_monitor

# Who may open a site's access records.
READER_ROLES = (UserRole.coordinator, UserRole.monitor)
# Who may record one.
RECORDER_ROLES = (UserRole.monitor,)


def can_record_access(user: User) -> bool:
    """A monitor (for their own organisation)."""
    return is_monitor(user)


def can_read_access(user: User) -> bool:
    return is_monitor(user) or is_coordinator(user)


def visible_access(user: User) -> Select[SiteAccess]:
    """Every record for coordinators, their organisation's for monitors, none for others."""
    query = select(SiteAccess)
    if is_coordinator(user):
        return query
    if is_monitor(user):
        return query.where(SiteAccess.organisation_id == user.organisation_id)
    return query.where(false())
