"""Member key pairs, monitor organisations' keys, grants, the session unlock and recovery.

Sealed data (DESIGN.md, "Confidentiality levels") is sealed to a monitor organisation's
public key: ML-KEM-768 + X25519 for versions made since December 2026, X25519 before (the
suite is stored with each version). The server never holds a usable private key at rest:

- each user has a key pair (the same two suites) whose private key is stored only wrapped under argon2id of
  their password and the server's password pepper (``User.private_key_wrapped``). The pair is
  made only when the user sets a password of their own, never under a temporary password an
  administrator saw; an administrator's reset drops it (and every grant to it);
- each version of an organisation's private key is sealed to every member's public key
  (:class:`OrganisationKeyGrant`) and to the organisation's recovery key, whose private half
  exists only as the recovery code shown once to the monitor who created the key;
- at login the user's private key is unwrapped and kept in the server-side session, encrypted
  under a key derived from the session cookie's id, which the database never stores (it holds
  only the id's SHA-256); an API token made while the keys were unlocked carries the private
  key wrapped under a key derived from the token itself.

So a copy of the database together with every server secret opens nothing: each wrapped blob
needs a password, a session cookie, an API token or the recovery code.

Removing a member rotates the organisation's key: new data is sealed to the new version, which
the removed member never held. Data sealed to older versions stays readable for the remaining
members until it is re-wrapped and the old version retired (:func:`retire_organisation_key`).
Re-wrapping keeps the data keys, which a departed member may have copied with the old version;
re-encryption (:func:`monitoring.testimony.sealing.reencrypt_batch`) replaces them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, g, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, false, func, select

from monitoring.accounts.models import (
    ApiToken,
    KeyAlgorithm,
    KeyOrigin,
    Organisation,
    OrganisationKey,
    OrganisationKeyGrant,
    OrganisationKind,
    User,
    UserRole,
)
from monitoring.core import audit, crypto, session_secrets
from monitoring.core.auth import hash_token
from monitoring.core.crypto import DecryptionError
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow

logger = logging.getLogger(__name__)

# Where the unlocked private key and a recovery code awaiting confirmation live in the session.
_SESSION_KEY = "_unlocked_key"
_SESSION_RECOVERY = "_new_recovery_code"

# A recovery code: 240 random bits and a 20-bit checksum, in 52 Crockford base32 characters.
RECOVERY_SECRET_BYTES = 30
_CHECKSUM_BITS = 20
RECOVERY_CODE_LENGTH = (RECOVERY_SECRET_BYTES * 8 + _CHECKSUM_BITS) // 5
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = {"O": "0", "I": "1", "L": "1"}


class KeysLocked(Exception):
    """The user's private key is not unlocked in this request."""

    def __init__(self, message: Any = None) -> None:
        self.message = message or _l(
            "Your keys are locked. Log out and log in again with your password to unlock them."
        )
        super().__init__(str(self.message))


class NoKeyAccess(Exception):
    """The user holds no usable grant for that organisation key version."""

    def __init__(self, message: Any = None) -> None:
        self.message = message or _l(
            "You do not have access to your organisation's key yet. A colleague can grant it on the "
            "“Keys and access” page, or you can enter the organisation's recovery code there."
        )
        super().__init__(str(self.message))


# --- contexts: every wrapped blob is bound to what it is for ------------------------------------


def _user_context(user: User) -> tuple[object, ...]:
    return ("user", user.id)


def _grant_context(organisation_key_id: int, user_id: int) -> tuple[object, ...]:
    return ("organisation_key_grant", organisation_key_id, user_id)


def _recovery_context(organisation_id: int, version: int) -> tuple[object, ...]:
    return ("organisation_key_recovery", organisation_id, version)


def _token_context(token: ApiToken) -> tuple[object, ...]:
    return ("api_token", token.id, token.user_id)


def _password_kdf() -> crypto.PasswordKdf:
    config = current_app.config
    return crypto.PasswordKdf(
        iterations=config["ARGON2_TIME_COST"],
        memory_kib=config["ARGON2_MEMORY_KIB"],
        lanes=config["ARGON2_PARALLELISM"],
    )


def _pepper() -> bytes:
    """The server secret mixed into every password-derived key (held outside the database)."""
    return str(current_app.config["PASSWORD_PEPPER"]).encode()


def _wrap_for(user: User, private: bytes, password: str) -> bytes:
    return crypto.wrap_with_password(
        private, password, _password_kdf(), context=_user_context(user), pepper=_pepper()
    )


def _unwrap_for(user: User, password: str) -> bytes:
    """The user's private key opened with their password; DecryptionError if it does not open."""
    if user.private_key_wrapped is None:
        raise DecryptionError()
    return crypto.unwrap_with_password(
        user.private_key_wrapped, password, context=_user_context(user), pepper=_pepper()
    )


