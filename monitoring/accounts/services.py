"""What the accounts pages and the accounts API share: loading, lists, views and the login flow.

Pages (``views``, ``key_views``, ``two_factor_views``) and the API (``api``, ``key_api``,
``two_factor_api``) are thin skins over these functions and the operations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, session, url_for
from flask_babel import gettext as _
from flask_login import login_user
from sqlalchemy import Select, select

from monitoring.accounts import devices, keys, operations, two_factor
from monitoring.accounts.models import ApiToken, Organisation, OrganisationKeyGrant, User, UserRole
from monitoring.accounts.permissions import (
    can_manage_accounts,
    can_revoke_token,
    sees_organisation_key,
    visible_organisations,
    visible_tokens,
    visible_users,
)
from monitoring.core import session_secrets
from monitoring.core.auth import record_password_confirmed, safe_next
from monitoring.core.db import db

logger = logging.getLogger(__name__)

# The session entry holding a new API token until the next page has shown it once.
NEW_TOKEN_KEY = "new_token"  # noqa: S105 - the name of a session entry, not a secret
# One's tokens, newest first, on the page and in the API.
TOKEN_ORDER = [ApiToken.id.desc()]


# --- accounts an administrator manages ----------------------------------------------------------


def load_managed_user(actor: User, user_id: int) -> User:
    """A user the actor manages, else 404 (a refusal looks like a missing page)."""
    user = (
        db.session.scalar(visible_users(actor).where(User.id == user_id))
        if can_manage_accounts(actor)
        else None
    )
    if user is None:
        abort(404)
    return user


def load_managed_organisation(actor: User, organisation_id: int) -> Organisation:
    """An organisation the actor manages, else 404."""
    query = visible_organisations(actor).where(Organisation.id == organisation_id)
    org = db.session.scalar(query) if can_manage_accounts(actor) else None
    if org is None:
        abort(404)
    return org


# --- one's own account --------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountView:
    """What a user sees of their own account, on the account page and at ``/me``."""

    id: int
    email: str
    name: str
    role: UserRole
    organisation: Organisation
    locale: str | None
    time_zone_name: str  # the zone times are shown in
    time_zone_chosen: bool  # False: the usual zone of the organisation's country
    must_change_password: bool


def account_view(user: User) -> AccountView:
    return AccountView(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        organisation=user.organisation,
        locale=user.locale,
        time_zone_name=user.time_zone_name,
        time_zone_chosen=user.time_zone is not None,
        must_change_password=user.must_change_password,
    )


def update_account(user: User, args: dict[str, Any]) -> None:
    """Apply one's own settings from ``UpdateAccountArgs``; the fields left out stay as they are."""
    if "locale" in args:
        operations.set_locale(user, args["locale"])
    if "time_zone" in args:
        operations.set_time_zone(user, args["time_zone"])


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(visible_tokens(user).order_by(*TOKEN_ORDER)))


def load_token(user: User, token_id: int) -> ApiToken:
    """One of the user's tokens that they may revoke, else 404."""
    token = db.session.scalar(visible_tokens(user).where(ApiToken.id == token_id))
    if token is None or not can_revoke_token(user, token):
        abort(404)
    return token


def show_new_token_once(user: User, clear: str) -> None:
    """Keep a new token for the next page, encrypted in the session, to be shown once."""
    session_secrets.put(NEW_TOKEN_KEY, user.id, clear.encode())


def pop_new_token(user: User) -> str | None:
    token = session_secrets.pop(NEW_TOKEN_KEY, user.id)
    return token.decode() if token is not None else None


# --- the login flow -----------------------------------------------------------------------------


def start_session(user: User, password: str) -> None:
    """Open a new session for a user whose password was just checked; unlock their keys."""
    session.clear()
    session.regenerate()  # type: ignore[attr-defined]
    login_user(user)
    record_password_confirmed(user)
    # The private key is kept for this session, encrypted under the new session id.
    keys.unlock(user, password)
    if not two_factor.second_factor_pending(user):
        devices.remember_browser(user)  # the login is complete


