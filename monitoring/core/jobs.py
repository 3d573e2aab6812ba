"""Durable background jobs: an upload is stored and queued, a worker imports it.

A request only stores the uploaded file (:func:`enqueue`) and answers; ``flask jobs worker``
claims queued jobs one at a time (:func:`claim`: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so several workers can run; on SQLite the claim is one conditional UPDATE) and runs them.

A job runs in two phases. Its handler (registered by the feature that owns the kind, so core
imports no feature) first *stages* the file: it checks the rows in batches and writes them to
``job_row``, tagged with the job, each batch a transaction of its own that also records the
progress and a heartbeat. Nothing a user sees changes while staging. Then the handler *applies*
the staged rows in one transaction: all of them or, if a problem turns up, none.

A worker that dies leaves its job running with a stale heartbeat; the next worker claims it
again, deletes what it had staged and starts over. A worker that wakes up after its job was
taken from it finds its claim token gone and stops without writing.

A job may be *held* (``JobState.waiting``): its file is stored but no worker takes it until
:func:`release` (e.g. once the user has confirmed the file's columns). Held jobs nobody
releases are cancelled after ``JOB_WAITING_HOURS``. An upload that must not lie on disk in
clear is stored *protected*: encrypted under a key of its own, itself protected by the server
keyring in ``job.file_key_ct``; clearing that column when the job ends shreds the upload even
if deleting the file fails.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any, Protocol, cast

from flask import current_app
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, Text, delete, func, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from monitoring.core import crypto, hooks, keyring
from monitoring.core.crypto import ProtectedBytes
from monitoring.core.db import Base, db, write_intent
from monitoring.core.storage import file_store, reserve_object_name
from monitoring.core.transactions import on_commit
from monitoring.core.types import TitledEnum, UTCDateTime, enum_column, utcnow

logger = logging.getLogger(__name__)

# A running job whose heartbeat is older than this is taken for abandoned (its worker died).
DEFAULT_STALE_SECONDS = 300
# A held job nobody releases within this many hours is cancelled (``JOB_WAITING_HOURS``).
DEFAULT_WAITING_HOURS = 24
# How many problems a failed job keeps to show.
MAX_KEPT_PROBLEMS = 100
UNEXPECTED_FAILURE = _l("The import stopped because of an error. Nothing was saved.")
CANCELLED = _l("The import was cancelled. Nothing was saved.")


class JobState(TitledEnum):
    waiting = "waiting"
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"

    @staticmethod
    def __titles__() -> dict[JobState, Any]:
        return {
            JobState.waiting: _l("Columns to confirm"),
            JobState.queued: _l("Waiting"),
            JobState.running: _l("Running"),
            JobState.done: _l("Done"),
            JobState.failed: _l("Failed"),
        }


class Job(Base):
    """An import waiting for, or done by, a worker. The result holds counts only."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[JobState] = mapped_column(
        enum_column(JobState, "job_state"), default=JobState.queued, index=True
    )
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    # The uploaded file in the file store (deleted once the job is over).
    storage_key: Mapped[str | None] = mapped_column(String(64))
    # The key the stored file is encrypted under, protected by the keyring; None for a file
    # stored as it is, and once the job is over (the upload is then unreadable).
    file_key_ct: Mapped[bytes | None] = mapped_column(ProtectedBytes)
    filename: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    # What the handler needs besides the file (JSON), e.g. the supplier of a disclosure list.
    params: Mapped[str] = mapped_column(Text, default="{}")
    # The claim of the worker running the job: a worker whose token is gone stops.
    claim: Mapped[str | None] = mapped_column(String(32))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bytes_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[int] = mapped_column(Integer, default=0)
    # The handler's summary (counts), JSON.
    result: Mapped[str | None] = mapped_column(Text)
    # Why the job failed: JSON, messages kept untranslated with their values (see ``problem``).
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads(self.result) if self.result else {}

    @property
    def arguments(self) -> dict[str, Any]:
        return json.loads(self.params or "{}")

    @property
    def finished(self) -> bool:
        return self.state in (JobState.done, JobState.failed)

    def fraction(self) -> float:
        """How far the job got, 0 to 1 (the bytes read, as rows are counted while reading)."""
        if self.state == JobState.done:
            return 1.0
        return min(self.bytes_done / self.size, 1.0) if self.size else 0.0

    def seconds_left(self, now: datetime | None = None) -> int | None:
        """A guess from the pace so far; None before there is one."""
        fraction = self.fraction()
        if self.state != JobState.running or not self.started_dt or not 0 < fraction < 1:
            return None
        spent = ((now or utcnow()) - self.started_dt).total_seconds()
        return max(int(spent / fraction - spent), 0)

    def failure(self) -> dict[str, Any]:
        """The failure in the reader's language: ``message`` and the ``problems`` listed."""
        stored = json.loads(self.error) if self.error else {}
        listed = [{**p, "message": problem_text(p)} for p in stored.get("problems", [])]
        total = int(stored.get("total", len(listed)))
        if stored.get("unexpected"):
            message = str(UNEXPECTED_FAILURE)
        elif stored.get("cancelled"):
            message = str(CANCELLED)
        elif total > len(listed):
            message = gettext(
                "The file was not imported: %(total)d problems were found, the first %(shown)d "
                "are listed. Nothing was saved.",
                total=total,
                shown=len(listed),
            )
        else:
            message = ngettext(
                "The file was not imported: %(num)d problem was found. Nothing was saved.",
                "The file was not imported: %(num)d problems were found. Nothing was saved.",
                total,
            )
        return {"message": message, "problems": listed, "total": total}


