"""Secrets held in the server-side session for a moment, unreadable from the database.

A new API token to show once, a temporary password, a recovery code awaiting confirmation, a
member's unlocked private key: each is encrypted (AES-256-GCM) under a key derived from the id
the session cookie holds, which the database never stores (it keeps only the id's SHA-256). A
copy of the ``web_session`` table therefore opens none of them. Each secret is bound to its
name and to the user it belongs to.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import has_request_context, session

from monitoring.core import crypto
from monitoring.core.crypto import DecryptionError


class NoSessionKey(Exception):
    """The request has no session cookie id to derive the key from."""


def _key() -> bytes:
    cookie_id = getattr(session, "cookie_id", None) if has_request_context() else None
    if not cookie_id:
        raise NoSessionKey()
    return crypto.derive_key(cookie_id.encode(), purpose="session-secrets")


def put(name: str, owner_id: int, secret: bytes) -> None:
    """Keep ``secret`` in the session under ``name``, for the user ``owner_id`` only."""
    blob = crypto.wrap_with_key(_key(), secret, context=(name, owner_id))
    session[name] = {"user": owner_id, "blob": base64.b64encode(blob).decode()}


def get(name: str, owner_id: int) -> bytes | None:
    """The secret kept under ``name`` for ``owner_id``, or None (absent, another user's, unreadable)."""
    entry: Any = session.get(name) if has_request_context() else None
    if not isinstance(entry, dict) or entry.get("user") != owner_id:
        return None
    try:
        blob = base64.b64decode(entry["blob"], validate=True)
        return crypto.unwrap_with_key(_key(), blob, context=(name, owner_id))
    except (DecryptionError, KeyError, TypeError, ValueError, NoSessionKey):
        return None


def pop(name: str, owner_id: int) -> bytes | None:
    """:func:`get`, and forget the secret."""
    secret = get(name, owner_id)
    if has_request_context():
        session.pop(name, None)
    return secret
