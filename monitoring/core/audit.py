"""Append-only, hash-chained audit log.

Each entry's hash is an HMAC (key kept outside the database) over its content and the
previous entry's hash, so an edit, a deletion or an insertion anywhere breaks the chain
from that entry on, and ``flask audit verify`` names the first broken entry. The single
``audit_head`` row is locked while appending, so concurrent writers keep one chain, and it
records the last hash, so a truncated tail is detected too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from flask import current_app, has_request_context, request
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitoring.core.db import Base, db
from monitoring.core.types import UTCDateTime, utcnow

logger = logging.getLogger(__name__)

GENESIS = "0" * 64

# Keys that must never reach the audit data, whatever a caller passes.
FORBIDDEN_KEYS = frozenset({"password", "password_hash", "token", "secret", "code", "key"})


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    actor = relationship("User", lazy="joined")

    @property
    def data_dict(self) -> dict[str, Any]:
        return json.loads(self.data)


class AuditHead(Base):
    """The single row that serialises appends and remembers the end of the chain."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


def _canonical(entry: AuditEntry) -> bytes:
    fields = [
        str(entry.id),
        entry.created_dt.isoformat(timespec="microseconds"),
        str(entry.actor_id or ""),
        entry.action,
        entry.object_type or "",
        entry.object_id or "",
        entry.summary,
        entry.data,
        entry.prev_hash,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(key: bytes, entry: AuditEntry) -> str:
    return hmac.new(key, _canonical(entry), hashlib.sha256).hexdigest()


def _audit_key() -> bytes:
    return str(current_app.config["AUDIT_KEY"]).encode()


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    bad = FORBIDDEN_KEYS.intersection(k.lower() for k in data)
    if bad:
        raise ValueError(f"audit data must not hold secrets: {sorted(bad)}")
    return data


def record(
    action: str,
    summary: str,
    *,
    actor: Any = None,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an audit entry to the current transaction (the caller commits).

    ``summary`` is plain English, never translated; ``data`` holds field changes and
    context, never secrets.
    """
    # current_user is a proxy: audit the object behind it.
    obj = obj._get_current_object() if hasattr(obj, "_get_current_object") else obj
    actor = actor._get_current_object() if hasattr(actor, "_get_current_object") else actor
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    session = db.session
    head = session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
    payload = dict(_clean(data or {}))
    if has_request_context() and request.endpoint:
        payload.setdefault("endpoint", request.endpoint)
    elif (command := click.get_current_context(silent=True)) is not None:
        payload.setdefault("cli", command.command_path)
    entry = AuditEntry(
        created_dt=utcnow(),
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        summary=summary,
        data=json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False),
        prev_hash=head.last_hash,
        hash=secrets.token_hex(32),  # placeholder until the id is known
    )
    session.add(entry)
    session.flush()
    entry.hash = compute_hash(_audit_key(), entry)
    head.last_id = entry.id
    head.last_hash = entry.hash
    session.flush()
    logger.info("audit %s %s:%s by %s: %s", action, object_type, object_id, entry.actor_id, summary)
    return entry


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify_chain(key: bytes, batch: int = 1000) -> VerifyResult:
    """Walk the whole chain in id order and report the first broken entry."""
    session = db.session
    prev_hash = GENESIS
    checked = 0
    last_id = 0
    while True:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not entries:
            break
        for entry in entries:
            if entry.prev_hash != prev_hash:
                return VerifyResult(
                    False,
                    checked,
                    entry.id,
                    "does not follow the previous entry (one was removed or inserted)",
                )
            if not hmac.compare_digest(entry.hash, compute_hash(key, entry)):
                return VerifyResult(False, checked, entry.id, "its content was changed")
            prev_hash = entry.hash
            last_id = entry.id
            checked += 1
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev_hash or head.last_id != last_id):
        return VerifyResult(
            False, checked, head.last_id, "the chain ends before its recorded head (entries were removed)"
        )
    return VerifyResult(True, checked)
