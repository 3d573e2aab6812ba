"""Operations on accounts. They take the actor explicitly, flush and audit; never commit.

Passwords live in :mod:`monitoring.accounts.passwords` and signing in in
:mod:`monitoring.accounts.sign_in`; both are re-exported here for their callers.
"""

from __future__ import annotations

import logging
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from monitoring.accounts import keys
from monitoring.accounts.models import (
    ROLE_ORGANISATION_KIND,
    ApiToken,
    Organisation,
    OrganisationKind,
    User,
    UserRole,
)
from monitoring.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    PEPPERED_HASH_PREFIX,
    _hasher,
    check_password,
    hash_password,
    normalise_email,
    password_needs_rehash,
    temporary_password,
    validate_password,
)
from monitoring.accounts.permissions import can_decide_membership, holds_organisation_key, joins_by_approval
from monitoring.accounts.sign_in import (
    LoginResult,
    attempt_key,
    authenticate,
    confirm_password,
    failures_since,
    purge_login_attempts,
    record_logout,
)
from monitoring.core import audit, hooks, names
from monitoring.core.auth import hash_token
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.sessions import end_user_sessions
from monitoring.core.time_zones import is_time_zone
from monitoring.core.types import utcnow

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "PEPPERED_HASH_PREFIX",
    "LoginResult",
    "_hasher",  # the password hasher of the current settings (the security tests read its profile)
    "approve_member",
    "attempt_key",
    "authenticate",
    "change_password",
    "check_password",
    "confirm_password",
    "create_organisation",
    "create_token",
    "create_user",
    "failures_since",
    "hash_password",
    "normalise_email",
    "password_needs_rehash",
    "purge_login_attempts",
    "record_logout",
    "refuse_member",
    "reset_password",
    "revoke_all_tokens",
    "revoke_token",
    "set_locale",
    "set_organisation_active",
    "set_time_zone",
    "set_user_active",
    "temporary_password",
    "validate_password",
]

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "mon_"  # noqa: S105 - a label, not a secret


# --- organisations --------------------------------------------------------------------------


def create_organisation(
    actor: User | None, name: str, kind: OrganisationKind, country: str | None = None
) -> Organisation:
    name = names.normalise_display_name(name)
    if not name:
        raise OperationError(_l("Please give the organisation a name."), field="name")
    skeleton = names.name_skeleton(name)
    existing = db.session.scalar(
        select(Organisation).where(
            (Organisation.name_skeleton == skeleton) | (func.lower(Organisation.name) == name.lower())
        )
    )
    if existing is not None:
        raise OperationError(
            _l(
                "An organisation with this name, or one that looks the same, already exists: %(name)s.",
                name=existing.name,
            ),
            field="name",
        )
    country = (country or "").strip().upper() or None
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise OperationError(_l("Give the country as a two-letter ISO code."), field="country")
    org = Organisation(name=name, name_skeleton=skeleton, kind=kind, country=country, is_active=True)
    db.session.add(org)
    db.session.flush()
    audit.record(
        "organisation.create",
        f"Created {kind.value} organisation {name!r}",
        actor=actor,
        obj=org,
        data={"name": name, "kind": kind.value, "country": country},
    )
    return org


def set_organisation_active(actor: User | None, org: Organisation, active: bool) -> None:
    if org.is_active == active:
        return
    if not active and actor is not None and actor.organisation_id == org.id:
        raise OperationError(_l("You cannot deactivate your own organisation."))
    org.is_active = active
    if not active:
        for user in org.users:
            end_user_sessions(user.id)
    db.session.flush()
    audit.record(
        "organisation.activate" if active else "organisation.deactivate",
        f"{'Reactivated' if active else 'Deactivated'} organisation {org.name!r}",
        actor=actor,
        obj=org,
        data={"is_active": [not active, active]},
    )


# --- users ----------------------------------------------------------------------------------


