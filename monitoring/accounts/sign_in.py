"""Signing in: the password check at login and on request, throttled per account and address.

Failed attempts are recorded (and audited) by the operations here; the page that answers the
refusal keeps them with ``core.transactions.keep_failed_attempt()`` before its error answer.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from monitoring.accounts import devices
from monitoring.accounts.models import LoginAttempt, User
from monitoring.accounts.passwords import (
    check_password,
    hash_password,
    normalise_email,
    password_needs_rehash,
)
from monitoring.core import audit, crypto
from monitoring.core.db import db
from monitoring.core.types import utcnow

logger = logging.getLogger(__name__)


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
    return int(getattr(result, "rowcount", 0) or 0)
