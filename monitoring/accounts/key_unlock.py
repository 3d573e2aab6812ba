"""Unlocking a member's private key: kept in the session at login, carried by API tokens."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import g, has_request_context, request
from flask_babel import lazy_gettext as _l

from monitoring.accounts.key_material import KeysLocked, _password_kdf, _token_context, _unwrap_for, _wrap_for
from monitoring.accounts.models import (
    ApiToken,
    User,
)
from monitoring.core import audit, crypto, session_secrets
from monitoring.core.auth import hash_token
from monitoring.core.crypto import DecryptionError
from monitoring.core.db import db

logger = logging.getLogger(__name__)

# Where the unlocked private key lives in the session.
_SESSION_KEY = "_unlocked_key"

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
    cache: dict[int, bytes] = g.setdefault("_unlocked_keys", {})
    if user.id in cache:
        return cache[user.id]
    token = g.get("api_token")
    stored = _private_key_from_token(user, token) if token is not None else _session_get(_SESSION_KEY, user)
    if stored is None:
        raise KeysLocked()
    private: bytes = stored
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