def create_user(
    actor: User | None,
    *,
    email: str,
    name: str,
    role: UserRole,
    organisation: Organisation,
    password: str,
    locale: str | None = None,
    time_zone: str | None = None,
    must_change_password: bool = True,
) -> User:
    email = normalise_email(email)
    name = names.normalise_display_name(name)
    if "@" not in email or len(email) > 254:
        raise OperationError(_l("Please give a valid e-mail address."), field="email")
    if not name:
        raise OperationError(_l("Please give the person's name."), field="name")
    if ROLE_ORGANISATION_KIND[role] is not organisation.kind:
        raise OperationError(
            _l(
                "A %(role)s must belong to an organisation of the kind: %(kind)s.",
                role=role.title,
                kind=ROLE_ORGANISATION_KIND[role].title,
            ),
            field="organisation",
        )
    if not organisation.is_active:
        raise OperationError(_l("This organisation is deactivated."), field="organisation")
    _check_time_zone(time_zone)
    _refuse_lookalike_colleague(name, organisation)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise OperationError(_l("A user with this e-mail address already exists."), field="email")
    validate_password(password, email, name=name)
    # Only a monitor organisation's own members let someone see its reports (the first one
    # excepted); everyone else is a member of their organisation from the start.
    first_member = joins_by_approval(role) and not _has_approved_member(organisation)
    approved = not joins_by_approval(role) or first_member
    user = User(
        email=email,
        name=name,
        role=role,
        organisation=organisation,
        password_hash=hash_password(password),
        locale=locale,
        time_zone=time_zone,
        is_active=True,
        must_change_password=must_change_password,
        membership_approved_dt=utcnow() if approved else None,
    )
    db.session.add(user)
    db.session.flush()
    # No key pair yet: the password was set by someone else (or must be changed). The user gets
    # one when they set their own password (change_password).
    audit.record(
        "user.create",
        f"Created {role.value} {email} in {organisation.name!r}",
        actor=actor,
        obj=user,
        data={
            "email": email,
            "role": role.value,
            "organisation_id": organisation.id,
            "time_zone": user.time_zone_name,
        },
    )
    if first_member:
        audit.record(
            "membership.approve",
            f"{email} is the first member of {organisation.name!r}: approved without a colleague",
            actor=actor,
            obj=user,
            data={"organisation_id": organisation.id, "automatic": True},
        )
    elif user.membership_pending:
        _ask_members_to_approve(user)
    return user


def _has_approved_member(organisation: Organisation) -> bool:
    """Whether anyone was ever approved in the monitor organisation (active or not).

    Counting former members too means that deactivating every member does not make the next
    account an organisation's automatically approved "first" member.
    """
    return bool(
        db.session.scalar(
            select(User.id)
            .where(
                User.organisation_id == organisation.id,
                User.role == UserRole.monitor,
                User.membership_approved_dt.is_not(None),
            )
            .limit(1)
        )
    )


def _ask_members_to_approve(user: User) -> None:
    """Ask every approved active member to approve ``user`` (notifications answer the hook); audit it."""
    asked = db.session.scalar(select(func.count()).select_from(keys.member_ids(user.organisation).subquery()))
    hooks.membership_requested.send(user=user)
    audit.record(
        "membership.request",
        f"{user.email} waits for approval by a member of {user.organisation.name!r}",
        actor=None,
        obj=user,
        data={"organisation_id": user.organisation_id, "members_asked": asked or 0},
    )


def approve_member(actor: User, member: User) -> None:
    """An approved member lets a new colleague see the organisation's reports (not decrypt them)."""
    if not can_decide_membership(actor, member):
        raise OperationError(_l("Only an approved member of this organisation can approve a new colleague."))
    member.membership_approved_dt = utcnow()
    member.membership_approved_by_id = actor.id
    db.session.flush()
    audit.record(
        "membership.approve",
        f"{actor.email} approved {member.email} as a member of {member.organisation.name!r}",
        actor=actor,
        obj=member,
        data={"organisation_id": member.organisation_id, "automatic": False},
    )


def refuse_member(actor: User, member: User) -> None:
    """An approved member refuses a new colleague: the account is deactivated."""
    if not can_decide_membership(actor, member):
        raise OperationError(_l("Only an approved member of this organisation can refuse a new colleague."))
    audit.record(
        "membership.refuse",
        f"{actor.email} refused {member.email} as a member of {member.organisation.name!r}",
        actor=actor,
        obj=member,
        data={"organisation_id": member.organisation_id},
    )
    set_user_active(actor, member, False)


def _refuse_lookalike_colleague(name: str, organisation: Organisation) -> None:
    """Refuse a name that looks like a colleague's but is not the same text (a puppet's disguise).

    Two people may share a name; a name that differs from a colleague's only in characters
    that look alike (or in case) can only be meant to be taken for theirs.
    """
    for colleague in db.session.scalars(select(User).where(User.organisation_id == organisation.id)):
        if colleague.name != name and names.looks_alike(colleague.name, name):
            raise OperationError(
                _l(
                    "This name looks like that of %(name)s in the same organisation. If this is "
                    "another person, add something that tells them apart, such as a middle name.",
                    name=colleague.name,
                ),
                field="name",
            )


def set_user_active(actor: User | None, user: User, active: bool) -> None:
    if user.is_active == active:
        return
    if not active and actor is not None and actor.id == user.id:
        raise OperationError(_l("You cannot deactivate your own account."))
    user.is_active = active
    user.deactivated_dt = None if active else utcnow()
    ended = 0 if active else end_user_sessions(user.id)
    if not active:
        revoke_all_tokens(actor, user, reason="user.deactivate")
    db.session.flush()
    if not active and holds_organisation_key(user):
        # A member leaving rotates the organisation's key (if they held it).
        keys.remove_member(actor, user, user.organisation)
    audit.record(
        "user.activate" if active else "user.deactivate",
        f"{'Reactivated' if active else 'Deactivated'} {user.email}",
        actor=actor,
        obj=user,
        data={"is_active": [not active, active], "sessions_ended": ended},
    )
    if active and user.membership_pending:
        # Back, and still not approved: the members are asked again.
        _ask_members_to_approve(user)


