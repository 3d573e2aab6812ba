"""A member's key pair: how it is made, wrapped under their password, bound and dropped."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from flask import current_app, g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from monitoring.accounts.models import (
    ApiToken,
    KeyOrigin,
    OrganisationKeyGrant,
    User,
)
from monitoring.core import audit, crypto, hooks
from monitoring.core.crypto import DecryptionError
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow

logger = logging.getLogger(__name__)


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
    """Delete the user's key pair, every grant sealed to it and every API token's copy of it.

    Whatever other features sealed to the key goes too: they answer ``user_key_dropped``.
    """
    grants = db.session.execute(delete(OrganisationKeyGrant).where(OrganisationKeyGrant.user_id == user.id))
    removed: dict[str, int] = {}
    hooks.user_key_dropped.send(user=user, removed=removed)
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.private_key_wrapped.is_not(None))
    ).all()
    for token in tokens:
        token.private_key_wrapped = None
    data = {
        "fingerprint": fingerprint(user.public_key),
        "reason": reason,
        "grants_removed": _rowcount(grants),
        **removed,
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


def _rowcount(result: Any) -> int:
    """How many rows a bulk DELETE or UPDATE touched (0 when the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _forget_cached() -> None:
    if has_request_context():
        g.pop("_unlocked_keys", None)
        g.pop("_organisation_keys", None)
