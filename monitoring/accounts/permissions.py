"""Who may see and change accounts, keys and memberships: every role test of accounts and admin.

The role predicates come from :mod:`monitoring.core.roles`. A few rules below test the role a
user *has* (a pending monitor included) rather than the role they may use now: whether a new
account waits for approval, who may hold an organisation's key, who must use two factors.
"""

from __future__ import annotations

from sqlalchemy import Select, false, select

from monitoring.accounts.models import ApiToken, Organisation, User, UserRole
from monitoring.core.roles import Member, has_role, is_admin, is_monitor

__all__ = [
    "can_decide_membership",
    "can_manage_accounts",
    "can_revoke_token",
    "can_view_audit_log",
    "can_view_coverage_health",
    "holds_organisation_key",
    "is_admin",
    "is_key_member",
    "joins_by_approval",
    "must_use_two_factor",
    "sees_organisation_key",
    "visible_organisations",
    "visible_pending_member_ids",
    "visible_tokens",
    "visible_users",
]

# Roles that must pass a second factor at every login (the others may choose to).
TWO_FACTOR_ROLES = frozenset({UserRole.admin, UserRole.coordinator, UserRole.monitor})


# --- administration -----------------------------------------------------------------------------


def can_manage_accounts(user: Member) -> bool:
    """Create, deactivate and reset users and organisations."""
    return is_admin(user)


def can_view_audit_log(user: Member) -> bool:
    return is_admin(user)


def can_view_coverage_health(user: Member) -> bool:
    """See which countries' worker reports cannot be received (routes to an organisation without
    a usable key): administrators and coordinators, who are told of such routes."""
    return has_role(user, UserRole.admin, UserRole.coordinator)


def visible_users(user: User) -> Select[User]:
    """Users the given user may list: all for admins, else only themselves."""
    query = select(User)
    if not is_admin(user):
        query = query.where(User.id == user.id)
    return query


def visible_organisations(user: User) -> Select[Organisation]:
    query = select(Organisation)
    if not is_admin(user):
        query = query.where(Organisation.id == user.organisation_id)
    return query


# --- one's own account --------------------------------------------------------------------------


def visible_tokens(user: User) -> Select[ApiToken]:
    """A user's own API tokens (admins manage theirs the same way)."""
    return select(ApiToken).where(ApiToken.user_id == user.id)


def can_revoke_token(user: User, token: ApiToken) -> bool:
    return token.user_id == user.id or is_admin(user)


def must_use_two_factor(user: User) -> bool:
    """Whether the user's role needs a second factor at every login (before any relaxation)."""
    return user.role in TWO_FACTOR_ROLES


# --- membership of a monitor organisation -------------------------------------------------------


def joins_by_approval(role: UserRole) -> bool:
    """Whether a new account of this role waits for a colleague's approval (monitors do)."""
    return role is UserRole.monitor


def holds_organisation_key(user: User) -> bool:
    """Whether the user's role is one that may hold grants of an organisation's key."""
    return user.role is UserRole.monitor


def is_key_member(user: User, organisation_id: int) -> bool:
    """An active monitor of that (monitor) organisation whom its members approved.

    Unlike :func:`monitoring.core.roles.is_monitor` it does not ask whether the organisation is
    active: the command line works with the keys of a deactivated organisation too.
    """
    return bool(
        user.is_active
        and user.role is UserRole.monitor
        and user.organisation_id == organisation_id
        and not user.membership_pending
    )


def sees_organisation_key(user: User) -> bool:
    """An approved monitor: sees their organisation's key, its colleagues and who waits."""
    return user.role is UserRole.monitor and not user.membership_pending


def visible_pending_member_ids(user: User) -> Select[int]:
    """The monitors of the user's organisation who wait for approval (for an approved member)."""
    if not sees_organisation_key(user) or not user.is_active:
        return select(User.id).where(false())
    return select(User.id).where(
        User.organisation_id == user.organisation_id,
        User.is_active.is_(True),
        User.role == UserRole.monitor,
        User.membership_approved_dt.is_(None),
    )


def can_decide_membership(user: User, member: User) -> bool:
    """Approve or refuse a new colleague: an approved, active monitor of the same organisation.

    Administrators never decide: membership of a monitor organisation is its members' decision.
    """
    return bool(
        is_monitor(user)
        and member.id != user.id
        and member.is_active
        and member.role is UserRole.monitor
        and member.membership_pending
        and member.organisation_id == user.organisation_id
    )
