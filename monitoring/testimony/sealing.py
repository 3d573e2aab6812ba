"""Sealing and opening worker testimony.

A report's fields are encrypted under its own random data key, bound to table, column and
row; the data key is sealed (HPKE) to the newest key of the monitor organisation that receives
the report, and the sealing names the report, so the sealed key opens for no other row.
Conversation messages and evidence files have keys of their own: a message key is sealed to
the organisation and, on anonymous reports, to the public key derived from the worker's
receipt, each naming the message and its author side; a file key is sealed to the organisation,
naming the report and the stored object.

After a rotation, :func:`rewrap_batch` moves sealed keys to the newest version (and rows of the
older, unbound form to the bound one); after a member left, :func:`reencrypt_batch` replaces
each report's data key and every message and file key with fresh ones, so a copy of an old
version's private key no longer opens anything in the database.

Opening anything sealed needs a member's unlocked private key (see
:mod:`monitoring.accounts.keys`) and writes an audit entry naming who, what and why. A failed
opening raises :class:`SealedAccessError` *after* writing an audit entry; the handler commits
that entry and shows a generic error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, lazyload

from monitoring.accounts.models import Organisation, OrganisationKey, User, UserRole
from monitoring.core import audit, crypto
from monitoring.core.crypto import DecryptionError
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.storage import file_store, reserve_object_name
from monitoring.core.types import utcnow
from monitoring.supplychain.models import Site
from monitoring.testimony.models import (
    Evidence,
    IssueCategory,
    MonitorCoverage,
    ReportCategory,
    ReportChannel,
    ReportGrant,
    ReportMessage,
    RetaliationRisk,
    SurveyImport,
    WorkerReport,
)

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


def responsible_organisation(session: Session, *, site: Site | None, country: str | None) -> Organisation:
    """Return the monitor organisation that receives reports about this workplace."""
    country = site.country if site is not None else (country or "").upper() or None
    coverage = None
    if country:
        coverage = session.scalar(select(MonitorCoverage).where(MonitorCoverage.country == country))
    if coverage is None:
        coverage = session.scalar(select(MonitorCoverage).where(MonitorCoverage.is_fallback))
    if coverage is None or not coverage.organisation.is_active:
        raise OperationError(_l("No monitoring organisation receives reports for this country yet."))
    return coverage.organisation


def _current_key(organisation: Organisation) -> OrganisationKey:
    from monitoring.accounts import keys

    org_key = keys.current_organisation_key(organisation)
    if org_key is None:
        raise OperationError(
            _l(
                "%(organisation)s cannot receive sealed reports yet: it has no key.",
                organisation=organisation.name,
            )
        )
    return org_key


def _data_key_context(
    report: WorkerReport, org_key_id: int, binding: int | None = None
) -> tuple[object, ...]:
    if (report.key_binding if binding is None else binding) == UNBOUND:
        return (REPORT, "data_key", org_key_id)
    return (REPORT, "data_key", report.id, org_key_id)


def _seal_to(org_key: OrganisationKey, secret: bytes, context: tuple[object, ...]) -> bytes:
    return crypto.seal(org_key.public_key, secret, context=context, suite=org_key.algorithm.value)


def _member_opener(actor: User) -> KeyOpener:
    from monitoring.accounts import keys

    return lambda org_key: keys.organisation_private_key(actor, org_key)


def _seal_field(data_key: bytes, report: WorkerReport, column: str, value: object) -> bytes:
    plaintext = json.dumps(value, ensure_ascii=False).encode()
    return crypto.encrypt_field(data_key, plaintext, table=REPORT, column=column, row=report.id)


def _open_field(data_key: bytes, report: WorkerReport, column: str) -> object:
    blob = getattr(report, column)
    if blob is None:
        return None
    plaintext = crypto.decrypt_field(data_key, blob, table=REPORT, column=column, row=report.id)
    return json.loads(plaintext)


def create_report(
    *,
    organisation: Organisation,
    site: Site | None,
    country: str | None,
    channel: ReportChannel,
    collected_date: date,
    language: str,
    consent_share_buyers: bool,
    consent_share_supplier: bool,
    consent_contact: bool,
    retaliation_risk: RetaliationRisk | None,
    identity: Identity | None,
    testimony: Testimony,
    workplace: str = "",
    created_by: User | None = None,
    receipt_lookup: str | None = None,
    receipt_public_key: bytes | None = None,
    survey_import: SurveyImport | None = None,
    source_digest: str | None = None,
) -> WorkerReport:
    """Seal a new report to the organisation's newest key; flush; audit metadata only."""
    org_key = _current_key(organisation)
    data_key = crypto.new_key()
    now = utcnow()
    direct = channel in DIRECT_CHANNELS
    config = current_app.config
    report = WorkerReport(
        organisation=organisation,
        organisation_key_id=org_key.id,
        wrapped_key=b"",  # sealed below: the sealing names the row's id
        key_binding=BOUND,
        data_key_generation=org_key.version,
        site=site,
        country=site.country if site is not None else country,
        channel=channel,
        collected_date=collected_date,
        language=language,
        consent_share_buyers=consent_share_buyers,
        consent_share_supplier=consent_share_supplier,
        consent_contact=consent_contact,
        retaliation_risk=retaliation_risk,
        created_by=created_by,
        receipt_lookup=receipt_lookup,
        receipt_public_key=receipt_public_key,
        survey_import_id=survey_import.id if survey_import is not None else None,
        source_digest=source_digest,
        acknowledge_due_dt=now + timedelta(days=config["REPORT_ACKNOWLEDGE_DAYS"]) if direct else None,
        feedback_due_dt=now + timedelta(days=config["REPORT_FEEDBACK_DAYS"]) if direct else None,
        categories=[ReportCategory(category=c) for c in dict.fromkeys(testimony.categories)],
    )
    db.session.add(report)
    db.session.flush()  # the row id is part of the data key's sealing and every field's associated data
    report.wrapped_key = _seal_to(org_key, data_key, _data_key_context(report, org_key.id))
    if identity is not None and not identity.is_empty():
        report.identity_sealed = _seal_field(data_key, report, "identity_sealed", asdict(identity))
    report.testimony_sealed = _seal_field(data_key, report, "testimony_sealed", testimony.text)
    if workplace:
        report.workplace_sealed = _seal_field(data_key, report, "workplace_sealed", workplace)
    db.session.flush()
    audit.record(
        "report.create",
        f"Received sealed report {report.id} ({channel.value}) for {organisation.name}",
        actor=created_by,
        obj=report,
        data={
            "channel": channel.value,
            "site_id": report.site_id,
            "country": report.country,
            "organisation_key_id": org_key.id,
            "anonymous": receipt_lookup is not None,
        },
    )
    return report


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
    return SealedAccessError(what)


