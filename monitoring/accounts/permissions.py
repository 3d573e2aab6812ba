"""Who may see and change accounts."""

from __future__ import annotations

from sqlalchemy import Select, select

from monitoring.accounts.models import ApiToken, Organisation, User, UserRole


def is_admin(user: User) -> bool:
    return user.is_authenticated and user.role is UserRole.admin


def can_manage_accounts(user: User) -> bool:
    """Create, deactivate and reset users and organisations."""
    return is_admin(user)


def can_view_audit_log(user: User) -> bool:
    return is_admin(user)


def visible_users(user: User) -> Select[tuple[User]]:
    """Users the given user may list: all for admins, else only themselves."""
    query = select(User)
    if not is_admin(user):
        query = query.where(User.id == user.id)
    return query


def visible_organisations(user: User) -> Select[tuple[Organisation]]:
    query = select(Organisation)
    if not is_admin(user):
        query = query.where(Organisation.id == user.organisation_id)
    return query


def visible_tokens(user: User) -> Select[tuple[ApiToken]]:
    """A user's own API tokens (admins manage theirs the same way)."""
    return select(ApiToken).where(ApiToken.user_id == user.id)


def can_revoke_token(user: User, token: ApiToken) -> bool:
    return token.user_id == user.id or is_admin(user)


def can_decide_membership(user: User, member: User) -> bool:
    """Approve or refuse a new colleague: an approved, active monitor of the same organisation.

    Administrators never decide: membership of a monitor organisation is its members' decision.
    """
    return bool(
        user.is_authenticated
        and user.is_active
        and user.role is UserRole.monitor
        and not user.membership_pending
        and user.organisation.is_active
        and member.id != user.id
        and member.is_active
        and member.role is UserRole.monitor
        and member.membership_pending
        and member.organisation_id == user.organisation_id
    )