def require_own_key(user: User, *, actor: User | None = None) -> None:
    """Refuse to seal to, or act with, a user who has no key pair yet.

    A key pair is made only when its owner sets a password of their own, so a user whose
    password only an administrator has set has none; nothing may be granted to them.
    """
    if user.public_key is not None:
        return
    if actor is None or actor.id == user.id:
        raise OperationError(
            _l(
                "You have no key yet. It is made when you choose a password of your own: change "
                "your password, then try again."
            )
        )
    raise OperationError(
        _l(
            "%(name)s has no key yet. It is made when they choose a password of their own (at their "
            "first login, or after an administrator reset); until then nothing can be granted to them.",
            name=user.name,
        ),
        field="user",
    )


def fingerprint(public_key: bytes | None) -> str:
    """A public key's fingerprint to compare out of band: 32 hex digits in groups of four."""
    if not public_key:
        return ""
    digest = hashlib.sha256(b"monitoring public key\0" + public_key).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


# --- a user's own key pair ----------------------------------------------------------------------


def create_user_keys(user: User, password: str, origin: KeyOrigin) -> None:
    """Give the user a new key pair, the private key wrapped under the password they chose.

    Call it only with a password the user set themself (never one an administrator gave out),
    and only when they have no key pair: a key pair is never replaced silently.
    """
    if user.public_key is not None:
        raise ValueError(f"user {user.id} has a key pair already")
    if user.id is None:
        db.session.flush()
    private, public = crypto.generate_key_pair()
    user.public_key = public
    user.private_key_wrapped = _wrap_for(user, private, password)
    user.key_created_dt = utcnow()
    user.key_origin = origin
    db.session.flush()
    audit.record(
        "keys.user_create",
        f"{user.email} set their own password and got a new key pair ({origin.value})",
        actor=user,
        obj=user,
        data={"fingerprint": fingerprint(public), "origin": origin.value},
    )


def set_own_password_keys(user: User, old_password: str, new_password: str) -> None:
    """On a password the user chose: wrap their key under it, or make their first key pair.

    A user without a key pair (new, or after an administrator reset) gets one now, under the
    new password only. A stored key that does not open with the verified old password is of
    no use to anyone: it is dropped and replaced (the user asks a colleague for access again).
    """
    if user.public_key is None or user.private_key_wrapped is None:
        origin = KeyOrigin.after_reset if user.keys_reset_dt is not None else KeyOrigin.own_password
        create_user_keys(user, new_password, origin)
        return
    try:
        private = _unwrap_for(user, old_password)
    except DecryptionError:
        logger.warning("the private key of user %s did not open with their password; replacing it", user.id)
        _drop_user_keys(user, reason="did not open with the verified password")
        create_user_keys(user, new_password, KeyOrigin.replaced)
        return
    user.private_key_wrapped = _wrap_for(user, private, new_password)
    db.session.flush()
    audit.record(
        "keys.user_rewrap",
        f"Re-wrapped the private key of {user.email} under their new password",
        actor=user,
        obj=user,
    )


def _drop_user_keys(user: User, *, reason: str) -> dict[str, Any]:
    """Delete the user's key pair, every grant sealed to it and every API token's copy of it."""
    from monitoring.testimony.models import ReportGrant

    grants = db.session.execute(delete(OrganisationKeyGrant).where(OrganisationKeyGrant.user_id == user.id))
    report_grants = db.session.execute(delete(ReportGrant).where(ReportGrant.user_id == user.id))
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.private_key_wrapped.is_not(None))
    ).all()
    for token in tokens:
        token.private_key_wrapped = None
    data = {
        "fingerprint": fingerprint(user.public_key),
        "reason": reason,
        "grants_removed": grants.rowcount or 0,
        "report_shares_removed": report_grants.rowcount or 0,
        "token_keys_removed": len(tokens),
    }
    user.public_key = None
    user.private_key_wrapped = None
    user.key_created_dt = None
    user.key_origin = None
    _forget_cached()
    db.session.flush()
    audit.record(
        "keys.user_drop",
        f"Dropped the key pair of {user.email}; their grants and token keys were removed",
        actor=None,
        obj=user,
        data=data,
    )
    return data


def reset_user_keys(user: User) -> None:
    """Drop the user's key pair after an administrator reset their password.

    No new pair is made: whoever knows the temporary password (the administrator) could open
    it. The user gets one when they set their own password, and regains access to sealed data
    only through a colleague's grant or the organisation's recovery code. Reports shared with
    a coordinator were sealed to the old key, so those shares go too.
    """
    user.keys_reset_dt = utcnow()
    if user.public_key is not None or user.private_key_wrapped is not None:
        _drop_user_keys(user, reason="administrator password reset")


# --- unlocking: the session and API tokens ------------------------------------------------------