def _report_data_key(user: User, report: WorkerReport) -> bytes:
    """Unwrap a report's data key with what this user holds (organisation key or a grant)."""
    from monitoring.accounts import keys

    if user.role == UserRole.monitor and user.organisation_id == report.organisation_id:
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


def _unseal_data_key(open_version: KeyOpener, report: WorkerReport) -> bytes:
    org_key = db.session.get(OrganisationKey, report.organisation_key_id)
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

    return (DecryptionError, keys.KeysLocked, keys.NoKeyAccess)


def open_report(user: User, report: WorkerReport, *, reason: str) -> OpenedReport:
    """Decrypt identity, testimony and workplace for a member; audit who, which and why."""
    try:
        data_key = _report_data_key(user, report)
        identity = _open_field(data_key, report, "identity_sealed")
        testimony = _open_field(data_key, report, "testimony_sealed")
        workplace = _open_field(data_key, report, "workplace_sealed")
    except _access_errors() as exc:
        raise _fail(user, report, "report", reason, exc) from exc
    audit.record(
        "report.open",
        f"Opened sealed report {report.id}",
        actor=user,
        obj=report,
        data={"reason": reason},
    )
    return OpenedReport(
        identity=Identity(**identity) if isinstance(identity, dict) else None,
        testimony=str(testimony or ""),
        workplace=str(workplace or ""),
    )


def grant_report(granter: User, report: WorkerReport, grantee: User) -> ReportGrant:
    """Let a coordinator read one report: seal its data key to the coordinator's public key."""
    if grantee.role != UserRole.coordinator or not grantee.is_active:
        raise OperationError(_l("Reports can be shared only with active coordinators."), "user")
    from monitoring.accounts import keys

    # A coordinator whose password only an administrator has set has no key: nothing is sealed
    # to them until they set their own.
    keys.require_own_key(grantee, actor=granter)
    try:
        data_key = _report_data_key(granter, report)
        # Share only a key that opens this report: never whatever key a row was made to hold.
        _check_data_key(data_key, report)
    except _access_errors() as exc:
        raise _fail(granter, report, "data key", "grant", exc) from exc
    grant = db.session.scalar(
        select(ReportGrant).where(ReportGrant.report_id == report.id, ReportGrant.user_id == grantee.id)
    )
    if grant is not None:
        raise OperationError(_l("%(name)s can already read this report.", name=grantee.name), "user")
    grant = ReportGrant(
        report_id=report.id,
        user_id=grantee.id,
        granted_by_id=granter.id,
        wrapped_key=crypto.seal(grantee.public_key, data_key, context=_grant_context(report.id, grantee.id)),
    )
    db.session.add(grant)
    db.session.flush()
    audit.record(
        "report.grant",
        f"Shared report {report.id} with coordinator {grantee.email}",
        actor=granter,
        obj=report,
        data={"grantee_id": grantee.id},
    )
    return grant


