"""Sealing and opening worker testimony.

A report's fields are encrypted under its own random data key, bound to table, column and
row; the data key is sealed (HPKE) to the newest key of the monitor organisation that receives
the report. Conversation messages and evidence files have keys of their own: a message key is
sealed to the organisation and, on anonymous reports, to the public key derived from the
worker's receipt; a file key is wrapped under the report's data key.

Opening anything sealed needs a member's unlocked private key (see
:mod:`monitoring.accounts.keys`) and writes an audit entry naming who, what and why. A failed
opening raises :class:`SealedAccessError` *after* writing an audit entry; the handler commits
that entry and shows a generic error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
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


def _data_key_context(org_key_id: int) -> tuple[object, ...]:
    return (REPORT, "data_key", org_key_id)


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
        wrapped_key=crypto.seal(org_key.public_key, data_key, context=_data_key_context(org_key.id)),
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
    db.session.flush()  # the row id is part of every field's associated data
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
        private = keys.organisation_private_key(user, report.organisation_key)
        context = _data_key_context(report.organisation_key_id)
        return crypto.unseal(private, report.wrapped_key, context=context)
    grant = db.session.scalar(
        select(ReportGrant).where(ReportGrant.report_id == report.id, ReportGrant.user_id == user.id)
    )
    if grant is None:
        raise keys.NoKeyAccess()
    private = keys.unlocked_private_key(user)
    return crypto.unseal(private, grant.wrapped_key, context=("report_grant", report.id, user.id))


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
    if grantee.role != UserRole.coordinator or not grantee.is_active or grantee.public_key is None:
        raise OperationError(_l("Reports can be shared only with active coordinators."), "user")
    try:
        data_key = _report_data_key(granter, report)
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
        wrapped_key=crypto.seal(
            grantee.public_key, data_key, context=("report_grant", report.id, grantee.id)
        ),
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


def _message_context(report_id: int, recipient: str, key_id: object) -> tuple[object, ...]:
    return (ReportMessage.__tablename__, recipient, report_id, key_id)


def _body_aad(report: WorkerReport) -> dict[str, object]:
    # Each message has its own key, so a body moved to another message fails to open.
    return {"table": ReportMessage.__tablename__, "column": "body_sealed", "row": report.id}


def add_message(report: WorkerReport, *, body: str, author: User | None) -> ReportMessage:
    """Append a message (author None: the worker), sealed to the organisation and the receipt."""
    body = body.strip()
    if not body:
        raise OperationError(_l("Write a message first."), "body")
    org_key = _current_key(report.organisation)
    message_key = crypto.new_key()
    message = ReportMessage(
        report=report,
        from_worker=author is None,
        author=author,
        organisation_key_id=org_key.id,
        organisation_wrapped_key=crypto.seal(
            org_key.public_key, message_key, context=_message_context(report.id, "organisation", org_key.id)
        ),
        receipt_wrapped_key=(
            crypto.seal(
                report.receipt_public_key,
                message_key,
                context=_message_context(report.id, "receipt", "worker"),
            )
            if report.receipt_public_key is not None
            else None
        ),
        body_sealed=crypto.encrypt_field(message_key, body.encode(), **_body_aad(report)),
    )
    db.session.add(message)
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
    private_keys: dict[int, bytes] = {}
    try:
        for message in _messages(report):
            if message.organisation_key_id not in private_keys:
                org_key = db.session.get(OrganisationKey, message.organisation_key_id)
                if user.role != UserRole.monitor or user.organisation_id != report.organisation_id:
                    raise keys.NoKeyAccess()
                private_keys[message.organisation_key_id] = keys.organisation_private_key(user, org_key)
            message_key = crypto.unseal(
                private_keys[message.organisation_key_id],
                message.organisation_wrapped_key,
                context=_message_context(report.id, "organisation", message.organisation_key_id),
            )
            body = crypto.decrypt_field(message_key, message.body_sealed, **_body_aad(report))
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
                receipt_private_key,
                message.receipt_wrapped_key,
                context=_message_context(report.id, "receipt", "worker"),
            )
            body = crypto.decrypt_field(message_key, message.body_sealed, **_body_aad(report))
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
        wrapped_key=crypto.seal(org_key.public_key, file_key, context=(*context, org_key.id)),
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
    query = select(model).where(model.organisation_key_id != current.id)
    if model is WorkerReport:
        query = query.where(WorkerReport.organisation_id == organisation.id)
    else:
        query = query.join(WorkerReport, WorkerReport.id == model.report_id).where(
            WorkerReport.organisation_id == organisation.id
        )
    # Two monitors re-wrapping at once take different rows (PostgreSQL; SQLite writes serially).
    query = query.options(lazyload("*")).order_by(model.id).limit(limit)
    return list(db.session.scalars(query.with_for_update(skip_locked=True, of=model)))


def rewrap_batch(actor: User, organisation: Organisation, *, batch_size: int = 200) -> int:
    """Re-seal up to ``batch_size`` keys wrapped to older key versions to the newest; flush; audit.

    Report data keys, message keys and file keys move; the sealed content itself stays as it
    is. Returns how many keys moved (0: nothing is left). Each call is independent, so an
    interrupted re-wrap resumes with the next call; the caller commits after each batch. Every
    row stays readable throughout: until it moves, the older version opens it. If a key cannot
    be opened, nothing of the batch changes and the failure is audited.
    """
    from monitoring.accounts import keys

    current = _current_key(organisation)
    private_keys: dict[int, bytes] = {}
    moved = {"reports": 0, "messages": 0, "files": 0}

    def reseal(blob: bytes, old_key_id: int, old: tuple[object, ...], new: tuple[object, ...]) -> bytes:
        if old_key_id not in private_keys:
            org_key = db.session.get(OrganisationKey, old_key_id)
            private_keys[old_key_id] = keys.organisation_private_key(actor, org_key)
        secret = crypto.unseal(private_keys[old_key_id], blob, context=old)
        return crypto.seal(current.public_key, secret, context=new)

    row: WorkerReport | ReportMessage | Evidence | None = None
    savepoint = db.session.begin_nested()
    try:
        for row in _stale(WorkerReport, organisation, current, batch_size):
            old_id = row.organisation_key_id
            row.wrapped_key = reseal(
                row.wrapped_key, old_id, _data_key_context(old_id), _data_key_context(current.id)
            )
            row.organisation_key_id = current.id
            moved["reports"] += 1
        left = batch_size - moved["reports"]
        for row in _stale(ReportMessage, organisation, current, left) if left > 0 else []:
            old_id = row.organisation_key_id
            row.organisation_wrapped_key = reseal(
                row.organisation_wrapped_key,
                old_id,
                _message_context(row.report_id, "organisation", old_id),
                _message_context(row.report_id, "organisation", current.id),
            )
            row.organisation_key_id = current.id
            moved["messages"] += 1
        left -= moved["messages"]
        for row in _stale(Evidence, organisation, current, left) if left > 0 else []:
            old_id = row.organisation_key_id
            context = _file_context(row.report_id, row.storage_key)
            row.wrapped_key = reseal(row.wrapped_key, old_id, (*context, old_id), (*context, current.id))
            row.organisation_key_id = current.id
            moved["files"] += 1
        savepoint.commit()
    except _access_errors() as exc:
        savepoint.rollback()
        raise _rewrap_failed(actor, organisation, row, exc) from exc
    total = sum(moved.values())
    if total:
        audit.record(
            "organisation_key.rewrap",
            f"Re-sealed {total} keys of {organisation.name} to key version {current.version}",
            actor=actor,
            obj=organisation,
            data={**moved, "organisation_key_id": current.id, "version": current.version},
        )
    return total


def _rewrap_failed(actor: User, organisation: Organisation, row: object, exc: Exception) -> SealedAccessError:
    error = type(exc).__name__
    where = f"{type(row).__tablename__} {row.id}" if row is not None else "none"
    logger.warning("cannot re-wrap keys of organisation %s at %s: %s", organisation.id, where, error)
    audit.record(
        "organisation_key.rewrap_failed",
        f"Could not re-seal the keys of {organisation.name} (stopped at {where})",
        actor=actor,
        obj=organisation,
        data={"error": error, "row": where},
    )
    return _access_error("organisation key", exc)


def retire_unused_versions(actor: User, organisation: Organisation) -> list[OrganisationKey]:
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
