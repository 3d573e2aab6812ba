"""Append-only, hash-chained audit log.

Each entry's hash is an HMAC (key kept outside the database) over its content and the
previous entry's hash, so an edit, a deletion or an insertion anywhere breaks the chain
from that entry on, and ``flask audit verify`` names the first broken entry. The single
``audit_head`` row is locked while appending, so concurrent writers keep one chain, and it
records the last hash, so a truncated tail is detected too.

Someone who can write to the database and knows the audit key could still cut the tail off
and move the head back. So ``flask jobs run`` anchors the chain outside the database: it
appends a signed *checkpoint* (entry count, last id, head hash, time) to a file
(``MONITORING_AUDIT_CHECKPOINT_FILE``) and to the log (logger ``monitoring.audit.checkpoint``,
kept by syslog or journald), and ``flask audit verify`` holds the chain against every
checkpoint. Checkpoints are signed with an Ed25519 key derived from the audit key (HKDF,
purpose ``audit-checkpoint``) and each names the signature of the one before it, so a line
edited, removed or reordered in the file is detected; a witness holding only the public key
(``flask audit checkpoint`` prints it) can check the log copies without being able to forge
one. The head row also keeps a key-check value, so a wrong audit key reads as "the key does
not match this database", not as tampering, and no entry is ever chained under a wrong key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import click
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app, has_request_context, request
from sqlalchemy import (
    CheckConstraint,
    Connection,
    ForeignKey,
    Integer,
    Row,
    String,
    Table,
    Text,
    event,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    mapped_column,
    relationship,
)
from sqlalchemy.orm.util import identity_key

from monitoring.core.crypto import derive_key
from monitoring.core.db import Base, db
from monitoring.core.types import UTCDateTime, utcnow

logger = logging.getLogger(__name__)
# Checkpoints go to their own logger, so syslog or journald can keep them apart.
checkpoint_logger = logging.getLogger("monitoring.audit.checkpoint")

GENESIS = "0" * 64
# HMAC'ed under the audit key into ``audit_head.key_check``: tells a wrong key from tampering.
KEY_CHECK_LABEL = b"monitoring/audit key check/v1"
CHECKPOINT_VERSION = 1
CHECKPOINT_CONTEXT = b"monitoring/audit checkpoint/v1\n"

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
    # HMAC of KEY_CHECK_LABEL under the audit key the chain is written with (NULL before the
    # first entry written since it was added).
    key_check: Mapped[str | None] = mapped_column(String(64))


def _canonical_fields(
    entry_id: int,
    created_dt: datetime,
    actor_id: int | None,
    action: str,
    object_type: str | None,
    object_id: str | None,
    summary: str,
    data: str,
    prev_hash: str,
) -> bytes:
    fields = [
        str(entry_id),
        created_dt.isoformat(timespec="microseconds"),
        str(actor_id or ""),
        action,
        object_type or "",
        object_id or "",
        summary,
        data,
        prev_hash,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def _canonical(entry: AuditEntry) -> bytes:
    return _canonical_fields(
        entry.id,
        entry.created_dt,
        entry.actor_id,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.summary,
        entry.data,
        entry.prev_hash,
    )


def compute_hash(key: bytes, entry: AuditEntry) -> str:
    return hmac.new(key, _canonical(entry), hashlib.sha256).hexdigest()


def audit_key() -> bytes:
    """The key of the chain's HMACs (MONITORING_AUDIT_KEY), kept outside the database."""
    return str(current_app.config["AUDIT_KEY"]).encode()


def key_check_value(key: bytes) -> str:
    return hmac.new(key, KEY_CHECK_LABEL, hashlib.sha256).hexdigest()


class AuditKeyMismatch(RuntimeError):
    """The configured audit key is not the one this database's chain is written with."""


def _check_key(session: Session, last_id: int, stored_check: str | None, key: bytes) -> str | None:
    """Refuse to chain an entry under a key other than the chain's.

    Returns the key-check value to store when the head has none yet (a head from before the key
    check existed gets it once the newest entry proves the key right), else None.
    """
    expected = key_check_value(key)
    if stored_check is None:
        last = session.get(AuditEntry, last_id) if last_id else None
        if last is not None and not hmac.compare_digest(last.hash, compute_hash(key, last)):
            raise AuditKeyMismatch(
                "the audit key does not match the newest audit entry; refusing to extend the chain"
            )
        return expected
    if not hmac.compare_digest(stored_check, expected):
        raise AuditKeyMismatch(
            "the audit key (MONITORING_AUDIT_KEY) does not match this database; refusing to extend the chain"
        )
    return None


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    bad = FORBIDDEN_KEYS.intersection(k.lower() for k in data)
    if bad:
        raise ValueError(f"audit data must not hold secrets: {sorted(bad)}")
    return data


