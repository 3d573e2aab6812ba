"""Sealing the conversation with the worker and evidence files (see :mod:`.sealing`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import IO, Any, cast

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.accounts.models import OrganisationKey, User
from monitoring.core import audit, crypto
from monitoring.core.crypto import DecryptionError
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.storage import file_store, reserve_object_name
from monitoring.testimony.models import (
    Evidence,
    ReportMessage,
    WorkerReport,
)
from monitoring.testimony.permissions import is_member
from monitoring.testimony.sealing_base import (
    BOUND,
    MESSAGE,
    UNBOUND,
    KeyOpener,
    OpenedMessage,
    _access_errors,
    _current_key,
    _fail,
    _member_opener,
    _org_key,
    _seal_to,
)

logger = logging.getLogger(__name__)

# --- Conversation with the worker ---------------------------------------------------------


def _side(message: ReportMessage) -> str:
    return "worker" if message.from_worker else "monitor"


def _message_key_context(
    message: ReportMessage, key_id: int, binding: int | None = None
) -> tuple[object, ...]:
    """What the message key sealed to the organisation is bound to."""
    if (message.key_binding if binding is None else binding) == UNBOUND:
        return (MESSAGE, "organisation", message.report_id, key_id)
    return (MESSAGE, "organisation", message.report_id, message.id, _side(message), key_id)


def _receipt_key_context(message: ReportMessage, binding: int | None = None) -> tuple[object, ...]:
    """What the message key sealed to the worker's receipt is bound to."""
    if (message.key_binding if binding is None else binding) == UNBOUND:
        return (MESSAGE, "receipt", message.report_id, "worker")
    return (MESSAGE, "receipt", message.report_id, message.id, _side(message))


def _body_aad(message: ReportMessage, binding: int | None = None) -> dict[str, Any]:
    if (message.key_binding if binding is None else binding) == UNBOUND:
        # Each message has its own key, so a body moved to another message fails to open.
        return {"table": MESSAGE, "column": "body_sealed", "row": message.report_id}
    return {
        "table": MESSAGE,
        "column": f"body_sealed/{_side(message)}",
        "row": f"{message.report_id}/{message.id}",
    }


def _seal_message(
    message: ReportMessage, report: WorkerReport, org_key: OrganisationKey, message_key: bytes, body: bytes
) -> None:
    """Seal a message's body and key in the bound form, to the version and the receipt."""
    message.key_binding = BOUND
    message.organisation_key_id = org_key.id
    message.organisation_wrapped_key = _seal_to(
        org_key, message_key, _message_key_context(message, org_key.id)
    )
    message.receipt_wrapped_key = (
        crypto.seal(report.receipt_public_key, message_key, context=_receipt_key_context(message))
        if report.receipt_public_key is not None
        else None
    )
    message.body_sealed = crypto.encrypt_field(message_key, body, **_body_aad(message))


def _open_message(open_version: KeyOpener, message: ReportMessage) -> tuple[bytes, bytes]:
    """Return a message's key and body, opened with the organisation's key."""
    org_key = _org_key(message.organisation_key_id)
    context = _message_key_context(message, message.organisation_key_id)
    message_key = crypto.unseal(open_version(org_key), message.organisation_wrapped_key, context=context)
    return message_key, crypto.decrypt_field(message_key, message.body_sealed, **_body_aad(message))


def add_message(report: WorkerReport, *, body: str, author: User | None) -> ReportMessage:
    """Append a message (author None: the worker), sealed to the organisation and the receipt."""
    body = body.strip()
    if not body:
        raise OperationError(_l("Write a message first."), "body")
    org_key = _current_key(report.organisation)
    message = ReportMessage(
        report=report,
        from_worker=author is None,
        author=author,
        organisation_key_id=org_key.id,
        organisation_wrapped_key=b"",  # sealed below: the sealing names the row's id
        body_sealed=b"",
        key_binding=BOUND,
    )
    db.session.add(message)
    db.session.flush()
    _seal_message(message, report, org_key, crypto.new_key(), body.encode())
    db.session.flush()
    audit.record(
        "report.message",
        f"{'Worker' if author is None else 'Monitor'} message {message.id} on report {report.id}",
        actor=author,
        obj=report,
        data={"message_id": message.id, "from_worker": author is None},
    )
    return message


def _messages(report: WorkerReport) -> list[ReportMessage]:
    return list(
        db.session.scalars(
            select(ReportMessage).where(ReportMessage.report_id == report.id).order_by(ReportMessage.id)
        )
    )


def read_messages(user: User, report: WorkerReport, *, reason: str) -> list[OpenedMessage]:
    """Decrypt the conversation for a member of the receiving organisation."""
    from monitoring.accounts import keys

    opened = []
    try:
        if not is_member(user, report):
            raise keys.NoKeyAccess()
        open_version = _member_opener(user)
        for message in _messages(report):
            _message_key, body = _open_message(open_version, message)
            opened.append(OpenedMessage(message, body.decode()))
    except _access_errors() as exc:
        raise _fail(user, report, "conversation", reason, exc) from exc
    if opened:
        audit.record(
            "report.read_messages",
            f"Read the conversation of report {report.id}",
            actor=user,
            obj=report,
            data={"reason": reason, "messages": len(opened)},
        )
    return opened


