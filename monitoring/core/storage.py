"""Where encrypted files live: a storage interface whose default is a directory.

The store only ever sees ciphertext (see :func:`monitoring.core.crypto.encrypt_stream`); object
names are random and say nothing about the content.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Protocol

from flask import current_app
from sqlalchemy import String, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from monitoring.core.db import Base
from monitoring.core.types import UTCDateTime, utcnow

logger = logging.getLogger(__name__)


def new_object_name() -> str:
    """Return a fresh random object name."""
    return secrets.token_urlsafe(32)


class FileStore(Protocol):
    def write(self, name: str, chunks: Iterable[bytes]) -> None:
        """Store the chunks as a new object of that name (from :func:`new_object_name`)."""

    def open(self, name: str) -> IO[bytes]:
        """Open an object for reading."""

    def delete(self, name: str) -> None:
        """Remove an object; a missing one is not an error."""

    def names_older_than(self, seconds: float) -> Iterator[str]:
        """The names of the objects written more than ``seconds`` ago."""

    def shred(self, name: str) -> None:
        """Overwrite an object with random bytes, then remove it; a missing one is not an error."""


class DirectoryStore:
    """Objects as files in a directory, fanned out by the first two characters of the name."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        if len(name) != 43 or not all(c.isalnum() or c in "-_" for c in name):
            raise ValueError("bad object name")
        return self.root / name[:2] / name

    def write(self, name: str, chunks: Iterable[bytes]) -> None:
        path = self._path(name)
        if path.exists():
            raise FileExistsError(name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".part")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with suppress(FileNotFoundError):
                tmp.unlink()
            raise

    def open(self, name: str) -> IO[bytes]:
        return self._path(name).open("rb")

    def delete(self, name: str) -> None:
        with suppress(FileNotFoundError):
            self._path(name).unlink()

    def shred(self, name: str) -> None:
        # The object is ciphertext whose key is destroyed with it; overwriting it as well leaves
        # nothing for a later key compromise on file systems that write in place.
        path = self._path(name)
        with suppress(FileNotFoundError):
            size = path.stat().st_size
            with path.open("r+b") as fh:
                left = size
                while left > 0:
                    step = min(left, 1 << 20)
                    fh.write(secrets.token_bytes(step))
                    left -= step
                fh.flush()
                os.fsync(fh.fileno())
            path.unlink()

    def names_older_than(self, seconds: float) -> Iterator[str]:
        cutoff = time.time() - seconds
        if not self.root.is_dir():
            return
        for fan in sorted(self.root.iterdir()):
            if not fan.is_dir() or len(fan.name) != 2:
                continue
            for path in sorted(fan.iterdir()):
                if path.suffix != ".part" and path.name.startswith(fan.name):
                    with suppress(FileNotFoundError):
                        if path.stat().st_mtime < cutoff:
                            yield path.name


def file_store() -> FileStore:
    """Return the app's file store."""
    return DirectoryStore(Path(current_app.config["FILE_STORE_PATH"]))


# --- uploads and the garbage collector -----------------------------------------------------
#
# An upload writes its object before the row that names it is committed, so a request that
# fails afterwards leaves an object no row names. Before writing, the upload is recorded in
# ``stored_upload`` in a transaction of its own; the collector deletes an object only when that
# record proves it was started by this database and, after the grace period, no row names it.
# An object with neither a record nor a row is *unknown*: a file uploaded after the backup this
# database was restored from, another installation's file, or one written during a crash. It is
# reported, never deleted, and while there are any the collector deletes nothing at all.

# Objects younger than this are never taken for abandoned: their request may still be running.
ORPHAN_GRACE_SECONDS = 3600


