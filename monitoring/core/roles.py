"""The roles a user may hold, and the one set of role predicates every feature uses.

A role counts only for a member in good standing: an active account, in an active
organisation, whose membership its colleagues have approved (``membership_pending`` is set
for a new monitor until a member of their organisation approves them). Features decide what
each role may do in their own ``permissions`` module, from these predicates; nothing else
tests a role (``make lint`` checks that).
"""

from __future__ import annotations

from typing import Any, Protocol

from flask_babel import lazy_gettext as _l

from monitoring.core.types import TitledEnum


class UserRole(TitledEnum):
    admin = "admin"
    coordinator = "coordinator"
    monitor = "monitor"
    affiliate = "affiliate"
    supplier = "supplier"

    @staticmethod
    def __titles__() -> dict[UserRole, str]:
        return {
            UserRole.admin: _l("Administrator"),
            UserRole.coordinator: _l("Coordinator"),
            UserRole.monitor: _l("Monitor"),
            UserRole.affiliate: _l("Affiliate (public buyer)"),
            UserRole.supplier: _l("Supplier"),
        }


# Everyone who works with cases and the registry; administrators manage accounts only.
WORKING_ROLES = (UserRole.coordinator, UserRole.monitor, UserRole.affiliate, UserRole.supplier)
# Coordinators and monitors: the network's staff.
STAFF_ROLES = (UserRole.coordinator, UserRole.monitor)


class Member(Protocol):
    """What the predicates read of a user (``accounts.models.User`` or the anonymous user)."""

    @property
    def is_authenticated(self) -> bool: ...


def role_of(user: Member) -> UserRole | None:
    """The user's role if they are a member in good standing, else None."""
    if not getattr(user, "is_authenticated", False):
        return None
    account: Any = user
    if not account.is_active or not account.organisation.is_active:
        return None
    if getattr(account, "membership_pending", False):
        return None
    role: UserRole = account.role
    return role


def has_role(user: Member, *allowed: UserRole) -> bool:
    return role_of(user) in allowed


def is_admin(user: Member) -> bool:
    return role_of(user) is UserRole.admin


def is_coordinator(user: Member) -> bool:
    return role_of(user) is UserRole.coordinator


def is_monitor(user: Member) -> bool:
    return role_of(user) is UserRole.monitor


def is_affiliate(user: Member) -> bool:
    return role_of(user) is UserRole.affiliate


def is_supplier(user: Member) -> bool:
    return role_of(user) is UserRole.supplier


def is_staff(user: Member) -> bool:
    """A coordinator or a monitor."""
    return role_of(user) in STAFF_ROLES


def same_organisation(user: Member, organisation_id: int | None) -> bool:
    return organisation_id is not None and getattr(user, "organisation_id", None) == organisation_id


def sees_operator_notices(user: Member) -> bool:
    """Warnings about how the server is run (an uncounted proxy) are for administrators."""
    return is_admin(user)
