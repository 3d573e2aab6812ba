"""What every part of sealing shares: constants, errors, the sealed shapes and key contexts."""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select, text
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    SessionTransaction,
    make_transient,
    make_transient_to_detached,
    object_session,
)

from monitoring.accounts.models import Organisation, OrganisationKey, User
from monitoring.core import audit, crypto
from monitoring.core.crypto import DecryptionError
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.testimony.models import (
    IssueCategory,
    ReportChannel,
    ReportGrant,
    ReportMessage,
    WorkerReport,
)
from monitoring.testimony.permissions import is_member

logger = logging.getLogger(__name__)

REPORT = WorkerReport.__tablename__
MESSAGE = ReportMessage.__tablename__
SEALED_COLUMNS = ("identity_sealed", "testimony_sealed", "workplace_sealed")
# How a sealed key names its place (WorkerReport.key_binding, ReportMessage.key_binding).
UNBOUND = 1  # rows from before December 2026: the key version (and, for messages, the report)
BOUND = 2  # the row itself as well: the report; the message and its author side

# Opens a version of an organisation's key: a member's unlocked grant, or the recovery code.
KeyOpener = Callable[[OrganisationKey], bytes]
# Channels whose reports come from the worker directly and start the Whistleblower Directive clocks.
DIRECT_CHANNELS = frozenset({ReportChannel.web, ReportChannel.hotline})

# Evidence types accepted, recognised by their first bytes (never by the name or the browser's claim).
ALLOWED_TYPES: dict[str, str] = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "audio/wav": ".wav",
    "audio/amr": ".amr",
    "video/mp4": ".mp4",
}


class SealedAccessError(Exception):
    """Sealed content could not be opened; the cause is logged and audited.

    ``kind`` tells the handler which explanation to show, without details of a failed check:
    ``locked`` (the user's keys are not unlocked in this session), ``no_access`` (the user holds
    no key for it) or ``failed`` (the ciphertext does not open: moved, altered or damaged).
    """

    def __init__(self, what: str, kind: str = "failed", message: object = None) -> None:
        super().__init__(what)
        self.what = what
        self.kind = kind
        # The translated explanation for locked keys or missing access (None: say nothing more).
        self.message = message


class ReportErased(Exception):
    """The report was erased: no key for it exists any more."""


@dataclass(frozen=True)
class Identity:
    name: str = ""
    contact: str = ""
    employee_number: str = ""
    employer: str = ""
    nationality: str = ""
    gender: str = ""
    age_band: str = ""

    def is_empty(self) -> bool:
        return not any(asdict(self).values())


@dataclass(frozen=True)
class Testimony:
    text: str
    categories: list[IssueCategory] = field(default_factory=list)


@dataclass(frozen=True)
class OpenedReport:
    identity: Identity | None
    testimony: str
    workplace: str


@dataclass(frozen=True)
class OpenedMessage:
    message: ReportMessage
    body: str


# Where a session keeps the newest key of each organisation it has sealed to in this transaction.
_CURRENT_KEYS = "sealing.current_keys"


def _current_key(organisation: Organisation) -> OrganisationKey:
    """The organisation's newest key version, looked up once per transaction.

    Intake seals report after report to the same version: the look-up is remembered in the
    session, for the transaction only. It is forgotten when any transaction or savepoint of the
    session ends (commit, rollback), whenever a key version is inserted, changed or deleted
    through the session (a rotation or a retirement in the same transaction: the mapper events
    and ORM bulk statements below), and not used while a key version waits unflushed in the
    session. What another transaction commits meanwhile is seen from the next transaction on, as
    a look-up made at the start of this one would have missed it too (rotation makes a new
    version; the old one opens until its rows are re-wrapped and it is retired).
    """
    from monitoring.accounts import keys

    session = db.session()
    cache: dict[int, OrganisationKey] = session.info.setdefault(_CURRENT_KEYS, {})
    org_key = cache.get(organisation.id)
    if org_key is not None and not _keys_pending(session):
        return org_key
    org_key = keys.current_organisation_key(organisation)
    if org_key is None:
        raise OperationError(
            _l(
                "%(organisation)s cannot receive sealed reports yet: it has no key.",
                organisation=organisation.name,
            )
        )
    session.info.setdefault(_CURRENT_KEYS, {})[organisation.id] = org_key
    return org_key


def _keys_pending(session: Session) -> bool:
    """Whether a key version was added, changed or deleted in the session and not yet flushed."""
    return any(isinstance(o, OrganisationKey) for o in (*session.new, *session.dirty, *session.deleted))


def _forget_current_keys(session: Session | None) -> None:
    if session is not None:
        session.info.pop(_CURRENT_KEYS, None)


def _forget_at_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # A transaction or a savepoint, not the subtransaction each flush opens and closes.
    if transaction.nested or transaction.parent is None:
        _forget_current_keys(session)


def _forget_on_key_write(_mapper: object, _connection: object, target: OrganisationKey) -> None:
    _forget_current_keys(object_session(target))