def _session_put(name: str, user: User, secret: bytes) -> None:
    """Keep a secret of the user's in the session, encrypted under the cookie-derived key."""
    try:
        session_secrets.put(name, user.id, secret)
    except session_secrets.NoSessionKey as exc:
        raise KeysLocked() from exc


def _session_get(name: str, user: User) -> bytes | None:
    return session_secrets.get(name, user.id)


def unlock(user: User, password: str) -> None:
    """Unwrap the user's private key with their password and keep it for this session.

    Call it after the session id is regenerated at login: the key is encrypted under a key
    derived from the id the cookie will hold. A user without a key pair stays without one: it
    is made only when they set a password of their own. A key wrapped before the pepper (or
    with other argon2id parameters) is wrapped again, peppered, now that the password is known.
    """
    if user.private_key_wrapped is None:
        return
    try:
        private = _unwrap_for(user, password)
    except DecryptionError:
        logger.warning("the private key of user %s did not open with their password", user.id)
        audit.record(
            "keys.unlock_failed",
            f"The private key of {user.email} did not open with their password",
            actor=user,
            obj=user,
        )
        return
    if not crypto.password_wrap_is_current(user.private_key_wrapped, _password_kdf()):
        user.private_key_wrapped = _wrap_for(user, private, password)
        db.session.flush()
        audit.record(
            "keys.user_rewrap",
            f"Re-wrapped the private key of {user.email} with the password pepper and current cost",
            actor=user,
            obj=user,
        )
    # A successful unlock is part of the login, which is audited as such ("login.success").
    _keep_unlocked(user, private)


def _keep_unlocked(user: User, private: bytes) -> None:
    _session_put(_SESSION_KEY, user, private)
    g.setdefault("_unlocked_keys", {})[user.id] = private


@contextmanager
def unlock_kept(user: User) -> Iterator[None]:
    """Keep the user's key unlocked across a ``session.clear()`` and ``session.regenerate()``.

    For steps that renew the session after the password was checked (a password change, a
    second factor): the private key is taken out before and stored again under the new id.
    """
    try:
        private: bytes | None = unlocked_private_key(user)
    except KeysLocked:
        private = None
    yield
    if private is not None:
        _keep_unlocked(user, private)


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _token_cipher_key(clear_token: str) -> bytes:
    return crypto.derive_key(clear_token.encode(), purpose="api-token-private-key")


def unlocked_private_key(user: User) -> bytes:
    """Return the user's private key as unlocked in this request; raise KeysLocked if it is not.

    In a browser session it comes from the session; in an API request from the bearer token,
    if the token was made while the keys were unlocked.
    """
    if not has_request_context() or user.public_key is None:
        raise KeysLocked()
    cache = g.setdefault("_unlocked_keys", {})
    if user.id in cache:
        return cache[user.id]  # type: ignore[no-any-return]
    token = g.get("api_token")
    if token is not None:
        private = _private_key_from_token(user, token)
    else:
        private = _session_get(_SESSION_KEY, user)
        if private is None:
            raise KeysLocked()
    if not hmac.compare_digest(crypto.public_key_of(private), user.public_key):
        raise KeysLocked()  # the key pair was replaced since
    cache[user.id] = private
    return private


def _private_key_from_token(user: User, token: ApiToken) -> bytes:
    clear = _bearer_token()
    if (
        token.user_id != user.id
        or clear is None
        or not hmac.compare_digest(hash_token(clear), token.token_hash)
    ):
        raise KeysLocked()
    if token.private_key_wrapped is None:
        raise KeysLocked(
            _l(
                "This API token cannot open sealed data: it was made while your keys were locked. "
                "Log in, then create a new token on your account page."
            )
        )
    try:
        return crypto.unwrap_with_key(
            _token_cipher_key(clear), token.private_key_wrapped, context=_token_context(token)
        )
    except DecryptionError as exc:
        raise KeysLocked() from exc


def attach_to_token(user: User, token: ApiToken, clear_token: str) -> bool:
    """Let a new API token open sealed data if the user's keys are unlocked now.

    Returns whether the token carries the key.
    """
    try:
        private = unlocked_private_key(user)
    except KeysLocked:
        return False
    token.private_key_wrapped = crypto.wrap_with_key(
        _token_cipher_key(clear_token), private, context=_token_context(token)
    )
    db.session.flush()
    audit.record(
        "keys.token_wrap",
        f"API token {token.name!r} of {user.email} can open sealed data",
        actor=user,
        obj=token,
        data={"prefix": token.prefix},
    )
    return True


def _forget_cached() -> None:
    if has_request_context():
        g.pop("_unlocked_keys", None)
        g.pop("_organisation_keys", None)


# --- organisation keys --------------------------------------------------------------------------


