"""Operations on accounts. They take the actor explicitly, flush and audit; never commit."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from zxcvbn import zxcvbn

from monitoring.accounts import devices, keys
from monitoring.accounts.models import (
    ROLE_ORGANISATION_KIND,
    ApiToken,
    LoginAttempt,
    Organisation,
    OrganisationKind,
    User,
    UserRole,
)
from monitoring.accounts.permissions import can_decide_membership
from monitoring.core import audit, crypto, names
from monitoring.core.auth import hash_token
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.sessions import end_user_sessions
from monitoring.core.types import utcnow

logger = logging.getLogger(__name__)


@functools.cache
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    # Verified against when an account does not exist, so both answers take as long.
    return hasher, PEPPERED_HASH_PREFIX + hasher.hash(secrets.token_urlsafe(16))


def _hasher() -> tuple[PasswordHasher, str]:
    """argon2id with the configured cost (RFC 9106's second profile by default)."""
    config = current_app.config
    return _hasher_for(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"], config["ARGON2_PARALLELISM"])


MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "mon_"  # noqa: S105 - a label, not a secret
# Marks a hash of the peppered password; hashes from before the pepper lack it (and are
# replaced at the next successful login).
PEPPERED_HASH_PREFIX = "peppered:"


def _peppered(password: str) -> bytes:
    """HMAC-SHA256 of the password under PASSWORD_PEPPER: what argon2id hashes.

    The pepper is kept outside the database, so a copy of the database alone cannot test
    guesses against the stored hash.
    """
    pepper = str(current_app.config["PASSWORD_PEPPER"]).encode()
    return hmac.new(pepper, b"login password\0" + password.encode(), hashlib.sha256).digest()


def hash_password(password: str) -> str:
    return PEPPERED_HASH_PREFIX + _hasher()[0].hash(_peppered(password))


def check_password(user: User | None, password: str) -> bool:
    """Verify a password in constant work whether or not the user exists."""
    hasher, dummy = _hasher()
    stored = user.password_hash if user else dummy
    try:
        if stored.startswith(PEPPERED_HASH_PREFIX):
            hasher.verify(stored.removeprefix(PEPPERED_HASH_PREFIX), _peppered(password))
        else:  # a hash from before the pepper
            hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return user is not None


def password_needs_rehash(user: User) -> bool:
    """Unpeppered, or hashed with other argon2id parameters than configured now."""
    stored = user.password_hash
    if not stored.startswith(PEPPERED_HASH_PREFIX):
        return True
    return _hasher()[0].check_needs_rehash(stored.removeprefix(PEPPERED_HASH_PREFIX))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def temporary_password() -> str:
    """A random password for an administrator to hand over; it must be changed at first login."""
    return secrets.token_urlsafe(12)


# zxcvbn refuses to rate longer passwords; a strong start makes the whole strong.
_ZXCVBN_MAX_LENGTH = 72


def validate_password(password: str, email: str = "", *, name: str = "") -> None:
    """Refuse short passwords and guessable ones (NIST SP 800-63B: check common passwords).

    zxcvbn rates the password against its lists of common and breached passwords, names, words
    and keyboard patterns, and against the person's own name and address: a password that is
    itself on a list, or rated below 3 of 4, is refused with the reason.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise OperationError(
            _l("The password must be at least %(num)d characters long.", num=MIN_PASSWORD_LENGTH),
            field="password",
        )
    if email and password.strip().lower() == email.lower():
        raise OperationError(_l("The password must not be your e-mail address."), field="password")
    personal = [part for part in (email, *email.split("@"), name, *name.split()) if part]
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=personal)
    sequence = result["sequence"]
    if len(sequence) == 1 and sequence[0]["pattern"] == "dictionary":
        if sequence[0].get("dictionary_name") == "user_inputs":
            raise OperationError(
                _l("The password must not be made of your name or e-mail address."), field="password"
            )
        raise OperationError(
            _l(
                "This password is on the lists of common and breached passwords that attackers try "
                "first. Please choose another."
            ),
            field="password",
        )
    if result["score"] < 3:
        raise OperationError(
            _l(
                "This password is too easy to guess: it is made of common words, names, dates, "
                "repeats or keyboard patterns. A few unrelated words, or a longer password, make "
                "a strong one."
            ),
            field="password",
        )


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
    _refuse_lookalike_colleague(name, organisation)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise OperationError(_l("A user with this e-mail address already exists."), field="email")
    validate_password(password, email, name=name)
    # Only a monitor organisation's own members let someone see its reports (the first one
    # excepted); everyone else is a member of their organisation from the start.
    first_member = role is UserRole.monitor and not _has_approved_member(organisation)
    approved = role is not UserRole.monitor or first_member
    user = User(
        email=email,
        name=name,
        role=role,
        organisation=organisation,
        password_hash=hash_password(password),
        locale=locale,
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
        data={"email": email, "role": role.value, "organisation_id": organisation.id},
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
    """Tell every approved active member that ``user`` waits for approval; audit the request."""
    from monitoring.notifications.models import NotificationKind
    from monitoring.notifications.outbox import notify

    members = db.session.scalars(
        select(User).where(User.id.in_(keys.member_ids(user.organisation))).order_by(User.id)
    ).all()
    notified = notify(
        members,
        NotificationKind.membership_requested,
        params={"member": user.name, "email": user.email, "organisation": user.organisation.name},
    )
    audit.record(
        "membership.request",
        f"{user.email} waits for approval by a member of {user.organisation.name!r}",
        actor=None,
        obj=user,
        data={"organisation_id": user.organisation_id, "members_notified": len(notified)},
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
    if not active and user.role is UserRole.monitor:
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


def set_locale(user: User, locale: str) -> None:
    if user.locale == locale:
        return
    old = user.locale
    user.locale = locale
    db.session.flush()
    audit.record(
        "user.locale",
        f"{user.email} chose the language {locale}",
        actor=user,
        obj=user,
        data={"locale": [old, locale]},
    )


# --- login ----------------------------------------------------------------------------------


@dataclass
class LoginResult:
    user: User | None
    throttled: bool = False


@functools.cache
def _attempt_secret(secret: str) -> bytes:
    return crypto.derive_key(secret.encode(), purpose="login-attempt")


def attempt_key(kind: str, value: str) -> str:
    """The key failed attempts are counted under: a keyed digest, so no address or name is stored.

    HMAC-SHA-256 under a key derived from ``SECRET_KEY`` for this purpose alone (HKDF).
    """
    key = _attempt_secret(str(current_app.config["SECRET_KEY"]))
    return hmac.new(key, f"login:{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def failures_since(key: str, since: object) -> int:
    """How many failed attempts were counted under ``key`` since ``since``."""
    return (
        db.session.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.key == key, LoginAttempt.attempted_dt >= since
            )
        )
        or 0
    )


def _typed_account(user: User | None, email: str) -> tuple[str, dict[str, object]]:
    """How a login names the account in the audit log: never the address typed.

    The id of the account when it exists; otherwise a keyed digest of what was typed, which
    may be a mistyped password or someone's private address.
    """
    if user is not None:
        return f"user {user.id}", {}
    return "an unknown account", {"account_digest": attempt_key("account", email)}


def authenticate(
    email: str, password: str, address: str, device_claims: Sequence[devices.DeviceClaim] = ()
) -> LoginResult:
    """Check a login, throttled per account name (or trusted device) and per client address.

    The answer is the same whether or not the account exists: failures are counted by the
    name typed, and a missing account costs the same argon2 verification. A browser that
    presents a registered device cookie for this account is counted on its own (see
    ``monitoring.accounts.devices``), so strangers locking the account out do not lock it out.
    """
    email = normalise_email(email)
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["LOGIN_WINDOW_MINUTES"])
    user = db.session.scalar(select(User).where(User.email == email))
    device = devices.find_device(user, device_claims)
    if device is not None:
        client_key = attempt_key("device", str(device.id))
        client_limit = config["LOGIN_MAX_FAILURES_PER_DEVICE"]
    else:
        client_key = attempt_key("account", email)
        client_limit = config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    address_key = attempt_key("address", address or "unknown")
    throttled = (
        failures_since(client_key, since) >= client_limit
        or failures_since(address_key, since) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    )
    ok = check_password(user, password)  # always run, so timing tells nothing
    named, data = _typed_account(user, email)
    if device is not None:
        data["trusted_device"] = device.id
    if throttled or not ok or user is None or not user.is_active or not user.organisation.is_active:
        db.session.add_all([LoginAttempt(key=client_key), LoginAttempt(key=address_key)])
        audit.record(
            "login.throttled" if throttled else "login.failure",
            f"Login for {named} refused: too many failures" if throttled else f"Failed login for {named}",
            object_type="user_account",
            object_id=user.id if user else None,
            data=data,
        )
        return LoginResult(None, throttled=throttled)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == client_key))
    if password_needs_rehash(user):
        user.password_hash = hash_password(password)
    db.session.flush()
    audit.record("login.success", f"{email} logged in", actor=user, obj=user, data=data)
    return LoginResult(user)


def confirm_password(user: User, password: str) -> LoginResult:
    """Check the password of a logged-in user asked for it again; throttled per account."""
    config = current_app.config
    key = attempt_key("confirm", str(user.id))
    since = utcnow() - timedelta(minutes=config["LOGIN_WINDOW_MINUTES"])
    throttled = failures_since(key, since) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    ok = check_password(user, password)
    if throttled or not ok:
        db.session.add(LoginAttempt(key=key))
        audit.record(
            "login.confirm_throttled" if throttled else "login.confirm_failure",
            f"{user.email} could not confirm their password" + (": too many failures" if throttled else ""),
            actor=user,
            obj=user,
        )
        return LoginResult(None, throttled=throttled)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))
    db.session.flush()
    audit.record("login.confirm", f"{user.email} confirmed their password", actor=user, obj=user)
    return LoginResult(user)


def record_logout(user: User) -> None:
    audit.record("logout", f"{user.email} logged out", actor=user, obj=user)


def purge_login_attempts() -> int:
    """Delete login attempts older than the throttle window."""
    since = utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    result = db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_dt < since))
    return result.rowcount or 0


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