def renew_session(user: User, password: str) -> None:
    """After a password change every session ended: continue in a brand-new one."""
    passed_second_factor = two_factor.has_passed(user)
    session.clear()
    session.regenerate()  # type: ignore[attr-defined]
    login_user(user)
    record_password_confirmed(user)
    if passed_second_factor:
        two_factor.mark_passed(user)
    keys.unlock(user, password)


def second_factor_url(user: User, next_url: str | None) -> str:
    """The code page of a user who still needs the second factor, or the set-up."""
    endpoint = "two_factor.verify" if two_factor.is_enrolled(user) else "two_factor.setup"
    return url_for(endpoint, next=safe_next(next_url))


def after_login(user: User, next_url: str | None) -> str:
    """Where a user goes once the password passed: the code, a forced password change, or on."""
    landing = safe_next(next_url) or key_setup_page(user)
    if two_factor.second_factor_pending(user):
        # The code comes before anything else, a forced password change included.
        return second_factor_url(user, landing)
    return after_second_factor(user, landing)


def after_second_factor(user: User, next_url: str | None) -> str:
    """Where to go once the second factor passed: a forced password change first, else onwards."""
    if user.must_change_password:
        flash(_("Please choose a new password before you go on."), "warning")
        return url_for("accounts.change_password")
    return safe_next(next_url) or url_for("core.index")


def key_setup_page(user: User) -> str | None:
    """Where the first monitor of an organisation without a key goes after logging in."""
    if sees_organisation_key(user) and keys.current_organisation_key(user.organisation) is None:
        return url_for("keys.index")
    return None


# --- two-factor sign-in -------------------------------------------------------------------------


def two_factor_status(user: User) -> dict[str, Any]:
    """A user's two-factor sign-in as their own page, the admin page and the API describe it."""
    return {
        "user_id": user.id,
        "enabled": two_factor.is_enrolled(user),
        "enabled_dt": user.totp_enabled_dt,
        "enrolment_pending": two_factor.enrolment_pending(user),
        "required": two_factor.two_factor_required(user),
        "demo_relaxed": two_factor.demo_relaxed(user),
    }


# --- keys and access ----------------------------------------------------------------------------


def colleague_statuses(user: User, members: list[User]) -> list[keys.ColleagueStatus]:
    """Each colleague with their key's fingerprint and whether they hold the newest version."""
    current = keys.current_organisation_key(user.organisation)
    holders: set[int] = set()
    if current is not None and members:
        holders = set(
            db.session.scalars(
                select(OrganisationKeyGrant.user_id).where(
                    OrganisationKeyGrant.organisation_key_id == current.id,
                    OrganisationKeyGrant.user_id.in_([m.id for m in members]),
                )
            )
        )
    return [keys.ColleagueStatus(m, keys.fingerprint(m.public_key), m.id in holders) for m in members]


def colleague_list(user: User, args: dict[str, Any]) -> Select[User]:
    """The user's colleagues; ``waiting``: only those with a key but no access (or the others)."""
    query = select(User).where(User.id.in_(keys.colleague_ids(user)))
    if "waiting" in args:
        current = keys.current_organisation_key(user.organisation)
        holders = select(OrganisationKeyGrant.user_id).where(
            OrganisationKeyGrant.organisation_key_id == (current.id if current is not None else -1)
        )
        if args["waiting"]:
            query = query.where(User.public_key.is_not(None), User.id.not_in(holders))
        else:
            query = query.where(User.public_key.is_(None) | User.id.in_(holders))
    return query


def load_colleague(user: User, colleague_id: int) -> User:
    """An approved colleague of the user, else 404."""
    member = db.session.scalar(
        select(User).where(User.id == colleague_id, User.id.in_(keys.colleague_ids(user)))
    )
    if member is None:
        abort(404)
    return member


def pending_member_list(user: User) -> Select[User]:
    """The colleagues waiting for the user's approval."""
    return select(User).where(User.id.in_(keys.pending_member_ids(user)))


def load_pending_member(user: User, member_id: int) -> User:
    """A colleague waiting for approval in the user's organisation, else 404."""
    member = db.session.scalar(pending_member_list(user).where(User.id == member_id))
    if member is None:
        abort(404)
    return member
