"""Key versions: re-wrap to the newest, re-encrypt after a member left, retire the old ones."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, cast

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import lazyload

from monitoring.accounts.models import Organisation, OrganisationKey, User
from monitoring.core import audit, crypto
from monitoring.core.db import db
from monitoring.core.storage import file_store, reserve_object_name
from monitoring.core.transactions import attempt
from monitoring.testimony.models import (
    Evidence,
    ReportGrant,
    ReportMessage,
    WorkerReport,
)
from monitoring.testimony.sealing_base import (
    BOUND,
    REPORT,
    SEALED_COLUMNS,
    KeyOpener,
    SealedAccessError,
    _access_error,
    _access_errors,
    _current_key,
    _data_key_context,
    _grant_context,
    _member_opener,
    _org_key,
    _seal_to,
    _unseal_data_key,
)
from monitoring.testimony.sealing_files import (
    _file_context,
    _messages,
    _open_message,
    _seal_message,
)

logger = logging.getLogger(__name__)

# --- Key versions: re-wrap to the newest, then retire the old ------------------------------


@dataclass(frozen=True)
class KeyVersionUsage:
    """How many sealed keys one version of an organisation's key still wraps."""

    key: OrganisationKey
    reports: int
    messages: int
    files: int

    @property
    def total(self) -> int:
        return self.reports + self.messages + self.files


def key_version_usage(organisation: Organisation) -> list[KeyVersionUsage]:
    """Every version of the organisation's key, newest first, with what still refers to it."""
    versions = db.session.scalars(
        select(OrganisationKey)
        .where(OrganisationKey.organisation_id == organisation.id)
        .order_by(OrganisationKey.version.desc())
    ).all()
    counts: dict[Any, dict[int, int]] = {}
    for model in (WorkerReport, ReportMessage, Evidence):
        counts[model] = dict(
            db.session.execute(
                select(model.organisation_key_id, func.count())
                .join(OrganisationKey, OrganisationKey.id == model.organisation_key_id)
                .where(OrganisationKey.organisation_id == organisation.id)
                .group_by(model.organisation_key_id)
            ).all()
        )
    return [
        KeyVersionUsage(
            key=key,
            reports=counts[WorkerReport].get(key.id, 0),
            messages=counts[ReportMessage].get(key.id, 0),
            files=counts[Evidence].get(key.id, 0),
        )
        for key in versions
    ]


def _stale(
    model: Any,
    organisation: Organisation,
    current: OrganisationKey,
    limit: int,
) -> list[Any]:
    query = select(model).where(_is_stale(model, current))
    if model is WorkerReport:
        query = query.where(WorkerReport.organisation_id == organisation.id)
    else:
        query = query.join(WorkerReport, WorkerReport.id == model.report_id).where(
            WorkerReport.organisation_id == organisation.id
        )
    # Two monitors re-wrapping at once take different rows (PostgreSQL; SQLite writes serially).
    query = query.options(lazyload("*")).order_by(model.id).limit(limit)
    return list(db.session.scalars(query.with_for_update(skip_locked=True, of=model)))


def _is_stale(model: Any, current: OrganisationKey) -> Any:
    """Sealed to an older version, or (reports and messages) in the older, unbound form."""
    if model is Evidence:
        return Evidence.organisation_key_id != current.id
    stale = or_(model.organisation_key_id != current.id, model.key_binding != BOUND)
    # An erased report has no key left to move.
    return and_(stale, WorkerReport.erased_dt.is_(None)) if model is WorkerReport else stale


def keys_to_rewrap(organisation: Organisation) -> int:
    """How many sealed keys :func:`rewrap_batch` still has to move (0 without a key)."""
    from monitoring.accounts import keys

    current = keys.current_organisation_key(organisation)
    if current is None:
        return 0
    total: int = (
        db.session.scalar(
            select(func.count())
            .select_from(WorkerReport)
            .where(WorkerReport.organisation_id == organisation.id, _is_stale(WorkerReport, current))
        )
        or 0
    )
    for model in (ReportMessage, Evidence):
        total += db.session.scalar(  # type: ignore[operator]
            select(func.count())
            .select_from(model)
            .join(WorkerReport, WorkerReport.id == model.report_id)
            .where(WorkerReport.organisation_id == organisation.id, _is_stale(model, current))
        )
    return total or 0