class JobRow(Base):
    """A staged row of a running job: checked, not yet applied."""

    __tablename__ = "job_row"

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[str] = mapped_column(Text)


# --- problems, kept untranslated -----------------------------------------------------------


def stored_problem(line: int, column: str | None, message: Any) -> dict[str, Any]:
    """A problem as kept in a job: a lazy message is kept as its text and values, to be
    translated for whoever reads it."""
    args = getattr(message, "_args", None)
    if args:
        return {"line": line, "column": column, "msgid": args[0], "params": getattr(message, "_kwargs", {})}
    return {"line": line, "column": column, "text": str(message)}


def problem_text(problem: dict[str, Any]) -> str:
    if "msgid" in problem:
        return gettext(problem["msgid"], **problem.get("params", {}))
    return str(problem.get("text", ""))


class JobRefused(Exception):
    """The file was refused: nothing was applied. ``problems`` as made by :func:`stored_problem`."""

    def __init__(self, problems: list[dict[str, Any]], total: int) -> None:
        super().__init__(f"{total} problems in the file")
        self.problems = problems[:MAX_KEPT_PROBLEMS]
        self.total = total


# --- handlers ------------------------------------------------------------------------------


class JobRun(Protocol):
    """One run of a job, made by its kind's handler for the worker."""

    def stage(self, stream: IO[bytes]) -> Iterator[int]:
        """Check and stage the file in batches (``add_rows``); yield after each batch the
        number of bytes read so far. The worker commits each batch."""
        ...

    def apply(self) -> dict[str, Any]:
        """Apply the staged rows (flush, never commit); return the counts. Raise
        :class:`JobRefused` if the file has problems."""
        ...


Handler = Callable[[Job], JobRun]
_handlers: dict[str, Handler] = {}


def register(kind: str, handler: Handler) -> None:
    """Let the worker run jobs of ``kind``: ``handler(job)`` makes the run."""
    _handlers[kind] = handler


def add_rows(job: Job, rows: list[tuple[int, dict[str, Any]]]) -> None:
    """Stage ``(line, values)`` rows for the job."""
    if rows:
        db.session.execute(
            JobRow.__table__.insert(),  # type: ignore[attr-defined]
            [{"job_id": job.id, "line": line, "data": json.dumps(values)} for line, values in rows],
        )


def staged_rows(job: Job, batch: int = 1000) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """The job's staged rows in line order, ``batch`` at a time."""
    last = 0
    while True:
        rows = db.session.execute(
            select(JobRow.line, JobRow.data)
            .where(JobRow.job_id == job.id, JobRow.line > last)
            .order_by(JobRow.line)
            .limit(batch)
        ).all()
        if not rows:
            return
        last = rows[-1].line
        yield [(line, json.loads(data)) for line, data in rows]


# --- queueing ------------------------------------------------------------------------------


def _upload_context(storage_key: str) -> tuple[object, ...]:
    return ("job", "upload", storage_key)