def is_member(user: User, organisation_id: int) -> bool:
    """An active monitor of that (monitor) organisation whom its members approved."""
    return bool(
        user.is_active
        and user.role is UserRole.monitor
        and user.organisation_id == organisation_id
        and not user.membership_pending
    )


def _refuse_pending(user: User) -> None:
    if user.role is UserRole.monitor and user.membership_pending:
        raise OperationError(
            _l(
                "A member of %(organisation)s has to approve you as a colleague first. They have been "
                "told of your account.",
                organisation=user.organisation.name,
            )
        )


def current_organisation_key(organisation: Organisation) -> OrganisationKey | None:
    """The newest version that is not retired: new data is sealed to it."""
    return db.session.scalar(
        select(OrganisationKey)
        .where(OrganisationKey.organisation_id == organisation.id, OrganisationKey.retired_dt.is_(None))
        .order_by(OrganisationKey.version.desc())
        .limit(1)
    )


def organisation_keys(organisation: Organisation) -> list[OrganisationKey]:
    """The organisation's key versions in use (not retired), newest first."""
    return list(
        db.session.scalars(
            select(OrganisationKey)
            .where(OrganisationKey.organisation_id == organisation.id, OrganisationKey.retired_dt.is_(None))
            .order_by(OrganisationKey.version.desc())
        )
    )


def organisation_private_key(user: User, organisation_key: OrganisationKey) -> bytes:
    """Open the organisation key version with the user's grant and unlocked private key."""
    if not is_member(user, organisation_key.organisation_id) or organisation_key.retired_dt is not None:
        raise NoKeyAccess()
    cache = g.setdefault("_organisation_keys", {}) if has_request_context() else {}
    if (user.id, organisation_key.id) in cache:
        return cache[(user.id, organisation_key.id)]  # type: ignore[no-any-return]
    wrapped = db.session.scalar(
        select(OrganisationKeyGrant.wrapped).where(
            OrganisationKeyGrant.organisation_key_id == organisation_key.id,
            OrganisationKeyGrant.user_id == user.id,
        )
    )
    if wrapped is None:
        raise NoKeyAccess()
    user_private = unlocked_private_key(user)
    try:
        private = crypto.unseal(user_private, wrapped, context=_grant_context(organisation_key.id, user.id))
    except DecryptionError as exc:
        logger.warning("grant of organisation key %s to user %s does not open", organisation_key.id, user.id)
        raise NoKeyAccess() from exc
    if not hmac.compare_digest(crypto.public_key_of(private), organisation_key.public_key):
        raise NoKeyAccess()
    cache[(user.id, organisation_key.id)] = private
    return private


def _grant(organisation_key: OrganisationKey, member: User, private: bytes, granter: User | None) -> None:
    """Seal a version's private key to a member's public key (replacing an older grant)."""
    assert member.public_key is not None
    wrapped = crypto.seal(member.public_key, private, context=_grant_context(organisation_key.id, member.id))
    grant = db.session.scalar(
        select(OrganisationKeyGrant).where(
            OrganisationKeyGrant.organisation_key_id == organisation_key.id,
            OrganisationKeyGrant.user_id == member.id,
        )
    )
    if grant is None:
        grant = OrganisationKeyGrant(organisation_key_id=organisation_key.id, user_id=member.id)
        db.session.add(grant)
    grant.wrapped = wrapped
    grant.granted_by_id = granter.id if granter is not None else None
    grant.created_dt = utcnow()


def _new_version(
    organisation: Organisation, recovery_public_key: bytes, created_by: User | None
) -> tuple[OrganisationKey, bytes]:
    latest = db.session.scalar(
        select(func.max(OrganisationKey.version)).where(OrganisationKey.organisation_id == organisation.id)
    )
    version = (latest or 0) + 1
    # Every new version is a post-quantum hybrid, whatever the versions before it were.
    private, public = crypto.generate_key_pair(KeyAlgorithm.mlkem768_x25519.value)
    key = OrganisationKey(
        organisation_id=organisation.id,
        version=version,
        algorithm=KeyAlgorithm.mlkem768_x25519,
        public_key=public,
        recovery_public_key=recovery_public_key,
        recovery_wrapped=crypto.seal(
            recovery_public_key, private, context=_recovery_context(organisation.id, version)
        ),
        created_by_id=created_by.id if created_by is not None else None,
    )
    db.session.add(key)
    db.session.flush()
    return key, private