# The chain is extended with plain statements, outside the unit of work: an entry is never read
# back in the request that writes it, so it need not be an object of the session.
_ENTRY = cast(Table, AuditEntry.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_LOCK_HEAD = (
    select(_HEAD.c.last_id, _HEAD.c.last_hash, _HEAD.c.key_check).where(_HEAD.c.id == 1).with_for_update()
)
_INSERT_ENTRY = insert(_ENTRY)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1)
_HEAD_IDENTITY = identity_key(AuditHead, 1)

# Where a session keeps the end of the chain it has locked and moved in the current transaction.
_HELD_HEAD = "audit.held_head"


@dataclass(frozen=True, slots=True)
class Recorded:
    """An entry :func:`record` appended: its id and hash, and what it follows."""

    id: int
    hash: str
    prev_hash: str
    created_dt: datetime
    action: str


@dataclass(slots=True)
class _Held:
    """The chain's end as this transaction left it, under the audit key it was written with."""

    last_id: int
    last_hash: str
    key: bytes


def _orm_head(session: Session) -> AuditHead | None:
    """The head row as an object of the session, if something loaded it (tests, verification)."""
    return cast("AuditHead | None", session.identity_map.get(_HEAD_IDENTITY))


def _held_head(session: Session, key: bytes) -> _Held | None:
    """The end of the chain this transaction has already locked and moved, if any.

    After an entry is appended the head row stays locked until the transaction ends (PostgreSQL:
    ``FOR UPDATE``; SQLite: the transaction has written, so it holds the write lock), and what
    this transaction wrote to it is remembered. So the next entry of the same transaction chains
    on from it without another ``SELECT … FOR UPDATE``. It is forgotten when any transaction or
    savepoint of the session ends (a savepoint rolled back releases locks taken inside it, and
    undoes what it wrote), and not used if the audit key changed or the head was changed through
    the session's object meanwhile.
    """
    held = cast("_Held | None", session.info.get(_HELD_HEAD))
    if held is None or held.key != key:
        return None
    head = _orm_head(session)
    if head is not None and inspect(head).modified:
        return None
    return held


@event.listens_for(Session, "after_transaction_end")
def _forget_held_head(session: Session, transaction: SessionTransaction) -> None:
    # A transaction or a savepoint, not the subtransaction each flush opens and closes.
    if transaction.nested or transaction.parent is None:
        session.info.pop(_HELD_HEAD, None)


def _forget_on_head_write(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and mapper.class_ is AuditHead:
        state.session.info.pop(_HELD_HEAD, None)


event.listen(Session, "do_orm_execute", _forget_on_head_write)


def _lock_head(session: Session, connection: Connection, key: bytes) -> tuple[_Held, dict[str, Any]]:
    """Lock the head row and read the chain's end; what else the head's update must set."""
    head = _orm_head(session)
    if head is not None and inspect(head).modified:
        session.flush()  # a change made through the session's object is the head to lock
    row = connection.execute(_LOCK_HEAD).first()
    if row is None:
        connection.execute(
            insert(_HEAD).values(id=1, last_id=0, last_hash=GENESIS, key_check=key_check_value(key))
        )
        return _Held(0, GENESIS, key), {}
    try:
        key_check = _check_key(session, row.last_id, row.key_check, key)
    except AuditKeyMismatch:
        logger.error("audit key mismatch: no entry written")
        raise
    return _Held(row.last_id, row.last_hash, key), {} if key_check is None else {"key_check": key_check}


def record(
    action: str,
    summary: str,
    *,
    actor: Any = None,
    obj: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
    data: dict[str, Any] | None = None,
) -> Recorded:
    """Append an audit entry to the current transaction (the caller commits).

    ``summary`` is plain English, never translated; ``data`` holds field changes and
    context, never secrets. The entry and the head's move are written at once, by two plain
    statements (no objects of the session's unit of work); what is returned says where the entry
    went in the chain (load the :class:`AuditEntry` to read it back).
    """
    # current_user is a proxy: audit the object behind it.
    obj = obj._get_current_object() if hasattr(obj, "_get_current_object") else obj
    actor = actor._get_current_object() if hasattr(actor, "_get_current_object") else actor
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    payload = dict(_clean(data or {}))
    if has_request_context() and request.endpoint:
        payload.setdefault("endpoint", request.endpoint)
    elif (command := click.get_current_context(silent=True)) is not None:
        payload.setdefault("cli", command.command_path)
    session = db.session()
    connection = session.connection()
    key = audit_key()
    held = _held_head(session, key)
    head_values: dict[str, Any] = {}
    if held is None:
        held, head_values = _lock_head(session, connection, key)
    values: dict[str, Any] = {
        "created_dt": utcnow(),
        "actor_id": getattr(actor, "id", None),
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "summary": summary,
        "data": json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False),
        "prev_hash": held.last_hash,
    }
    if held.last_id:
        # The head is locked, and every entry is written here: the next id is the head's plus one,
        # known before the insert, so the entry goes in whole with its hash (one statement, not two).
        entry_id = held.last_id + 1
        entry_hash = hmac.new(key, _canonical_fields(entry_id, **values), hashlib.sha256).hexdigest()
        connection.execute(_INSERT_ENTRY, {"id": entry_id, **values, "hash": entry_hash})
    else:  # the chain's first entry: the database numbers it
        result = connection.execute(_INSERT_ENTRY, {**values, "hash": secrets.token_hex(32)})
        entry_id = int(cast(Row[Any], result.inserted_primary_key)[0])
        entry_hash = hmac.new(key, _canonical_fields(entry_id, **values), hashlib.sha256).hexdigest()
        connection.execute(update(_ENTRY).where(_ENTRY.c.id == entry_id).values(hash=entry_hash))
    connection.execute(_MOVE_HEAD, {"last_id": entry_id, "last_hash": entry_hash, **head_values})
    held.last_id, held.last_hash = entry_id, entry_hash
    session.info[_HELD_HEAD] = held
    _expire_loaded(session, entry_id)
    logger.info("audit %s %s:%s by %s: %s", action, object_type, object_id, values["actor_id"], summary)
    return Recorded(entry_id, entry_hash, values["prev_hash"], values["created_dt"], action)