def enqueue(
    kind: str,
    owner_id: int,
    organisation_id: int | None,
    stream: IO[bytes],
    *,
    filename: str = "",
    params: dict[str, Any] | None = None,
    hold: bool = False,
    protect: bool = False,
) -> Job:
    """Store the file and queue a job of ``kind`` for it; flush.

    ``hold`` makes the job wait (``JobState.waiting``) until :func:`release`; ``protect`` stores
    the file encrypted under a fresh key, kept protected by the keyring in ``job.file_key_ct``.
    """
    name = reserve_object_name()
    counted = _Counted(stream)
    file_key = crypto.new_key() if protect else None
    if file_key is not None:
        source = cast(IO[bytes], counted)
        file_store().write(name, crypto.encrypt_stream(file_key, source, context=_upload_context(name)))
    else:
        file_store().write(name, counted.chunks())
    job = Job(
        kind=kind,
        owner_id=owner_id,
        organisation_id=organisation_id,
        storage_key=name,
        filename=filename[:255],
        size=counted.size,
        params=json.dumps(params or {}),
        state=JobState.waiting if hold else JobState.queued,
    )
    db.session.add(job)
    db.session.flush()
    if file_key is not None:  # the row id binds the protected key
        job.file_key_ct = _protect_key(file_key, job.id)
        db.session.flush()
    return job


def _protect_key(file_key: bytes, job_id: int) -> bytes:
    return keyring.protect(file_key, table=Job.__tablename__, column="file_key_ct", row=job_id)


class _Counted:
    """A stream read in chunks, counting the bytes."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.size += len(data)
        return data

    def chunks(self) -> Iterator[bytes]:
        while chunk := self.read(1024 * 1024):
            yield chunk


class _ChunkStream(io.RawIOBase):
    """A readable stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = chunk
        count = min(len(buffer), len(self._rest))
        buffer[:count] = self._rest[:count]
        self._rest = self._rest[count:]
        return count


@contextmanager
def open_upload(job: Job) -> Iterator[IO[bytes]]:
    """The job's uploaded file as a readable binary stream (decrypted if it was protected)."""
    if not job.storage_key:
        raise ValueError(f"job {job.id} has no stored file")
    with file_store().open(job.storage_key) as raw:
        if job.file_key_ct is None:
            yield raw
            return
        file_key = keyring.unprotect(
            job.file_key_ct, table=Job.__tablename__, column="file_key_ct", row=job.id
        )
        chunks = crypto.decrypt_stream(file_key, raw, context=_upload_context(job.storage_key))
        yield cast(IO[bytes], io.BufferedReader(_ChunkStream(chunks), buffer_size=1024 * 1024))


def release(job: Job, params: dict[str, Any] | None = None) -> None:
    """Queue a held job, with ``params`` merged into its own; flush. Only a waiting job."""
    if job.state != JobState.waiting:
        raise ValueError(f"job {job.id} is {job.state.value}, not waiting")
    job.params = json.dumps({**job.arguments, **(params or {})})
    job.state = JobState.queued
    db.session.flush()


def cancel(job: Job) -> None:
    """Stop a job no worker has begun (waiting or queued): failed as cancelled, its upload
    shredded (its key cleared) and, once the transaction commits, deleted; flush."""
    if job.state not in (JobState.waiting, JobState.queued):
        raise ValueError(f"job {job.id} is {job.state.value}, it cannot be cancelled")
    key = job.storage_key
    job.state, job.finished_dt, job.storage_key, job.file_key_ct = JobState.failed, utcnow(), None, None
    job.error = json.dumps({"cancelled": True})
    db.session.flush()
    # Only once the cancellation is committed: rolled back, the job still waits for its file.
    on_commit(functools.partial(_delete_upload, job.id, key))


def _delete_upload(job_id: int, key: str | None) -> None:
    if key:
        try:
            file_store().delete(key)
        except OSError:  # the collector will find it
            logger.warning("job %s: could not delete its upload", job_id)


def cancel_abandoned() -> int:
    """Cancel held jobs older than ``JOB_WAITING_HOURS``; commit. Returns how many."""
    hours = float(current_app.config.get("JOB_WAITING_HOURS") or DEFAULT_WAITING_HOURS)
    before = utcnow() - timedelta(hours=hours)
    old = db.session.scalars(
        select(Job).where(Job.state == JobState.waiting, Job.created_dt < before).order_by(Job.id)
    ).all()
    for job in old:
        cancel(job)
    db.session.commit()
    return len(old)


def _stale_before() -> datetime:
    seconds = int(current_app.config.get("JOB_STALE_SECONDS") or DEFAULT_STALE_SECONDS)
    return utcnow() - timedelta(seconds=seconds)