class StoredUpload(Base):
    """An object the file store is about to receive, recorded before it is written."""

    __tablename__ = "stored_upload"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_dt: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def reserve_object_name() -> str:
    """Return a new object name, recorded as an upload that has started; then write it.

    The record is committed at once, in a transaction of its own, so that it outlives a
    rollback of the request that writes the object. SQLite allows one writer at a time and the
    request's transaction may hold it already: there the record joins the request's transaction,
    and the object of a rolled-back upload is left as unknown (reported, never deleted).
    """
    from monitoring.core.db import db

    name = new_object_name()
    record = insert(StoredUpload).values(name=name, started_dt=utcnow())
    state = db.state()
    if state.engine.dialect.name == "sqlite" or state.bind is not state.engine:
        # SQLite, or a test bound to one connection whose transaction is rolled back.
        db.session.execute(record)
    else:
        with state.engine.begin() as connection:
            connection.execute(record)
    return name


def stored_names(names: list[str]) -> set[str]:
    """The names among ``names`` that a row refers to (every mapped ``storage_key`` column)."""
    from monitoring.core.db import db

    found: set[str] = set()
    for mapper in Base.registry.mappers:
        column = mapper.columns.get("storage_key")
        if column is not None:
            found.update(db.session.scalars(select(column).where(column.in_(names))))
    return found


@dataclass
class Collection:
    """What one run of :func:`collect_garbage` found and did."""

    deleted: int = 0  # abandoned uploads whose objects were deleted
    unknown: list[str] = field(default_factory=list)  # objects with neither a row nor a record
    held_back: int = 0  # abandoned uploads kept because there are unknown objects

    def summary(self) -> str:
        text = f"deleted {self.deleted} stored files of abandoned uploads"
        if self.unknown:
            text += (
                f"; {len(self.unknown)} stored files are unknown to this database (a restored database,"
                " or another installation's files?) and were kept"
            )
        if self.held_back:
            text += f"; {self.held_back} abandoned uploads kept until the unknown files are explained"
        return text


def collect_garbage(
    store: FileStore, *, older_than: float = ORPHAN_GRACE_SECONDS, batch: int = 500
) -> Collection:
    """Delete the objects of uploads that were recorded but never named by a row; report unknown
    objects. Commits each batch of its own records (the caller has nothing pending)."""
    from monitoring.core.db import db

    result = Collection()
    # Unknown objects first: if the database does not know every object, it may be older than
    # the store (a restore), and what looks abandoned to it may not be.
    pending: list[str] = []

    def classify() -> None:
        known = stored_names(pending) | set(
            db.session.scalars(select(StoredUpload.name).where(StoredUpload.name.in_(pending)))
        )
        result.unknown.extend(name for name in pending if name not in known)
        pending.clear()

    for name in store.names_older_than(older_than):
        pending.append(name)
        if len(pending) >= batch:
            classify()
    if pending:
        classify()
    if result.unknown:
        logger.warning(
            "%s stored files are unknown to the database; none deleted (see `flask files verify`)",
            len(result.unknown),
        )

    cutoff = utcnow() - timedelta(seconds=older_than)
    after = ""
    while True:
        names = list(
            db.session.scalars(
                select(StoredUpload.name)
                .where(StoredUpload.started_dt < cutoff, StoredUpload.name > after)
                .order_by(StoredUpload.name)
                .limit(batch)
            )
        )
        if not names:
            break
        after = names[-1]
        named = stored_names(names)
        done = [n for n in names if n in named]  # finished uploads: the record has served
        abandoned = [n for n in names if n not in named]
        if result.unknown:
            result.held_back += len(abandoned)
        else:
            for name in abandoned:
                store.delete(name)  # a missing object (the write failed) is no error
            result.deleted += len(abandoned)
            done += abandoned
        if done:
            db.session.execute(delete(StoredUpload).where(StoredUpload.name.in_(done)))
        db.session.commit()
    return result


def unknown_objects(store: FileStore, *, batch: int = 500) -> Iterator[str]:
    """Every object in the store that neither a row nor an upload record names."""
    from monitoring.core.db import db

    pending: list[str] = []

    def flush() -> list[str]:
        known = stored_names(pending) | set(
            db.session.scalars(select(StoredUpload.name).where(StoredUpload.name.in_(pending)))
        )
        unknown = [name for name in pending if name not in known]
        pending.clear()
        return unknown

    for name in store.names_older_than(0):
        pending.append(name)
        if len(pending) >= batch:
            yield from flush()
    if pending:
        yield from flush()
