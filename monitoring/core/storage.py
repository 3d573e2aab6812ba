"""Where encrypted files live: a storage interface whose default is a directory.

The store only ever sees ciphertext (see :func:`monitoring.core.crypto.encrypt_stream`); object
names are random and say nothing about the content.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import IO, Protocol

from flask import current_app


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


# An upload writes its object before the row that names it is committed; objects younger than
# this are never taken for orphans.
ORPHAN_GRACE_SECONDS = 3600


def stored_names(names: list[str]) -> set[str]:
    """The names among ``names`` that a row refers to (every mapped ``storage_key`` column)."""
    from sqlalchemy import select

    from monitoring.core.db import Base, db

    found: set[str] = set()
    for mapper in Base.registry.mappers:
        column = mapper.columns.get("storage_key")
        if column is not None:
            found.update(db.session.scalars(select(column).where(column.in_(names))))
    return found


def purge_orphans(store: FileStore, *, older_than: float = ORPHAN_GRACE_SECONDS, batch: int = 500) -> int:
    """Delete objects no row refers to, e.g. left by an upload whose transaction rolled back.

    They cannot be read (their key was only in the rolled-back row), but they take space and
    nothing else would ever remove them. Returns how many were deleted.
    """
    deleted = 0
    pending: list[str] = []

    def flush() -> int:
        orphans = set(pending) - stored_names(pending)
        for name in orphans:
            store.delete(name)
        pending.clear()
        return len(orphans)

    for name in store.names_older_than(older_than):
        pending.append(name)
        if len(pending) >= batch:
            deleted += flush()
    if pending:
        deleted += flush()
    return deleted