def _expire_loaded(session: Session, entry_id: int) -> None:
    """Objects of the session that the plain statements made stale are read again when next used.

    The head's object, if loaded, now lags the row; an entry's object with this id is left over
    from a savepoint rolled back whose ids are reused.
    """
    identity_map = session.identity_map
    if identity_map:
        for stale in (identity_map.get(_HEAD_IDENTITY), identity_map.get((AuditEntry, (entry_id,), None))):
            if stale is not None:
                session.expire(stale)


# --- verifying the chain -----------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement, kept outside the database, of how far the chain reached at a moment."""

    seq: int
    created: str  # ISO 8601, UTC
    entries: int
    last_id: int
    head_hash: str
    prev: str  # the signature of the checkpoint before it ("" for the first)
    signature: str = ""

    def _fields(self) -> dict[str, Any]:
        return {
            "v": CHECKPOINT_VERSION,
            "seq": self.seq,
            "created": self.created,
            "entries": self.entries,
            "last_id": self.last_id,
            "head_hash": self.head_hash,
            "prev": self.prev,
        }

    def payload(self) -> bytes:
        """The bytes the signature covers."""
        return CHECKPOINT_CONTEXT + json.dumps(self._fields(), sort_keys=True, separators=(",", ":")).encode()

    def line(self) -> str:
        return json.dumps({**self._fields(), "sig": self.signature}, sort_keys=True, separators=(",", ":"))

    def describe(self) -> str:
        return f"checkpoint {self.seq} of {self.created}"


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""
    # The configured key is not the chain's: nothing could be checked.
    key_mismatch: bool = False
    # The checkpoint the database contradicts (the log was truncated or rewritten after it).
    checkpoint: Checkpoint | None = None
    last_id: int = 0
    last_hash: str = GENESIS
    checkpoints_matched: list[Checkpoint] = field(default_factory=list)


