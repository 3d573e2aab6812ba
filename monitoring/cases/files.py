"""Files attached to case messages and to corrective actions (protected level).

A file's content is encrypted in 64 KiB chunks under its own random key and written to the
file store under a random name; the key and the file name are kept in the row under the
server keyring, bound to the row. Types are recognised by their first bytes, never by the
name or the browser's claim, and the size is limited by ``MONITORING_EVIDENCE_MAX_BYTES``.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, cast

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from monitoring.accounts.models import User
from monitoring.cases.models import Case, CaseFile, CaseMessage, CorrectiveAction
from monitoring.cases.permissions import can_read_file
from monitoring.core import audit, crypto
from monitoring.core.db import db
from monitoring.core.keyring import current_keyring, protect, unprotect
from monitoring.core.operations import OperationError
from monitoring.core.storage import file_store, reserve_object_name
from monitoring.core.types import utcnow
from monitoring.testimony.sealing import ALLOWED_TYPES, sniff_content_type

logger = logging.getLogger(__name__)

TABLE = CaseFile.__tablename__
MAX_FILES = 10
MAX_NAME = 200
# Room for the form fields and multipart framing around the files of one request.
UPLOAD_OVERHEAD_BYTES = 256 * 1024


def size_text(size: int) -> str:
    """A size in megabytes, in the user's language."""
    return _("%(size)s MB", size=format_decimal(size / (1024 * 1024), format="#,##0.#"))


def too_large_message() -> str:
    """Why a request with files was refused before it was read."""
    return _(
        "What you sent is too large: at most %(count)d files, %(total)s together and %(size)s each.",
        count=MAX_FILES,
        total=size_text(int(current_app.config["CASE_UPLOAD_MAX_BYTES"])),
        size=size_text(int(current_app.config["EVIDENCE_MAX_BYTES"])),
    )


def request_body_limit() -> int:
    """The largest body a request with files may send: all its files together, plus the form."""
    return int(current_app.config["CASE_UPLOAD_MAX_BYTES"]) + UPLOAD_OVERHEAD_BYTES


@dataclass
class Upload:
    """A file as received: its name, the type the client claimed (ignored), a stream, its size."""

    name: str
    content_type: str | None
    stream: IO[bytes]
    size: int | None = None

    @classmethod
    def from_storage(cls, item: FileStorage) -> Upload:
        """An upload from a form or multipart part, with its size when the stream can tell it."""
        stream = item.stream
        size: int | None = None
        if isinstance(stream, io.IOBase) and stream.seekable():
            size = stream.seek(0, io.SEEK_END)
            stream.seek(0)
        return cls(name=item.filename or "", content_type=item.mimetype or None, stream=stream, size=size)


def placeholder_ct() -> bytes:
    """A well-formed protected value that never decrypts, for a NOT NULL protected column of a
    row that has no id yet; it is replaced right after the row is flushed."""
    return crypto.protected_prefix(current_keyring().active)


def _clean_name(name: str) -> str:
    """The base name without control characters, shortened; "file" when nothing is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    if len(base) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:MAX_NAME]
    return base or "file"


class _Prepended:
    """A stream with its first bytes (already read to recognise the type) put back in front."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head = head
        self.rest = rest

    def read(self, size: int = -1) -> bytes:
        if not self.head:
            return self.rest.read(size)
        if size < 0:
            data, self.head = self.head + self.rest.read(), b""
            return data
        data, self.head = self.head[:size], self.head[size:]
        if len(data) < size:
            data += self.rest.read(size - len(data))
        return data