def create_organisation_key(actor: User, organisation: Organisation, *, password: str | None = None) -> str:
    """Create the organisation's key, granted to ``actor``; return the recovery code to show once.

    Only a monitor of the organisation does this (never an administrator), with their keys
    unlocked, and only while the organisation has no key in use. Outside a request (the demo
    data) the monitor's ``password`` stands in for the unlocked key.
    """
    if actor.organisation_id == organisation.id:
        _refuse_pending(actor)
    if organisation.kind is not OrganisationKind.monitor or not is_member(actor, organisation.id):
        raise OperationError(_l("Only a monitor of this organisation can create its key."))
    if current_organisation_key(organisation) is not None:
        raise OperationError(_l("Your organisation has a key already."))
    require_own_key(actor)
    # Prove that the actor can open the grant made below.
    if password is None:
        unlocked_private_key(actor)
    else:
        try:
            _unwrap_for(actor, password)
        except DecryptionError as exc:
            raise KeysLocked() from exc
    secret = secrets.token_bytes(RECOVERY_SECRET_BYTES)
    recovery_private = _recovery_private_key(secret)
    key, private = _new_version(organisation, crypto.public_key_of(recovery_private), actor)
    _grant(key, actor, private, actor)
    db.session.flush()
    audit.record(
        "keys.organisation_create",
        f"{actor.email} created version {key.version} of the key of {organisation.name!r} "
        "and was shown its recovery code",
        actor=actor,
        obj=key,
        data={
            "organisation_id": organisation.id,
            "version": key.version,
            "fingerprint": fingerprint(key.public_key),
        },
    )
    return format_recovery_code(secret)


def grant_member(granter: User, member: User, *, expected_fingerprint: str | None = None) -> None:
    """Give a colleague access: seal every version the granter holds to the colleague's key.

    ``expected_fingerprint`` is the fingerprint the granter saw (and compared); the grant is
    refused if the colleague's key has changed since.
    """
    organisation = granter.organisation
    if not is_member(granter, organisation.id):
        raise OperationError(_l("Only a monitor of this organisation can grant access to its key."))
    if member.organisation_id == organisation.id and member.is_active and member.membership_pending:
        raise OperationError(
            _l("Approve %(name)s as a colleague first; then you can grant them access.", name=member.name)
        )
    if member.id == granter.id or not is_member(member, organisation.id):
        raise OperationError(_l("You can grant access only to an active colleague of your organisation."))
    require_own_key(member, actor=granter)
    if expected_fingerprint is not None and expected_fingerprint != fingerprint(member.public_key):
        raise OperationError(
            _l(
                "The key of %(name)s has changed since you looked at it. Compare the new fingerprint.",
                name=member.name,
            )
        )
    versions = organisation_keys(organisation)
    if not versions:
        raise OperationError(_l("Your organisation has no key yet."))
    granted = []
    for key in versions:
        try:
            private = organisation_private_key(granter, key)
        except NoKeyAccess:
            continue
        _grant(key, member, private, granter)
        granted.append(key.version)
    if not granted:
        raise NoKeyAccess()
    db.session.flush()
    audit.record(
        "keys.grant",
        f"{granter.email} granted {member.email} access to the key of {organisation.name!r}",
        actor=granter,
        obj=member,
        data={
            "organisation_id": organisation.id,
            "versions": granted,
            "fingerprint": fingerprint(member.public_key),
        },
    )


def rotate_organisation_key(actor: User | None, organisation: Organisation) -> OrganisationKey:
    """Make a new version for the members who remain, and the recovery key.

    Called when a member leaves. The new version is sealed to each remaining active member who
    held access (a grant of a version in use), so that nobody gains access through a rotation.
    Grants of people who are no longer members are deleted.
    """
    current = current_organisation_key(organisation)
    if current is None:
        raise ValueError(f"organisation {organisation.id} has no key to rotate")
    version_ids = select(OrganisationKey.id).where(OrganisationKey.organisation_id == organisation.id)
    in_use_ids = version_ids.where(OrganisationKey.retired_dt.is_(None))
    former = db.session.execute(
        delete(OrganisationKeyGrant)
        .where(
            OrganisationKeyGrant.organisation_key_id.in_(version_ids),
            OrganisationKeyGrant.user_id.not_in(_member_ids(organisation)),
        )
        .execution_options(synchronize_session=False)
    )
    members = db.session.scalars(
        select(User).where(
            User.id.in_(_member_ids(organisation)),
            User.public_key.is_not(None),
            User.id.in_(
                select(OrganisationKeyGrant.user_id).where(
                    OrganisationKeyGrant.organisation_key_id.in_(in_use_ids)
                )
            ),
        )
    ).all()
    key, private = _new_version(organisation, current.recovery_public_key, actor)
    for member in members:
        _grant(key, member, private, None)
    _forget_cached()
    db.session.flush()
    audit.record(
        "keys.organisation_rotate",
        f"Rotated the key of {organisation.name!r} to version {key.version} for {len(members)} members",
        actor=actor,
        obj=key,
        data={
            "organisation_id": organisation.id,
            "version": key.version,
            "members": [m.id for m in members],
            "former_grants_removed": former.rowcount or 0,
            "fingerprint": fingerprint(key.public_key),
            "algorithm": key.algorithm.value,
        },
    )
    return key