def _claimable(stale_before: datetime) -> Any:
    return or_(
        Job.state == JobState.queued,
        (Job.state == JobState.running) & (Job.heartbeat_dt < stale_before),
    )


def claim() -> tuple[Job, str] | None:
    """Take the oldest queued job, or one whose worker stopped beating; commit the claim."""
    stale_before = _stale_before()
    candidate = db.session.scalar(
        select(Job.id)
        .where(_claimable(stale_before), Job.kind.in_(list(_handlers)))
        .order_by(Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if candidate is None:
        db.session.rollback()
        return None
    token = secrets.token_hex(16)
    now = utcnow()
    taken = db.session.execute(
        update(Job)
        .where(Job.id == candidate, _claimable(stale_before))
        .values(
            state=JobState.running, claim=token, started_dt=now, heartbeat_dt=now, rows_done=0, problems=0
        )
        .execution_options(synchronize_session=False)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        db.session.rollback()
        return None
    # Whatever an earlier worker staged for this job is thrown away: staging starts over.
    db.session.execute(delete(JobRow).where(JobRow.job_id == candidate))
    db.session.commit()
    job = db.session.get(Job, candidate, populate_existing=True)
    assert job is not None
    return job, token


class LostClaim(Exception):
    """Another worker took the job over: this one stops without writing."""


def beat(job: Job, token: str, **progress: int) -> None:
    """Record progress and a heartbeat, if the job is still this worker's; commit."""
    done = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.claim == token)
        .values(heartbeat_dt=utcnow(), **progress)
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        db.session.rollback()
        raise LostClaim(job.id)
    db.session.commit()


@dataclass
class Outcome:
    job_id: int
    state: JobState


def _finish(job_id: int, token: str, state: JobState, **values: Any) -> bool:
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or job.claim != token:
        db.session.rollback()
        return False
    db.session.execute(delete(JobRow).where(JobRow.job_id == job_id))
    key = job.storage_key
    job.state, job.finished_dt, job.claim, job.storage_key = state, utcnow(), None, None
    job.file_key_ct = None  # the upload is unreadable from now on, deleted or not
    for name, value in values.items():
        setattr(job, name, value)
    hooks.job_finished.send(job=job)
    db.session.commit()
    _delete_upload(job_id, key)
    return True


def run(job: Job, token: str, *, max_batches: int | None = None) -> Outcome | None:
    """Run a claimed job: stage in batches (each committed), then apply in one transaction.

    ``max_batches`` stops after that many batches (tests simulate a worker killed mid-way).
    Returns None if the job was stopped or taken over.
    """
    job_id = job.id
    work = _handlers[job.kind](job)
    try:
        with open_upload(job) as stream:
            for count, read in enumerate(work.stage(stream), start=1):
                rows = db.session.scalar(select(func.count()).where(JobRow.job_id == job_id)) or 0
                beat(job, token, bytes_done=read, rows_done=rows, problems=getattr(work, "problems", 0))
                if max_batches is not None and count >= max_batches:
                    return None
        staged = db.session.scalar(select(func.count()).where(JobRow.job_id == job_id)) or 0
        beat(job, token, bytes_done=job.size, rows_done=staged, rows_total=staged)
        summary = work.apply()
    except LostClaim:
        logger.warning("job %s was taken over by another worker", job_id)
        return None
    except JobRefused as exc:
        db.session.rollback()
        error = json.dumps({"problems": exc.problems, "total": exc.total})
        _finish(job_id, token, JobState.failed, error=error, problems=exc.total)
        return Outcome(job_id, JobState.failed)
    except Exception:
        db.session.rollback()
        logger.exception("job %s failed", job_id)
        error = json.dumps({"unexpected": True})
        _finish(job_id, token, JobState.failed, error=error)
        return Outcome(job_id, JobState.failed)
    ok = _finish(job_id, token, JobState.done, result=json.dumps(summary))
    return Outcome(job_id, JobState.done) if ok else None


def work_once(*, max_batches: int | None = None) -> list[Outcome]:
    """Cancel held jobs left too long, then run every job there is to run now, one after
    the other."""
    outcomes = []
    intent = write_intent.set(True)
    try:
        cancel_abandoned()
        while (claimed := claim()) is not None:
            outcome = run(*claimed, max_batches=max_batches)
            if outcome is None:
                break
            outcomes.append(outcome)
    finally:
        write_intent.reset(intent)
    return outcomes