class CheckpointFileTampered(Exception):
    """A line of the checkpoint file is not a checkpoint this installation signed, in order."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class CheckpointRefused(Exception):
    """The chain contradicts the latest checkpoint (or is broken): no new checkpoint is written."""


def checkpoint_signing_key(key: bytes) -> Ed25519PrivateKey:
    """The Ed25519 key that signs checkpoints, derived from the audit key (never stored)."""
    return Ed25519PrivateKey.from_private_bytes(derive_key(key, purpose="audit-checkpoint"))


def checkpoint_public_key(key: bytes) -> str:
    """The public half, base64: a witness checks checkpoints with it and cannot forge one."""
    raw = checkpoint_signing_key(key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def checkpoint_path() -> Path:
    return Path(current_app.config["AUDIT_CHECKPOINT_FILE"])


def _parse_checkpoint(number: int, raw: str, public: Ed25519PublicKey) -> Checkpoint:
    try:
        data = json.loads(raw)
        if data.get("v") != CHECKPOINT_VERSION:
            raise ValueError("unknown version")
        checkpoint = Checkpoint(
            seq=int(data["seq"]),
            created=str(data["created"]),
            entries=int(data["entries"]),
            last_id=int(data["last_id"]),
            head_hash=str(data["head_hash"]),
            prev=str(data["prev"]),
            signature=str(data["sig"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointFileTampered(number, "it is not a checkpoint") from exc
    try:
        public.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.payload())
    except (InvalidSignature, ValueError) as exc:
        raise CheckpointFileTampered(number, "its signature does not match (the line was changed)") from exc
    return checkpoint


def read_checkpoints(path: Path, key: bytes) -> list[Checkpoint]:
    """Every checkpoint in the file, each signature and the order checked ([] without a file)."""
    if not path.exists():
        return []
    public = checkpoint_signing_key(key).public_key()
    checkpoints: list[Checkpoint] = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            checkpoint = _parse_checkpoint(number, raw, public)
            previous = checkpoints[-1] if checkpoints else None
            if checkpoint.seq != (previous.seq + 1 if previous else 1) or checkpoint.prev != (
                previous.signature if previous else ""
            ):
                raise CheckpointFileTampered(
                    number,
                    "it does not follow the checkpoint before it (checkpoints were removed or reordered)",
                )
            if previous and (checkpoint.last_id < previous.last_id or checkpoint.entries < previous.entries):
                raise CheckpointFileTampered(number, "it goes back behind the checkpoint before it")
            checkpoints.append(checkpoint)
    return checkpoints


def key_matches(key: bytes) -> bool:
    """Whether ``key`` is the key this database's chain is written with.

    The head's key-check value decides; should it disagree while the first entry verifies under
    ``key``, the key is right and the check value was tampered with (``verify_chain`` says so).
    """
    session = db.session
    head = session.get(AuditHead, 1)
    if head is None or head.key_check is None or hmac.compare_digest(head.key_check, key_check_value(key)):
        return True
    first = session.scalar(select(AuditEntry).order_by(AuditEntry.id).limit(1))
    return first is not None and hmac.compare_digest(first.hash, compute_hash(key, first))


def _walk(
    key: bytes,
    *,
    after_id: int = 0,
    prev_hash: str = GENESIS,
    checked: int = 0,
    until_id: int | None = None,
    checkpoints: Sequence[Checkpoint] = (),
    batch: int = 1000,
) -> VerifyResult:
    """Walk the chain in id order from after ``after_id``, holding it against the checkpoints."""
    session = db.session
    pending = sorted((c for c in checkpoints if c.last_id > after_id), key=lambda c: (c.last_id, c.seq))
    matched: list[Checkpoint] = []
    last_id = after_id
    while True:
        query = select(AuditEntry).where(AuditEntry.id > last_id)
        if until_id is not None:
            query = query.where(AuditEntry.id <= until_id)
        entries = session.scalars(query.order_by(AuditEntry.id).limit(batch)).all()
        if not entries:
            break
        for entry in entries:
            if entry.prev_hash != prev_hash:
                return VerifyResult(
                    False,
                    checked,
                    entry.id,
                    "does not follow the previous entry (one was removed or inserted)",
                    checkpoints_matched=matched,
                )
            if not hmac.compare_digest(entry.hash, compute_hash(key, entry)):
                return VerifyResult(
                    False, checked, entry.id, "its content was changed", checkpoints_matched=matched
                )
            checked += 1
            while pending and pending[0].last_id <= entry.id:
                checkpoint = pending.pop(0)
                if (
                    checkpoint.last_id != entry.id
                    or checkpoint.entries != checked
                    or not hmac.compare_digest(checkpoint.head_hash, entry.hash)
                ):
                    return VerifyResult(
                        False,
                        checked,
                        entry.id,
                        f"the audit log was rewritten after {checkpoint.describe()}: it recorded "
                        f"{checkpoint.entries} entries up to entry {checkpoint.last_id} with hash "
                        f"{checkpoint.head_hash[:16]}…, the log now has {checked} entries up to entry "
                        f"{entry.id} with hash {entry.hash[:16]}…",
                        checkpoint=checkpoint,
                        checkpoints_matched=matched,
                    )
                matched.append(checkpoint)
            prev_hash = entry.hash
            last_id = entry.id
        session.expunge_all()
    if pending:
        checkpoint = pending[0]
        return VerifyResult(
            False,
            checked,
            None,
            f"the audit log was truncated after {checkpoint.describe()}: it recorded "
            f"{checkpoint.entries} entries up to entry {checkpoint.last_id}, the log now ends with "
            f"{checked} entries at entry {last_id}",
            checkpoint=checkpoint,
            checkpoints_matched=matched,
        )
    return VerifyResult(True, checked, last_id=last_id, last_hash=prev_hash, checkpoints_matched=matched)


def verify_chain(key: bytes, batch: int = 1000, checkpoints: Sequence[Checkpoint] = ()) -> VerifyResult:
    """Walk the whole chain in id order and report the first broken entry.

    With ``checkpoints`` (from :func:`read_checkpoints`) the chain must also hold, at each
    checkpoint's last id, its number of entries and its hash: fewer entries means the log was
    truncated, another hash that it was rewritten. A key other than the chain's is reported as
    ``key_mismatch`` before anything is walked.
    """
    if not key_matches(key):
        return VerifyResult(False, 0, None, "the audit key does not match this database", key_mismatch=True)
    result = _walk(key, checkpoints=checkpoints, batch=batch)
    if not result.ok:
        return result
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.last_hash != result.last_hash or head.last_id != result.last_id):
        return VerifyResult(
            False,
            result.checked,
            head.last_id,
            "the chain ends before its recorded head (entries were removed)",
            checkpoints_matched=result.checkpoints_matched,
        )
    if head is not None and head.key_check and not hmac.compare_digest(head.key_check, key_check_value(key)):
        return VerifyResult(
            False,
            result.checked,
            None,
            "the head's key-check value was changed",
            checkpoints_matched=result.checkpoints_matched,
        )
    return result


@dataclass
class LogCheck:
    """The chain held against this installation's checkpoint file: what `audit verify` reports."""

    result: VerifyResult
    checkpoints: list[Checkpoint]
    path: Path
    tampered: CheckpointFileTampered | None = None