def rewrap_batch(
    actor: User | None,
    organisation: Organisation,
    *,
    batch_size: int = 200,
    open_version: KeyOpener | None = None,
) -> int:
    """Re-seal up to ``batch_size`` keys wrapped to older key versions to the newest; flush; audit.

    Report data keys, message keys and file keys move, and keys of the older form that does not
    name their row are sealed again in the bound form. Report fields and files stay as they
    are; a message body moving to the bound form is encrypted again under its own key. Returns
    how many keys moved (0: nothing is left). Each call is independent, so an interrupted
    re-wrap resumes with the next call; the caller commits after each batch. Every row stays
    readable throughout: until it moves, the older version opens it. If a key cannot be
    opened, nothing of the batch changes and the failure is audited. The keys are opened with
    the actor's unlocked grants, or with ``open_version`` (the recovery code).
    """
    if open_version is None:
        assert actor is not None, "a re-wrap needs a member or another way to open the versions"
        open_version = _member_opener(actor)
    current = _current_key(organisation)
    moved = {"reports": 0, "messages": 0, "files": 0}
    # The row being moved, for the audit entry of a failure.
    at: list[WorkerReport | ReportMessage | Evidence | None] = [None]

    def move() -> None:
        for row in _stale(WorkerReport, organisation, current, batch_size):
            at[0] = row
            data_key = _unseal_data_key(open_version, row)
            row.organisation_key_id = current.id
            row.key_binding = BOUND
            row.wrapped_key = _seal_to(current, data_key, _data_key_context(row, current.id))
            moved["reports"] += 1
        left = batch_size - moved["reports"]
        for row in _stale(ReportMessage, organisation, current, left) if left > 0 else []:
            at[0] = row
            message_key, body = _open_message(open_version, row)
            _seal_message(row, row.report, current, message_key, body)
            moved["messages"] += 1
        left -= moved["messages"]
        for row in _stale(Evidence, organisation, current, left) if left > 0 else []:
            at[0] = row
            org_key = _org_key(row.organisation_key_id)
            context = _file_context(row.report_id, row.storage_key)
            file_key = crypto.unseal(open_version(org_key), row.wrapped_key, context=(*context, org_key.id))
            row.wrapped_key = _seal_to(current, file_key, (*context, current.id))
            row.organisation_key_id = current.id
            moved["files"] += 1

    try:
        attempt(move)  # a savepoint: nothing of a failed batch remains
    except _access_errors() as exc:
        raise _batch_failed("rewrap", actor, organisation, at[0], exc) from exc
    total = sum(moved.values())
    if total:
        audit.record(
            "organisation_key.rewrap",
            f"Re-sealed {total} keys of {organisation.name} to key version {current.version}",
            actor=actor,
            obj=organisation,
            data={
                **moved,
                "organisation_key_id": current.id,
                "version": current.version,
                "opened_with": "member key" if actor is not None else "recovery code",
            },
        )
    return total


def _batch_failed(
    kind: str, actor: User | None, organisation: Organisation, row: Any, exc: Exception
) -> SealedAccessError:
    error = type(exc).__name__
    where = f"{type(row).__tablename__} {row.id}" if row is not None else "none"
    logger.warning("cannot %s keys of organisation %s at %s: %s", kind, organisation.id, where, error)
    verb = {"rewrap": "re-seal the keys", "reencrypt": "re-encrypt the reports"}[kind]
    audit.record(
        f"organisation_key.{kind}_failed",
        f"Could not {verb} of {organisation.name} (stopped at {where})",
        actor=actor,
        obj=organisation,
        data={"error": error, "row": where},
    )
    return _access_error("organisation key", exc)


# --- Re-encryption under fresh keys, after a member left -----------------------------------


def reports_to_reencrypt(organisation: Organisation) -> int:
    """Reports whose data key is older than the organisation's newest key version."""
    from monitoring.accounts import keys

    current = keys.current_organisation_key(organisation)
    if current is None:
        return 0
    return (
        db.session.scalar(
            select(func.count())
            .select_from(WorkerReport)
            .where(
                WorkerReport.organisation_id == organisation.id,
                WorkerReport.data_key_generation < current.version,
                WorkerReport.erased_dt.is_(None),
            )
        )
        or 0
    )


@dataclass
class ReencryptBatch:
    """What one batch of :func:`reencrypt_batch` did.

    ``replaced_objects``: stored files now unused; delete them once the batch is committed.
    """

    reports: int = 0
    messages: int = 0
    files: int = 0
    report_ids: list[int] = field(default_factory=list)
    replaced_objects: list[str] = field(default_factory=list)


