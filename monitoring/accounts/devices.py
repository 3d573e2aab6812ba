"""Device cookies: a browser that completed a login keeps an allowance of failed logins of its own.

Five wrong passwords lock an account name for a while; without more, anyone who knows a
monitor's e-mail address could keep them locked out for good. So, following OWASP's "device
cookie" pattern, a browser in which a user completed a login (password and, where needed,
the second factor) is given a cookie naming that user and a random nonce, MAC'd under a key
derived from ``SECRET_KEY`` (HKDF, purpose ``device-cookie``). Failed logins from a browser that
presents a valid cookie *for the account it tries* count against that cookie only, and after
``LOGIN_MAX_FAILURES_PER_DEVICE`` failures the cookie itself is locked for the throttle window;
failures from every other client count against the account's lock-out, as before. The limit
per client address applies to both.

The cookie counts only when its nonce is registered (:class:`TrustedDevice`, which stores its
SHA-256): a cookie forged with ``SECRET_KEY`` and a copied database still counts for nothing.
One browser may hold cookies for a few people (a shared office computer), newest first.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import Response, after_this_request, current_app, request
from sqlalchemy import delete, select

from monitoring.accounts.models import TrustedDevice, User
from monitoring.core import crypto
from monitoring.core.db import db
from monitoring.core.types import utcnow

logger = logging.getLogger(__name__)

# The most people one browser keeps device cookies for; the oldest drops out.
MAX_ENTRIES = 5
_ENTRY_SEPARATOR = "~"
_MAX_COOKIE_LENGTH = 1024


@dataclass(frozen=True)
class DeviceClaim:
    """One entry of a device cookie whose MAC is valid (whether it is registered is checked later)."""

    user_id: int
    nonce: str


@functools.cache
def _mac_key(secret: str) -> bytes:
    return crypto.derive_key(secret.encode(), purpose="device-cookie")


def _mac(user_id: int, nonce: str) -> str:
    key = _mac_key(str(current_app.config["SECRET_KEY"]))
    digest = hmac.new(key, f"{user_id}.{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hash_nonce(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def encode(claims: Sequence[DeviceClaim]) -> str:
    return _ENTRY_SEPARATOR.join(f"{c.user_id}.{c.nonce}.{_mac(c.user_id, c.nonce)}" for c in claims)


def decode(raw: str | None) -> list[DeviceClaim]:
    """The entries of a cookie value whose MAC is right; anything else is ignored."""
    if not raw or len(raw) > _MAX_COOKIE_LENGTH:
        return []
    claims = []
    for entry in raw.split(_ENTRY_SEPARATOR)[:MAX_ENTRIES]:
        user_id, _, rest = entry.partition(".")
        nonce, _, mac = rest.partition(".")
        if not (user_id.isascii() and user_id.isdigit() and nonce and mac):
            continue
        if hmac.compare_digest(mac, _mac(int(user_id), nonce)):
            claims.append(DeviceClaim(int(user_id), nonce))
    return claims


def find_device(user: User | None, claims: Sequence[DeviceClaim]) -> TrustedDevice | None:
    """The registered, unexpired device among ``claims`` that belongs to ``user``, if any."""
    if user is None:
        return None
    hashes = [_hash_nonce(c.nonce) for c in claims if c.user_id == user.id]
    if not hashes:
        return None
    cutoff = utcnow() - timedelta(days=current_app.config["LOGIN_DEVICE_DAYS"])
    return db.session.scalar(
        select(TrustedDevice)
        .where(
            TrustedDevice.user_id == user.id,
            TrustedDevice.nonce_hash.in_(hashes),
            TrustedDevice.created_dt >= cutoff,
        )
        .order_by(TrustedDevice.id.desc())
        .limit(1)
    )


def trust(user: User, claims: Sequence[DeviceClaim]) -> list[DeviceClaim]:
    """Register a new device cookie for ``user``; return the browser's new list of entries.

    The user's old entry in this browser is replaced (and its row deleted), so a cookie is
    renewed at every completed login; other people's entries stay.
    """
    old = [_hash_nonce(c.nonce) for c in claims if c.user_id == user.id]
    if old:
        db.session.execute(
            delete(TrustedDevice).where(TrustedDevice.user_id == user.id, TrustedDevice.nonce_hash.in_(old))
        )
    nonce = secrets.token_urlsafe(24)
    db.session.add(TrustedDevice(user_id=user.id, nonce_hash=_hash_nonce(nonce), created_dt=utcnow()))
    db.session.flush()
    others = [c for c in claims if c.user_id != user.id]
    return [DeviceClaim(user.id, nonce), *others][:MAX_ENTRIES]


def purge_expired_devices() -> int:
    """Delete device registrations older than ``LOGIN_DEVICE_DAYS``; return how many."""
    cutoff = utcnow() - timedelta(days=current_app.config["LOGIN_DEVICE_DAYS"])
    result = db.session.execute(delete(TrustedDevice).where(TrustedDevice.created_dt < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


# --- the cookie in a request ----------------------------------------------------------------


def cookie_name() -> str:
    return "__Host-device" if current_app.config["SESSION_COOKIE_SECURE"] else "device"


def request_claims() -> list[DeviceClaim]:
    """The valid entries of the device cookie this request carries."""
    return decode(request.cookies.get(cookie_name()))


def remember_browser(user: User) -> None:
    """After a completed login: register this browser for ``user`` and send it the cookie.

    The caller commits; the cookie is set on the response of this request.
    """
    claims = trust(user, request_claims())
    value = encode(claims)
    max_age = int(timedelta(days=current_app.config["LOGIN_DEVICE_DAYS"]).total_seconds())

    @after_this_request
    def set_cookie(response: Response) -> Response:
        response.set_cookie(
            cookie_name(),
            value,
            max_age=max_age,
            httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            samesite="Lax",
            path="/",
        )
        return response