def verify_log(key: bytes) -> LogCheck:
    """Verify the chain against every signed checkpoint in the checkpoint file (if any)."""
    path = checkpoint_path()
    tampered: CheckpointFileTampered | None = None
    try:
        checkpoints = read_checkpoints(path, key)
    except CheckpointFileTampered as exc:
        tampered, checkpoints = exc, []
    return LogCheck(verify_chain(key, checkpoints=checkpoints), checkpoints, path, tampered)


# --- anchoring the chain outside the database --------------------------------------------------


def _append_line(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(descriptor, "a", encoding="utf-8") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())


def write_checkpoint(path: Path, key: bytes, now: datetime | None = None) -> Checkpoint | None:
    """Anchor the chain as it stands: append a signed checkpoint to ``path`` and to the log.

    Only the entries since the latest checkpoint are walked; they must follow on from it. None
    when there is nothing new to anchor. Raises :class:`CheckpointFileTampered`,
    :class:`AuditKeyMismatch` or :class:`CheckpointRefused` rather than sign a state that
    contradicts what the file holds.
    """
    checkpoints = read_checkpoints(path, key)
    if not key_matches(key):
        raise AuditKeyMismatch("the audit key (MONITORING_AUDIT_KEY) does not match this database")
    session = db.session
    head = session.get(AuditHead, 1)
    if head is None or not head.last_id:
        return None
    until_id, head_hash = head.last_id, head.last_hash
    latest = checkpoints[-1] if checkpoints else None
    if latest is not None:
        if latest.last_id == until_id and latest.head_hash == head_hash:
            return None
        anchor = session.get(AuditEntry, latest.last_id)
        if anchor is None or not hmac.compare_digest(anchor.hash, latest.head_hash):
            raise CheckpointRefused(
                f"the audit log was truncated or rewritten after {latest.describe()}: "
                f"entry {latest.last_id} is gone or changed"
            )
        result = _walk(
            key,
            after_id=latest.last_id,
            prev_hash=latest.head_hash,
            checked=latest.entries,
            until_id=until_id,
        )
    else:
        result = _walk(key, until_id=until_id)
    if not result.ok:
        raise CheckpointRefused(f"the audit log is broken at entry {result.broken_id}: {result.reason}")
    if result.last_id != until_id or result.last_hash != head_hash:
        raise CheckpointRefused("the chain ends before its recorded head (entries were removed)")
    checkpoint = Checkpoint(
        seq=latest.seq + 1 if latest else 1,
        created=(now or utcnow()).isoformat(timespec="seconds"),
        entries=result.checked,
        last_id=until_id,
        head_hash=head_hash,
        prev=latest.signature if latest else "",
    )
    signature = checkpoint_signing_key(key).sign(checkpoint.payload())
    checkpoint = replace(checkpoint, signature=base64.b64encode(signature).decode())
    _append_line(path, checkpoint.line())
    checkpoint_logger.info("audit checkpoint %s", checkpoint.line())
    return checkpoint