class _Limited:
    """Count what is read and refuse more than the limit."""

    def __init__(self, stream: _Prepended, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.size += len(data)
        if self.size > self.limit:
            raise OperationError(_l("The file is too large."), "files")
        return data


@dataclass
class PreparedFile:
    """An upload whose type was recognised; nothing is stored yet."""

    name: str
    content_type: str
    stream: _Prepended


def prepare_uploads(uploads: Sequence[Upload]) -> list[PreparedFile]:
    """Recognise every upload's type (and refuse the batch) before anything is stored."""
    uploads = list(uploads or ())
    if len(uploads) > MAX_FILES:
        raise OperationError(_l("Attach at most %(num)s files at a time.", num=MAX_FILES), "files")
    limit = int(current_app.config["EVIDENCE_MAX_BYTES"])
    prepared = []
    for upload in uploads:
        if upload.size is not None and upload.size > limit:
            raise OperationError(_l("The file is too large."), "files")
        head = b""
        while len(head) < 16 and (more := upload.stream.read(16 - len(head))):
            head += more  # a network stream may hand out fewer bytes than asked for
        content_type = sniff_content_type(head)
        if content_type is None or content_type not in ALLOWED_TYPES:
            raise OperationError(
                _l(
                    "“%(name)s” is not a type of file accepted here. Send a PDF, a photo "
                    "(JPEG, PNG, WebP), audio or video.",
                    name=_clean_name(upload.name),
                ),
                "files",
            )
        prepared.append(PreparedFile(_clean_name(upload.name), content_type, _Prepended(head, upload.stream)))
    return prepared


def _content_context(case_id: int, storage_key: str) -> tuple[object, ...]:
    return (TABLE, "content", case_id, storage_key)


def store_file(
    actor: User,
    case: Case,
    prepared: PreparedFile,
    *,
    message: CaseMessage | None = None,
    action: CorrectiveAction | None = None,
) -> CaseFile:
    """Encrypt a prepared file into the store and record it on a message or an action; flush.

    The caller audits the message or action the file belongs to.
    """
    if (message is None) == (action is None):
        raise ValueError("a case file belongs to exactly one message or action")
    file_key = crypto.new_key()
    storage_key = reserve_object_name()
    limited = _Limited(prepared.stream, int(current_app.config["EVIDENCE_MAX_BYTES"]))
    # encrypt_stream only calls read(size), which a limited stream offers.
    source = cast(IO[bytes], limited)
    file_store().write(
        storage_key, crypto.encrypt_stream(file_key, source, context=_content_context(case.id, storage_key))
    )
    case_file = CaseFile(
        case_id=case.id,
        message=message,
        action=action,
        file_key_ct=placeholder_ct(),
        name_ct=placeholder_ct(),
        content_type=prepared.content_type,
        size=limited.size,
        storage_key=storage_key,
        uploaded_by_id=actor.id,
        uploaded_dt=utcnow(),
    )
    db.session.add(case_file)
    db.session.flush()  # the row id binds the key and the name
    case_file.file_key_ct = protect(file_key, table=TABLE, column="file_key_ct", row=case_file.id)
    case_file.name = prepared.name
    db.session.flush()
    return case_file


def store_files(
    actor: User,
    case: Case,
    prepared: Sequence[PreparedFile],
    *,
    message: CaseMessage | None = None,
    action: CorrectiveAction | None = None,
) -> list[CaseFile]:
    return [store_file(actor, case, p, message=message, action=action) for p in prepared]


def open_case_file(user: User, case_file: CaseFile) -> tuple[str, str, Iterator[bytes]]:
    """Return (name, content type, decrypting iterator over the content); audit the reading.

    The caller has checked that the user sees the case; this refuses a file the user may not read.
    """
    if not can_read_file(user, case_file):
        raise PermissionError("the user may not read this file")
    file_key = unprotect(case_file.file_key_ct, table=TABLE, column="file_key_ct", row=case_file.id)
    name = case_file.name
    context = _content_context(case_file.case_id, case_file.storage_key)
    audit.record(
        "case_file.open",
        f"Read file {case_file.id} of case {case_file.case_id}",
        actor=user,
        obj=case_file,
        data={"case_id": case_file.case_id, "size": case_file.size, "content_type": case_file.content_type},
    )
    storage_key = case_file.storage_key

    def chunks() -> Iterator[bytes]:
        with file_store().open(storage_key) as fh:
            yield from crypto.decrypt_stream(file_key, fh, context=context)

    return name, case_file.content_type, chunks()
