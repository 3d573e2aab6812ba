"""Where encrypted files live: a storage interface whose default is a directory.

The store only ever sees ciphertext (see :func:`monitoring.core.crypto.encrypt_stream`); object
names are random and say nothing about the content.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
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


def file_store() -> FileStore:
    """Return the app's file store."""
    return DirectoryStore(Path(current_app.config["FILE_STORE_PATH"]))
