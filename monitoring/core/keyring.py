"""The server keyring in the app: protect/unprotect, protected attributes, rotation.

Models declare a protected value as a :class:`~monitoring.core.crypto.ProtectedBytes` column
plus a :class:`protected` attribute that reads and writes its plaintext::

    summary_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)
    summary = protected("summary_ct")

The ciphertext is bound to the table, the column and the row id, so the row must have been
flushed (have an id) before a protected value is set. Every ProtectedBytes column is found
in the mapped models, so that ``flask keys rewrap`` can move it to the active key and
``flask keys retire`` can tell whether a key is still used.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitoring.core import crypto
from monitoring.core.crypto import DecryptionError, Keyring, KeyringError

logger = logging.getLogger(__name__)

_EXTENSION = "monitoring.keyring"
_EXTENSION_ERROR = "monitoring.keyring_error"


def init_keyring(app: Flask) -> None:
    """Load the keyring; a missing or unreadable one is remembered, not raised.

    ``flask keys init`` creates the first keyring, so the app must be made without one; whatever
    needs the keyring later raises the error (the serving start-up check does so first, see
    :mod:`monitoring.core.startup`).
    """
    try:
        app.extensions[_EXTENSION] = crypto.load_keyring(app.config)
    except KeyringError as exc:
        app.extensions[_EXTENSION] = None
        app.extensions[_EXTENSION_ERROR] = str(exc)


def current_keyring() -> Keyring:
    """The app's keyring; :class:`KeyringError` (saying how to make one) when it has none."""
    keyring = current_app.extensions[_EXTENSION]
    if keyring is None:
        raise KeyringError(current_app.extensions[_EXTENSION_ERROR])
    return keyring


def set_keyring(app: Flask, keyring: Keyring) -> None:
    """Replace the keyring an app uses (after ``flask keys rotate`` or in tests)."""
    app.extensions[_EXTENSION] = keyring


def protect(plaintext: bytes, *, table: str, column: str, row: object) -> bytes:
    return current_keyring().encrypt(plaintext, table=table, column=column, row=row)


def unprotect(blob: bytes, *, table: str, column: str, row: object) -> bytes:
    """Decrypt a protected value; a failure is logged (without content) and re-raised."""
    try:
        return current_keyring().decrypt(blob, table=table, column=column, row=row)
    except DecryptionError:
        logger.warning("protected value in %s.%s row %s failed to decrypt", table, column, row)
        raise


@dataclass(frozen=True)
class ProtectedColumn:
    model: Any
    column: str

    @property
    def table(self) -> str:
        return self.model.__tablename__


def protected_columns() -> list[ProtectedColumn]:
    """Every :class:`~monitoring.core.crypto.ProtectedBytes` column of every mapped model."""
    from monitoring.core.db import Base

    found = []
    for mapper in Base.registry.mappers:
        for attr in mapper.column_attrs:
            if any(isinstance(col.type, crypto.ProtectedBytes) for col in attr.columns):
                found.append(ProtectedColumn(mapper.class_, attr.key))
    return sorted(found, key=lambda c: (c.table, c.column))


class protected:  # lower case: declared like a column
    """The plaintext (text) view of a protected column of the same model."""

    def __init__(self, column: str) -> None:
        self.column = column

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        blob = getattr(obj, self.column)
        if blob is None:
            return None
        return unprotect(blob, table=obj.__tablename__, column=self.column, row=obj.id).decode()

    def __set__(self, obj: Any, value: str | None) -> None:
        if value is None:
            setattr(obj, self.column, None)
            return
        if obj.id is None:
            raise RuntimeError(f"flush {type(obj).__name__} before setting {self.name}")
        blob = protect(value.encode(), table=obj.__tablename__, column=self.column, row=obj.id)
        setattr(obj, self.column, blob)


def key_usage(session: Session) -> dict[tuple[str, str], Counter[str]]:
    """Count, per protected column, the ciphertexts under each key id."""
    usage: dict[tuple[str, str], Counter[str]] = {}
    for entry in protected_columns():
        col = getattr(entry.model, entry.column)
        counts: Counter[str] = Counter()
        for (blob,) in session.execute(select(col).where(col.is_not(None))).yield_per(1000):
            counts[crypto.key_id_of(blob)] += 1
        usage[(entry.table, entry.column)] = counts
    return usage


def rewrap_batch(session: Session, *, batch_size: int = 500) -> int:
    """Re-encrypt up to ``batch_size`` protected values that are not under the active key.

    Returns how many were re-encrypted; 0 means nothing is left. Each call is independent, so
    an interrupted re-wrap simply resumes with the next call. The caller commits.
    """
    keyring = current_keyring()
    active_prefix = crypto.protected_prefix(keyring.active)
    done = 0
    for entry in protected_columns():
        model = entry.model
        col = getattr(model, entry.column)
        stale = (
            col.is_not(None),
            func.substr(col, 1, len(active_prefix)) != active_prefix,
        )
        rows = session.execute(
            select(model.id, col).where(*stale).order_by(model.id).limit(batch_size - done)
        ).all()
        for row_id, blob in rows:
            plaintext = keyring.decrypt(blob, table=entry.table, column=entry.column, row=row_id)
            new = keyring.encrypt(plaintext, table=entry.table, column=entry.column, row=row_id)
            session.execute(update(model).where(model.id == row_id, col == blob).values({entry.column: new}))
            done += 1
        if done >= batch_size:
            break
    return done