def reset_password(actor: User | None, user: User) -> str:
    """Give a user a random temporary password that must be changed at next login."""
    temporary = temporary_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.password_changed_dt = utcnow()
    ended = end_user_sessions(user.id)
    # The key pair and its grants go, and no new pair is made under the temporary password
    # (the administrator knows it): the user gets one when they set their own password.
    keys.reset_user_keys(user)
    revoke_all_tokens(actor, user, reason="user.password_reset")
    db.session.flush()
    audit.record(
        "user.password_reset",
        f"Reset the password of {user.email}",
        actor=actor,
        obj=user,
        data={"sessions_ended": ended},
    )
    return temporary


def change_password(user: User, current: str, new: str) -> None:
    """Change one's own password; every session of the user ends."""
    if not check_password(user, current):
        raise OperationError(_l("The current password is not correct."), field="current_password")
    if new == current:
        raise OperationError(_l("The new password must differ from the current one."), field="password")
    validate_password(new, user.email, name=user.name)
    # A password of the user's own: their key is wrapped under it, or made now if they have none.
    keys.set_own_password_keys(user, current, new)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_dt = utcnow()
    ended = end_user_sessions(user.id)
    revoke_all_tokens(user, user, reason="user.password_change")
    db.session.flush()
    audit.record(
        "user.password_change",
        f"{user.email} changed their password",
        actor=user,
        obj=user,
        data={"sessions_ended": ended},
    )


def set_locale(user: User, locale: str | None) -> None:
    """Show the interface in ``locale``; None: in the language of the browser."""
    if user.locale == locale:
        return
    old = user.locale
    user.locale = locale
    db.session.flush()
    audit.record(
        "user.locale",
        f"{user.email} chose the language {locale or 'of the browser'}",
        actor=user,
        obj=user,
        data={"locale": [old, locale]},
    )


def _check_time_zone(zone: str | None) -> None:
    if zone is not None and not is_time_zone(zone):
        raise OperationError(_l("Choose a time zone from the list, e.g. Asia/Bangkok."), field="time_zone")


def set_time_zone(user: User, zone: str | None) -> None:
    """Show the user's times in ``zone``; None: in the usual zone of their organisation's country."""
    _check_time_zone(zone)
    if user.time_zone == zone:
        return
    old = user.time_zone
    user.time_zone = zone
    db.session.flush()
    shown = zone or f"the default of the organisation's country ({user.default_time_zone})"
    audit.record(
        "user.time_zone",
        f"{user.email} chose the time zone {shown}",
        actor=user,
        obj=user,
        data={"time_zone": [old, zone]},
    )


# --- API tokens -----------------------------------------------------------------------------


def create_token(user: User, name: str, *, actor: User | bool | None = True) -> tuple[ApiToken, str]:
    """Create a bearer token; the clear token is returned once and never stored.

    The actor is the user themself unless another is given (None: the command line).
    """
    actor = user if actor is True else actor
    name = " ".join(name.split())
    if not name:
        raise OperationError(_l("Please name the token, e.g. after the script that uses it."), field="name")
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name[:100], token_hash=hash_token(clear), prefix=clear[:12])
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.create",
        f"{user.email} created API token {name!r}",
        actor=user,
        obj=token,
        data={"name": name, "prefix": token.prefix},
    )
    # Made while the user's keys are unlocked in this request, the token can open sealed data.
    keys.attach_to_token(user, token, clear)
    return token, clear


def revoke_token(actor: User | None, token: ApiToken) -> None:
    if token.revoked_dt is not None:
        return
    token.revoked_dt = utcnow()
    token.private_key_wrapped = None
    db.session.flush()
    audit.record(
        "token.revoke",
        f"Revoked API token {token.name!r} of {token.user.email}",
        actor=actor,
        obj=token,
        data={"prefix": token.prefix},
    )


def revoke_all_tokens(actor: User | None, user: User, *, reason: str) -> int:
    """Revoke every API token of a user (after ``reason``, an audit action); return how many.

    A password reset or change, a two-factor reset and a deactivation all end the tokens, so
    a token stolen before them is worth nothing after.
    """
    now = utcnow()
    revoked = []
    for token in db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_dt.is_(None))
    ):
        token.revoked_dt = now
        token.private_key_wrapped = None
        revoked.append(token.prefix)
    if revoked:
        db.session.flush()
        audit.record(
            "token.revoke_all",
            f"Revoked all {len(revoked)} API tokens of {user.email} ({reason})",
            actor=actor,
            object_type="user_account",
            object_id=user.id,
            data={"reason": reason, "tokens": len(revoked), "prefixes": revoked},
        )
    return len(revoked)