def _forget_on_bulk_write(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and mapper.class_ is OrganisationKey:
        _forget_current_keys(state.session)


event.listen(Session, "after_transaction_end", _forget_at_transaction_end)
event.listen(Session, "do_orm_execute", _forget_on_bulk_write)
for _event in ("after_insert", "after_update", "after_delete"):
    event.listen(OrganisationKey, _event, _forget_on_key_write)


def _new_report_id() -> int:
    """The id the next report will have, taken before its row is inserted.

    Sealing binds every field and the data key to the row's id, so knowing the id first lets the
    sealed fields go into the INSERT itself (no second statement to write them).

    PostgreSQL: ``nextval`` of the table's own sequence, the one the column's default takes ids
    from: no other transaction can ever get the same value, whatever it does (values a rolled
    back transaction took are skipped, as with the default); a transaction filing several
    reports takes them a block at a time (:func:`_next_sequence_id`).

    SQLite: the largest id plus one, exactly what SQLite itself picks for a new row
    (``worker_report.id`` is a rowid alias without AUTOINCREMENT). Reports still pending in the
    session are flushed first, so they are counted. Another connection cannot take the same id
    before this transaction's insert: a request that writes holds the write lock from its first
    statement (``BEGIN IMMEDIATE``, see :func:`monitoring.core.db.sqlite_begin_statement`),
    and a deferred transaction whose snapshot is older than another writer's commit is refused
    the write lock (SQLite's BUSY_SNAPSHOT), so it can never insert over an id it did not see.
    Either way the primary key would refuse a duplicate rather than let a row carry another
    row's sealing: the binding holds in every case, only availability could suffer.
    """
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        return _next_sequence_id(session)
    if any(isinstance(o, WorkerReport) for o in session.new):
        session.flush()
    return int(session.execute(_MAX_ID_SQLITE).scalar() or 0) + 1


# Where a session keeps the report ids it has taken from the sequence and not used yet.
_SPARE_IDS = "sealing.spare_report_ids"
# Ids taken at once by a transaction that files more than one report (PostgreSQL).
ID_BLOCK = 32


def _next_sequence_id(session: Session) -> int:
    """The sequence's next value; a transaction filing several reports takes them a block at a time.

    The first report of a transaction takes one value; the next takes :data:`ID_BLOCK` at once
    and keeps the rest for the reports after it. A value from the sequence is never handed out
    twice, whatever happens to the transaction that took it, so the spare ones stay unique; those
    left when the transaction or a savepoint ends are dropped (a gap, as a rolled-back insert
    leaves), so a form that files one report a request takes one value a request.
    """
    spare: list[int] | None = session.info.get(_SPARE_IDS)
    if spare:
        return spare.pop()
    if spare is None:
        session.info[_SPARE_IDS] = []
        return int(session.execute(_NEXT_ID_PG).scalar_one())
    ids = session.execute(_NEXT_IDS_PG, {"n": ID_BLOCK}).scalars().all()
    spare[:] = sorted((int(i) for i in ids), reverse=True)
    return spare.pop()


def _forget_spare_ids(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested or transaction.parent is None:
        session.info.pop(_SPARE_IDS, None)


event.listen(Session, "after_transaction_end", _forget_spare_ids)

# Plain statements: no ORM compilation, and no autoflush (the SQLite path flushes what it needs).
_NEXT_ID_PG = text("SELECT nextval(pg_get_serial_sequence('worker_report', 'id'))")
_NEXT_IDS_PG = text(
    "SELECT nextval(pg_get_serial_sequence('worker_report', 'id')) FROM generate_series(1, :n)"
)
_MAX_ID_SQLITE = text("SELECT max(id) FROM worker_report")


# Where a session keeps the objects whose rows plain INSERTs wrote in the current transaction,
# with the transaction or savepoint that wrote each.
_INSERTED = "sealing.inserted"


def _attach_inserted(session: Session, instance: object) -> None:
    """Make ``instance``, whose row a plain INSERT has just written, an object of the session.

    It becomes persistent as a flush would have left it: every attribute it was given reads
    without a query (a relationship it was not given is loaded when first read), and a change
    made to it afterwards is flushed as an UPDATE. Like an object the flush inserted, it leaves
    the session (transient again) when the transaction or savepoint that wrote its row is rolled
    back, so an id the rollback frees (SQLite reuses them) is never taken for a row that is gone.
    """
    make_transient_to_detached(instance)
    session.add(instance)
    writer = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_INSERTED, []).append((writer, weakref.ref(instance)))


def _forget_inserted(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # a new transaction: the last one's objects are settled
        session.info.pop(_INSERTED, None)


def _expunge_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """Objects whose rows a rolled-back transaction or savepoint (or one inside it) wrote are dropped."""
    inserted: list[tuple[SessionTransaction, weakref.ref[object]]] | None = session.info.get(_INSERTED)
    if not inserted:
        return
    undone: SessionTransaction | None = previous_transaction
    # A flush's subtransaction rolls back the savepoint or transaction around it.
    while undone is not None and not (undone.nested or undone.parent is None):
        undone = undone.parent
    kept = []
    for writer, ref in inserted:
        within: SessionTransaction | None = writer
        while within is not None and within is not undone:
            within = within.parent
        if within is None:
            kept.append((writer, ref))
        elif (instance := ref()) is not None and object_session(instance) is session:
            make_transient(instance)
    session.info[_INSERTED] = kept


event.listen(Session, "after_transaction_create", _forget_inserted)
event.listen(Session, "after_soft_rollback", _expunge_rolled_back)


def _data_key_context(
    report: WorkerReport, org_key_id: int, binding: int | None = None
) -> tuple[object, ...]:
    if (report.key_binding if binding is None else binding) == UNBOUND:
        return (REPORT, "data_key", org_key_id)
    return _bound_data_key_context(report.id, org_key_id)


def _bound_data_key_context(report_id: int, org_key_id: int) -> tuple[object, ...]:
    """What a bound data key's sealing names: this table, the report's id and the key version."""
    return (REPORT, "data_key", report_id, org_key_id)


def _seal_to(org_key: OrganisationKey, secret: bytes, context: tuple[object, ...]) -> bytes:
    return crypto.seal(org_key.public_key, secret, context=context, suite=org_key.algorithm.value)


def _member_opener(actor: User) -> KeyOpener:
    from monitoring.accounts import keys

    return lambda org_key: keys.organisation_private_key(actor, org_key)


def _seal_field(data_key: bytes, report: WorkerReport, column: str, value: object) -> bytes:
    return _seal_report_field(data_key, report.id, column, value)


def _seal_report_field(data_key: bytes, report_id: int, column: str, value: object) -> bytes:
    """Seal one field of the report ``report_id`` (bound to table, column and row)."""
    plaintext = json.dumps(value, ensure_ascii=False).encode()
    return crypto.encrypt_field(data_key, plaintext, table=REPORT, column=column, row=report_id)


def _open_field(data_key: bytes, report: WorkerReport, column: str) -> object:
    blob = getattr(report, column)
    if blob is None:
        return None
    plaintext = crypto.decrypt_field(data_key, blob, table=REPORT, column=column, row=report.id)
    return json.loads(plaintext)


def _fail(
    user: User | None, report: WorkerReport, what: str, reason: str, exc: Exception
) -> SealedAccessError:
    error = type(exc).__name__
    logger.warning("cannot open %s of report %s for user %s: %s", what, report.id, user and user.id, error)
    audit.record(
        "report.open_failed",
        f"Could not open the {what} of report {report.id}",
        actor=user,
        obj=report,
        data={"what": what, "reason": reason, "error": error},
    )
    return _access_error(what, exc)


def _access_error(what: str, exc: Exception) -> SealedAccessError:
    """The error to raise for a failed opening, telling locked keys from missing access."""
    from monitoring.accounts import keys

    if isinstance(exc, keys.KeysLocked):
        return SealedAccessError(what, "locked", exc.message)
    if isinstance(exc, keys.NoKeyAccess):
        return SealedAccessError(what, "no_access", exc.message)
    if isinstance(exc, ReportErased):
        return SealedAccessError(
            what, "erased", _l("This report was erased: what the worker wrote no longer exists.")
        )
    return SealedAccessError(what)


def _report_data_key(user: User, report: WorkerReport) -> bytes:
    """Unwrap a report's data key with what this user holds (organisation key or a grant)."""
    from monitoring.accounts import keys

    if report.erased_dt is not None:
        raise ReportErased()
    if is_member(user, report):
        return _unseal_data_key(_member_opener(user), report)
    grant = db.session.scalar(
        select(ReportGrant).where(ReportGrant.report_id == report.id, ReportGrant.user_id == user.id)
    )
    if grant is None:
        raise keys.NoKeyAccess()
    private = keys.unlocked_private_key(user)
    return crypto.unseal(private, grant.wrapped_key, context=_grant_context(report.id, user.id))


def _grant_context(report_id: int, user_id: int) -> tuple[object, ...]:
    return ("report_grant", report_id, user_id)


def _org_key(key_id: int | None) -> OrganisationKey:
    """The key version a row is sealed to (a missing one opens nothing)."""
    org_key = db.session.get(OrganisationKey, key_id) if key_id is not None else None
    if org_key is None:
        raise DecryptionError()
    return org_key


def _unseal_data_key(open_version: KeyOpener, report: WorkerReport) -> bytes:
    if report.erased_dt is not None:
        raise ReportErased()
    org_key = _org_key(report.organisation_key_id)
    private = open_version(org_key)
    return crypto.unseal(private, report.wrapped_key, context=_data_key_context(report, org_key.id))


def _check_data_key(data_key: bytes, report: WorkerReport) -> None:
    """Raise DecryptionError unless the data key opens a sealed field of this very report."""
    column = next((c for c in SEALED_COLUMNS if getattr(report, c) is not None), None)
    if column is None:
        raise DecryptionError()
    _open_field(data_key, report, column)


def _access_errors() -> tuple[type[Exception], ...]:
    from monitoring.accounts import keys

    return (DecryptionError, keys.KeysLocked, keys.NoKeyAccess, ReportErased)