class _ChunkReader:
    """A readable stream over an iterator of byte strings (decrypted chunks)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        if size < 0:
            data, self.buffer = self.buffer, b""
        else:
            data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def _reencrypt_report(
    report: WorkerReport, current: OrganisationKey, open_version: KeyOpener, done: ReencryptBatch
) -> list[str]:
    """Give one report a fresh data key and its messages and files fresh keys; flush.

    Returns the names of the stored objects written, so that a failed batch can delete them.
    """
    old_key = _unseal_data_key(open_version, report)
    new_key = crypto.new_key()
    for column in SEALED_COLUMNS:
        blob = getattr(report, column)
        if blob is not None:
            plaintext = crypto.decrypt_field(old_key, blob, table=REPORT, column=column, row=report.id)
            setattr(
                report,
                column,
                crypto.encrypt_field(new_key, plaintext, table=REPORT, column=column, row=report.id),
            )
    report.organisation_key_id = current.id
    report.key_binding = BOUND
    report.data_key_generation = current.version
    report.wrapped_key = _seal_to(current, new_key, _data_key_context(report, current.id))
    # Coordinators a monitor shared the report with keep reading it under the new key.
    for grant in db.session.scalars(select(ReportGrant).where(ReportGrant.report_id == report.id)):
        grantee = db.session.get(User, grant.user_id)
        if grantee is None or grantee.public_key is None:
            db.session.delete(grant)
            continue
        grant.wrapped_key = crypto.seal(
            grantee.public_key, new_key, context=_grant_context(report.id, grantee.id)
        )
    for message in _messages(report):
        _message_key, body = _open_message(open_version, message)
        _seal_message(message, report, current, crypto.new_key(), body)
        done.messages += 1
    written: list[str] = []
    store = file_store()
    evidence_rows = db.session.scalars(
        select(Evidence).where(Evidence.report_id == report.id).order_by(Evidence.id)
    )
    for evidence in evidence_rows:
        org_key = _org_key(evidence.organisation_key_id)
        old_context = _file_context(report.id, evidence.storage_key)
        file_key = crypto.unseal(
            open_version(org_key), evidence.wrapped_key, context=(*old_context, org_key.id)
        )
        name = crypto.decrypt_field(
            file_key,
            evidence.name_sealed,
            table=Evidence.__tablename__,
            column="name_sealed",
            row=evidence.storage_key,
        )
        new_file_key = crypto.new_key()
        storage_key = reserve_object_name()
        new_context = _file_context(report.id, storage_key)
        with store.open(evidence.storage_key) as fh:
            plain = cast(IO[bytes], _ChunkReader(crypto.decrypt_stream(file_key, fh, context=old_context)))
            store.write(storage_key, crypto.encrypt_stream(new_file_key, plain, context=new_context))
        written.append(storage_key)
        done.replaced_objects.append(evidence.storage_key)
        evidence.storage_key = storage_key
        evidence.organisation_key_id = current.id
        evidence.wrapped_key = _seal_to(current, new_file_key, (*new_context, current.id))
        evidence.name_sealed = crypto.encrypt_field(
            new_file_key, name, table=Evidence.__tablename__, column="name_sealed", row=storage_key
        )
        done.files += 1
    db.session.flush()
    done.reports += 1
    done.report_ids.append(report.id)
    return written


def reencrypt_batch(
    actor: User | None,
    organisation: Organisation,
    *,
    batch_size: int = 20,
    open_version: KeyOpener | None = None,
) -> ReencryptBatch:
    """Re-encrypt up to ``batch_size`` reports under fresh keys sealed to the newest version.

    For each report whose data key is older than the newest version: a fresh data key, every
    sealed field decrypted and encrypted again under it, the coordinators' shares sealed again,
    every message given a fresh key and every evidence file a fresh key and a new stored object.
    A copy of an older version's private key then opens none of it. The batch is one savepoint:
    each report is either wholly old or wholly new, and if anything fails nothing of the batch
    changes, the objects it wrote are deleted and the failure is audited. The caller commits,
    then deletes ``replaced_objects``. Returns what moved (``reports`` 0: nothing is left).
    """
    if open_version is None:
        assert actor is not None, "a re-encryption needs a member or another way to open the versions"
        open_version = _member_opener(actor)
    current = _current_key(organisation)
    query = (
        select(WorkerReport)
        .where(
            WorkerReport.organisation_id == organisation.id,
            WorkerReport.data_key_generation < current.version,
            WorkerReport.erased_dt.is_(None),
        )
        .options(lazyload("*"))
        .order_by(WorkerReport.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True, of=WorkerReport)
    )
    done = ReencryptBatch()
    written: list[str] = []
    at: list[WorkerReport | None] = [None]  # the report being moved, for the audit of a failure

    def move() -> None:
        for report in db.session.scalars(query).all():
            at[0] = report
            written.extend(_reencrypt_report(report, current, open_version, done))

    try:
        attempt(move)  # a savepoint: nothing of a failed batch remains
    except _access_errors() as exc:
        for name in written:
            file_store().delete(name)
        raise _batch_failed("reencrypt", actor, organisation, at[0], exc) from exc
    if done.reports:
        audit.record(
            "organisation_key.reencrypt",
            f"Re-encrypted {done.reports} reports of {organisation.name} under fresh keys sealed to key "
            f"version {current.version}",
            actor=actor,
            obj=organisation,
            data={
                "reports": done.reports,
                "report_ids": done.report_ids,
                "messages": done.messages,
                "files": done.files,
                "organisation_key_id": current.id,
                "version": current.version,
                "opened_with": "member key" if actor is not None else "recovery code",
            },
        )
    return done


def retire_unused_versions(actor: User | None, organisation: Organisation) -> list[OrganisationKey]:
    """Retire every older key version that no report, message or file refers to any more."""
    from monitoring.accounts import keys

    current = keys.current_organisation_key(organisation)
    retired = []
    for usage in key_version_usage(organisation):
        key = usage.key
        if current is None or key.id == current.id or key.retired_dt is not None or usage.total:
            continue
        keys.retire_organisation_key(key, actor=actor)
        retired.append(key)
    return retired