def read_messages_with_receipt(report: WorkerReport, receipt_private_key: bytes) -> list[OpenedMessage]:
    """Decrypt the conversation for the worker who holds the receipt."""
    opened = []
    try:
        for message in _messages(report):
            if message.receipt_wrapped_key is None:
                continue
            message_key = crypto.unseal(
                receipt_private_key, message.receipt_wrapped_key, context=_receipt_key_context(message)
            )
            body = crypto.decrypt_field(message_key, message.body_sealed, **_body_aad(message))
            opened.append(OpenedMessage(message, body.decode()))
    except DecryptionError as exc:
        raise _fail(None, report, "conversation", "worker follow-up", exc) from exc
    return opened


# --- Evidence files -----------------------------------------------------------------------


def sniff_content_type(head: bytes) -> str | None:
    """Recognise an allowed file type from its first bytes."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    return None


class _Prepended:
    """A readable stream with bytes already read put back in front."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head = head
        self.rest = rest

    def read(self, size: int = -1) -> bytes:
        if self.head:
            if size < 0:
                data, self.head = self.head + self.rest.read(), b""
                return data
            data, self.head = self.head[:size], self.head[size:]
            if len(data) < size:
                data += self.rest.read(size - len(data))
            return data
        return self.rest.read(size)


class _Counting:
    def __init__(self, stream: IO[bytes] | _Prepended, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.size += len(data)
        if self.size > self.limit:
            raise OperationError(_l("The file is too large."), "file")
        return data


def _file_context(report_id: int, storage_key: str) -> tuple[object, ...]:
    return (Evidence.__tablename__, report_id, storage_key)


def add_evidence(
    report: WorkerReport, *, stream: IO[bytes], filename: str, uploaded_by: User | None
) -> Evidence:
    """Check the file's type by its content, seal it in chunks to the file store, record it.

    The file key is sealed to the organisation's newest key, so a worker without an account can
    add evidence too. The caller has already refused a request whose declared length exceeds
    the limit; the limit is enforced again while reading, for bodies without a declared length.
    """
    head = b""
    while len(head) < 16 and (more := stream.read(16 - len(head))):
        head += more  # a network stream may hand out fewer bytes than asked for
    content_type = sniff_content_type(head)
    if content_type is None:
        raise OperationError(
            _l("This type of file is not accepted. Send a PDF, a photo (JPEG, PNG, WebP), audio or video."),
            "file",
        )
    org_key = _current_key(report.organisation)
    file_key = crypto.new_key()
    counting = _Counting(_Prepended(head, stream), current_app.config["EVIDENCE_MAX_BYTES"])
    storage_key = reserve_object_name()
    context = _file_context(report.id, storage_key)
    file_store().write(
        storage_key, crypto.encrypt_stream(file_key, cast(IO[bytes], counting), context=context)
    )
    evidence = Evidence(
        report=report,
        organisation_key_id=org_key.id,
        wrapped_key=_seal_to(org_key, file_key, (*context, org_key.id)),
        name_sealed=crypto.encrypt_field(
            file_key, filename.encode(), table=Evidence.__tablename__, column="name_sealed", row=storage_key
        ),
        content_type=content_type,
        size=counting.size,
        storage_key=storage_key,
        uploaded_by_id=uploaded_by.id if uploaded_by is not None else None,
    )
    db.session.add(evidence)
    db.session.flush()
    audit.record(
        "report.evidence_add",
        f"Added a sealed {content_type} file ({counting.size} bytes) to report {report.id}",
        actor=uploaded_by,
        obj=report,
        data={"evidence_id": evidence.id, "content_type": content_type, "size": counting.size},
    )
    return evidence


def open_evidence(user: User, evidence: Evidence, *, reason: str) -> tuple[str, Iterator[bytes]]:
    """Return the file name and a decrypting iterator over the content; audit the opening."""
    from monitoring.accounts import keys

    report = evidence.report
    context = _file_context(report.id, evidence.storage_key)
    try:
        if not is_member(user, report):
            raise keys.NoKeyAccess()
        private = keys.organisation_private_key(user, _org_key(evidence.organisation_key_id))
        key_context = (*context, evidence.organisation_key_id)
        file_key = crypto.unseal(private, evidence.wrapped_key, context=key_context)
        name = crypto.decrypt_field(
            file_key,
            evidence.name_sealed,
            table=Evidence.__tablename__,
            column="name_sealed",
            row=evidence.storage_key,
        ).decode()
    except _access_errors() as exc:
        raise _fail(user, report, "evidence", reason, exc) from exc
    audit.record(
        "report.evidence_open",
        f"Opened sealed file {evidence.id} of report {report.id}",
        actor=user,
        obj=report,
        data={"reason": reason, "evidence_id": evidence.id},
    )

    def chunks() -> Iterator[bytes]:
        # Decryption errors here surface mid-download; the file was tampered with in the store.
        with file_store().open(evidence.storage_key) as fh:
            yield from crypto.decrypt_stream(file_key, fh, context=context)

    return name, chunks()