def revoke_report_grant(actor: User, grant: ReportGrant) -> None:
    report_id, grantee_id = grant.report_id, grant.user_id
    db.session.delete(grant)
    db.session.flush()
    audit.record(
        "report.grant_revoke",
        f"Stopped sharing report {report_id} with user {grantee_id}",
        actor=actor,
        object_type="WorkerReport",
        object_id=report_id,
        data={"grantee_id": grantee_id},
    )


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


def _body_aad(message: ReportMessage, binding: int | None = None) -> dict[str, object]:
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
    org_key = db.session.get(OrganisationKey, message.organisation_key_id)
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
        if user.role != UserRole.monitor or user.organisation_id != report.organisation_id:
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
    file_store().write(storage_key, crypto.encrypt_stream(file_key, counting, context=context))
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
        if user.role != UserRole.monitor or user.organisation_id != report.organisation_id:
            raise keys.NoKeyAccess()
        org_key = db.session.get(OrganisationKey, evidence.organisation_key_id)
        private = keys.organisation_private_key(user, org_key)
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
    model: type[WorkerReport] | type[ReportMessage] | type[Evidence],
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


def _is_stale(
    model: type[WorkerReport] | type[ReportMessage] | type[Evidence], current: OrganisationKey
) -> Any:
    """Sealed to an older version, or (reports and messages) in the older, unbound form."""
    if model is Evidence:
        return Evidence.organisation_key_id != current.id
    return or_(model.organisation_key_id != current.id, model.key_binding != BOUND)


def keys_to_rewrap(organisation: Organisation) -> int:
    """How many sealed keys :func:`rewrap_batch` still has to move (0 without a key)."""
    from monitoring.accounts import keys

    current = keys.current_organisation_key(organisation)
    if current is None:
        return 0
    total = db.session.scalar(
        select(func.count())
        .select_from(WorkerReport)
        .where(WorkerReport.organisation_id == organisation.id, _is_stale(WorkerReport, current))
    )
    for model in (ReportMessage, Evidence):
        total += db.session.scalar(
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
    row: WorkerReport | ReportMessage | Evidence | None = None
    savepoint = db.session.begin_nested()
    try:
        for row in _stale(WorkerReport, organisation, current, batch_size):
            data_key = _unseal_data_key(open_version, row)
            row.organisation_key_id = current.id
            row.key_binding = BOUND
            row.wrapped_key = _seal_to(current, data_key, _data_key_context(row, current.id))
            moved["reports"] += 1
        left = batch_size - moved["reports"]
        for row in _stale(ReportMessage, organisation, current, left) if left > 0 else []:
            message_key, body = _open_message(open_version, row)
            report = db.session.get(WorkerReport, row.report_id)
            _seal_message(row, report, current, message_key, body)
            moved["messages"] += 1
        left -= moved["messages"]
        for row in _stale(Evidence, organisation, current, left) if left > 0 else []:
            org_key = db.session.get(OrganisationKey, row.organisation_key_id)
            context = _file_context(row.report_id, row.storage_key)
            file_key = crypto.unseal(open_version(org_key), row.wrapped_key, context=(*context, org_key.id))
            row.wrapped_key = _seal_to(current, file_key, (*context, current.id))
            row.organisation_key_id = current.id
            moved["files"] += 1
        savepoint.commit()
    except _access_errors() as exc:
        savepoint.rollback()
        raise _batch_failed("rewrap", actor, organisation, row, exc) from exc
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
    kind: str, actor: User | None, organisation: Organisation, row: object, exc: Exception
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
        org_key = db.session.get(OrganisationKey, evidence.organisation_key_id)
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
            plain = _ChunkReader(crypto.decrypt_stream(file_key, fh, context=old_context))
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
        )
        .options(lazyload("*"))
        .order_by(WorkerReport.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True, of=WorkerReport)
    )
    done = ReencryptBatch()
    written: list[str] = []
    report: WorkerReport | None = None
    savepoint = db.session.begin_nested()
    try:
        for report in db.session.scalars(query).all():
            written += _reencrypt_report(report, current, open_version, done)
        savepoint.commit()
    except _access_errors() as exc:
        savepoint.rollback()
        for name in written:
            file_store().delete(name)
        raise _batch_failed("reencrypt", actor, organisation, report, exc) from exc
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