def _member_ids(organisation: Organisation) -> Any:
    """The active, approved monitors of the organisation."""
    return select(User.id).where(
        User.organisation_id == organisation.id,
        User.is_active.is_(True),
        User.role == UserRole.monitor,
        User.membership_approved_dt.is_not(None),
    )


def member_ids(organisation: Organisation) -> Any:
    """The ids of the organisation's active, approved monitors (a subquery)."""
    return _member_ids(organisation)


def colleague_ids(user: User) -> Any:
    """The other active, approved monitors of the user's organisation (none for other roles).

    A monitor awaiting approval has no colleagues yet, and is nobody's colleague.
    """
    if user.role is not UserRole.monitor or user.membership_pending:
        return select(User.id).where(false())
    return _member_ids(user.organisation).where(User.id != user.id)


def pending_member_ids(user: User) -> Any:
    """The monitors of the user's organisation who wait for approval (for an approved member)."""
    if user.role is not UserRole.monitor or user.membership_pending or not user.is_active:
        return select(User.id).where(false())
    return select(User.id).where(
        User.organisation_id == user.organisation_id,
        User.is_active.is_(True),
        User.role == UserRole.monitor,
        User.membership_approved_dt.is_(None),
    )


def remove_member(actor: User | None, user: User, organisation: Organisation) -> OrganisationKey | None:
    """A member left (deactivated or moved): delete their grants and rotate if they had any.

    Call it after the change, when the user no longer counts as a member. Returns the new
    version, or None when the user held no grant (nothing to rotate).
    """
    version_ids = select(OrganisationKey.id).where(OrganisationKey.organisation_id == organisation.id)
    held = db.session.execute(
        delete(OrganisationKeyGrant)
        .where(
            OrganisationKeyGrant.user_id == user.id, OrganisationKeyGrant.organisation_key_id.in_(version_ids)
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    _forget_cached()
    if not held or current_organisation_key(organisation) is None:
        return None
    return rotate_organisation_key(actor, organisation)


def retire_organisation_key(key: OrganisationKey, *, actor: User | None = None) -> None:
    """Retire a version nothing is sealed to any more: delete its grants; it opens nothing since.

    The caller makes sure no data uses it (re-wrap first). The newest version cannot be retired.
    """
    if key.retired_dt is not None:
        return
    current = current_organisation_key(key.organisation)
    if current is not None and current.id == key.id:
        raise ValueError("the newest key version of an organisation cannot be retired")
    grants = db.session.execute(
        delete(OrganisationKeyGrant)
        .where(OrganisationKeyGrant.organisation_key_id == key.id)
        .execution_options(synchronize_session=False)
    )
    key.retired_dt = utcnow()
    _forget_cached()
    db.session.flush()
    audit.record(
        "keys.organisation_retire",
        f"Retired version {key.version} of the key of {key.organisation.name!r}",
        actor=actor,
        obj=key,
        data={
            "organisation_id": key.organisation_id,
            "version": key.version,
            "grants_removed": grants.rowcount or 0,
        },
    )


# --- the recovery code --------------------------------------------------------------------------


def _recovery_private_key(secret: bytes) -> bytes:
    """The recovery key of new versions: a post-quantum hybrid derived from the code."""
    return crypto.derive_private_key(secret, purpose="organisation-recovery-key", suite=crypto.SUITE_HYBRID)


def _recovery_private_for(secret: bytes, recovery_public_key: bytes) -> bytes | None:
    """The private recovery key the code gives for a version's recovery key, if it is its code.

    Versions made before December 2026 have an X25519 recovery key, derived from the same code.
    """
    for suite in (crypto.SUITE_HYBRID, crypto.SUITE_X25519):
        private = crypto.derive_private_key(secret, purpose="organisation-recovery-key", suite=suite)
        if hmac.compare_digest(crypto.public_key_of(private), recovery_public_key):
            return private
    return None


def _checksum(secret: bytes) -> int:
    digest = hashlib.sha256(b"monitoring recovery code\0" + secret).digest()
    return int.from_bytes(digest[:4], "big") >> (32 - _CHECKSUM_BITS)


def format_recovery_code(secret: bytes) -> str:
    """Write a recovery secret as 52 base32 characters in groups of four, with a checksum."""
    value = (int.from_bytes(secret, "big") << _CHECKSUM_BITS) | _checksum(secret)
    chars = [_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(RECOVERY_CODE_LENGTH))]
    return "-".join("".join(chars[i : i + 4]) for i in range(0, RECOVERY_CODE_LENGTH, 4))


def parse_recovery_code(text: str) -> bytes:
    """Read a recovery code as typed (any case, spaces or dashes, O for 0, I or L for 1)."""
    cleaned = "".join(ch for ch in text.upper() if not ch.isspace() and ch not in "-_.")
    cleaned = "".join(_READ_AS.get(ch, ch) for ch in cleaned)
    if len(cleaned) != RECOVERY_CODE_LENGTH or any(ch not in _ALPHABET for ch in cleaned):
        raise OperationError(
            _l(
                "A recovery code has %(num)d letters and digits in groups of four. Please check it.",
                num=RECOVERY_CODE_LENGTH,
            ),
            field="recovery_code",
        )
    value = 0
    for ch in cleaned:
        value = (value << 5) | _ALPHABET.index(ch)
    secret = (value >> _CHECKSUM_BITS).to_bytes(RECOVERY_SECRET_BYTES, "big")
    if value & ((1 << _CHECKSUM_BITS) - 1) != _checksum(secret):
        raise OperationError(
            _l("This recovery code contains a typing error. Please check each group of four."),
            field="recovery_code",
        )
    return secret


def recover(user: User, organisation: Organisation, recovery_code: str) -> None:
    """Grant the user every version in use, opened with the organisation's recovery code."""
    if user.organisation_id == organisation.id:
        _refuse_pending(user)
    if not is_member(user, organisation.id):
        raise OperationError(_l("Only a monitor of this organisation can use its recovery code."))
    require_own_key(user)
    matches = _versions_of_recovery_code(user, organisation, parse_recovery_code(recovery_code))
    versions = [key for key, _recovery in matches]
    for key, recovery_private in matches:
        _grant(key, user, _open_with_recovery(key, recovery_private), user)
    _forget_cached()
    db.session.flush()
    audit.record(
        "keys.recover",
        f"{user.email} regained access to the key of {organisation.name!r} with the recovery code",
        actor=user,
        obj=user,
        data={"organisation_id": organisation.id, "versions": [k.version for k in versions]},
    )


def _versions_of_recovery_code(
    actor: User | None, organisation: Organisation, secret: bytes
) -> list[tuple[OrganisationKey, bytes]]:
    """The versions in use whose recovery key the code gives, each with that private key."""
    found = []
    for key in organisation_keys(organisation):
        private = _recovery_private_for(secret, key.recovery_public_key)
        if private is not None:
            found.append((key, private))
    if not found:
        logger.warning("user %s entered a recovery code that is not their organisation's", actor and actor.id)
        raise OperationError(
            _l("This is not the recovery code of your organisation's key."), field="recovery_code"
        )
    return found


def _open_with_recovery(key: OrganisationKey, recovery_private: bytes) -> bytes:
    """Open a version's private key with its recovery key; an OperationError if it does not."""
    context = _recovery_context(key.organisation_id, key.version)
    try:
        private = crypto.unseal(recovery_private, key.recovery_wrapped, context=context)
        if not hmac.compare_digest(crypto.public_key_of(private), key.public_key):
            raise DecryptionError()
    except DecryptionError as exc:
        logger.error(
            "version %s of organisation %s does not open with its recovery key", key.id, key.organisation_id
        )
        raise OperationError(_l("The recovery key does not open your organisation's key.")) from exc
    return private


def recovery_opener(organisation: Organisation, recovery_code: str) -> Callable[[OrganisationKey], bytes]:
    """Open the organisation's versions in use with its recovery code (the command line's way).

    Raises OperationError at once if the code is not the organisation's; the function returned
    raises NoKeyAccess for a version the code does not open.
    """
    secret = parse_recovery_code(recovery_code)
    _versions_of_recovery_code(None, organisation, secret)
    opened: dict[int, bytes] = {}

    def open_version(key: OrganisationKey) -> bytes:
        if key.organisation_id != organisation.id or key.retired_dt is not None:
            raise NoKeyAccess()
        if key.id not in opened:
            recovery_private = _recovery_private_for(secret, key.recovery_public_key)
            if recovery_private is None:
                raise NoKeyAccess()
            try:
                opened[key.id] = _open_with_recovery(key, recovery_private)
            except OperationError as exc:
                raise NoKeyAccess() from exc
        return opened[key.id]

    return open_version


def upgrade_recovery_key(actor: User, organisation: Organisation, recovery_code: str) -> list[int]:
    """Seal every version in use to the post-quantum recovery key of the same recovery code.

    Versions made before December 2026 are sealed to an X25519 recovery key, which a quantum
    computer could break from the database alone. The code stays the same: the hybrid recovery
    key is derived from it too. Returns the versions re-sealed.
    """
    if not is_member(actor, organisation.id):
        raise OperationError(_l("Only a monitor of this organisation can use its recovery code."))
    secret = parse_recovery_code(recovery_code)
    hybrid_private = _recovery_private_key(secret)
    hybrid_public = crypto.public_key_of(hybrid_private)
    upgraded = []
    for key, recovery_private in _versions_of_recovery_code(actor, organisation, secret):
        if hmac.compare_digest(key.recovery_public_key, hybrid_public):
            continue
        private = _open_with_recovery(key, recovery_private)
        key.recovery_public_key = hybrid_public
        key.recovery_wrapped = crypto.seal(
            hybrid_public, private, context=_recovery_context(organisation.id, key.version)
        )
        upgraded.append(key.version)
    db.session.flush()
    if upgraded:
        audit.record(
            "keys.recovery_upgrade",
            f"{actor.email} sealed versions {upgraded} of the key of {organisation.name!r} to the "
            "post-quantum recovery key",
            actor=actor,
            obj=organisation,
            data={"organisation_id": organisation.id, "versions": upgraded},
        )
    return upgraded


def remember_recovery_code(user: User, code: str) -> None:
    """Keep a new recovery code in the session (encrypted like the key) until it is confirmed."""
    _session_put(_SESSION_RECOVERY, user, code.encode())


def pending_recovery_code(user: User) -> str | None:
    secret = _session_get(_SESSION_RECOVERY, user)
    return secret.decode() if secret is not None else None


def forget_recovery_code() -> None:
    session.pop(_SESSION_RECOVERY, None)


# --- what the "Keys and access" page shows ------------------------------------------------------


@dataclass(frozen=True)
class VersionStatus:
    key: OrganisationKey
    fingerprint: str
    has_access: bool
    members_with_access: int


@dataclass(frozen=True)
class ColleagueStatus:
    user: User
    fingerprint: str
    has_access: bool  # holds a grant of the newest version

    @property
    def key_created_dt(self) -> datetime | None:
        return self.user.key_created_dt

    @property
    def key_origin(self) -> KeyOrigin | None:
        return self.user.key_origin


@dataclass(frozen=True)
class KeyStatus:
    has_keys: bool
    unlocked: bool
    fingerprint: str
    organisation_has_key: bool
    has_access: bool  # to the newest version
    versions: list[VersionStatus]
    colleagues: list[ColleagueStatus]
    key_created_dt: datetime | None = None
    key_origin: KeyOrigin | None = None
    keys_reset_dt: datetime | None = None
    membership_pending: bool = False  # a monitor not yet approved by their organisation
    pending: list[User] = field(default_factory=list)  # colleagues waiting for approval

    @property
    def has_every_version(self) -> bool:
        return all(v.has_access for v in self.versions)

    @property
    def waiting(self) -> list[ColleagueStatus]:
        """Colleagues who have a key but no access yet."""
        return [c for c in self.colleagues if not c.has_access and c.fingerprint]


def key_status(user: User) -> KeyStatus:
    """The state of the user's keys and, for a monitor, of their organisation's (bounded queries)."""
    try:
        unlocked_private_key(user)
        unlocked = True
    except KeysLocked:
        unlocked = False
    versions: list[VersionStatus] = []
    colleagues: list[ColleagueStatus] = []
    has_access = False
    organisation_has_key = False
    pending: list[User] = []
    if user.role is UserRole.monitor and not user.membership_pending:
        keys = organisation_keys(user.organisation)
        organisation_has_key = bool(keys)
        grants = (
            db.session.execute(
                select(OrganisationKeyGrant.organisation_key_id, OrganisationKeyGrant.user_id).where(
                    OrganisationKeyGrant.organisation_key_id.in_([k.id for k in keys])
                )
            ).all()
            if keys
            else []
        )
        holders: dict[int, set[int]] = {}
        for key_id, user_id in grants:
            holders.setdefault(key_id, set()).add(user_id)
        versions = [
            VersionStatus(
                k, fingerprint(k.public_key), user.id in holders.get(k.id, set()), len(holders.get(k.id, ()))
            )
            for k in keys
        ]
        newest = holders.get(keys[0].id, set()) if keys else set()
        has_access = user.id in newest
        members = db.session.scalars(
            select(User).where(User.id.in_(colleague_ids(user))).order_by(User.name, User.id)
        ).all()
        colleagues = [ColleagueStatus(m, fingerprint(m.public_key), m.id in newest) for m in members]
        pending = list(
            db.session.scalars(
                select(User).where(User.id.in_(pending_member_ids(user))).order_by(User.created_dt, User.id)
            )
        )
    return KeyStatus(
        has_keys=user.public_key is not None,
        unlocked=unlocked,
        fingerprint=fingerprint(user.public_key),
        organisation_has_key=organisation_has_key,
        has_access=has_access,
        versions=versions,
        colleagues=colleagues,
        key_created_dt=user.key_created_dt,
        key_origin=user.key_origin,
        keys_reset_dt=user.keys_reset_dt,
        membership_pending=user.membership_pending,
        pending=pending,
    )
