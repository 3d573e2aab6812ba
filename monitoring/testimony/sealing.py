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

import logging
from dataclasses import asdict
from datetime import date, timedelta
from typing import cast

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from monitoring.accounts.models import Organisation, User
from monitoring.core import audit, crypto
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.models import Site
from monitoring.testimony.models import (
    MonitorCoverage,
    ReportCategory,
    ReportChannel,
    ReportGrant,
    ReportStatus,
    RetaliationRisk,
    SurveyImport,
    WorkerReport,
)
from monitoring.testimony.permissions import can_receive_grant
from monitoring.testimony.sealing_base import (
    ALLOWED_TYPES,
    BOUND,
    DIRECT_CHANNELS,
    MESSAGE,
    REPORT,
    SEALED_COLUMNS,
    UNBOUND,
    Identity,
    KeyOpener,
    OpenedMessage,
    OpenedReport,
    SealedAccessError,
    Testimony,
    _access_errors,
    _attach_inserted,
    _bound_data_key_context,
    _check_data_key,
    _current_key,
    _data_key_context,
    _fail,
    _grant_context,
    _new_report_id,
    _open_field,
    _report_data_key,
    _seal_report_field,
    _seal_to,
    _unseal_data_key,
)
from monitoring.testimony.sealing_files import (
    _body_aad,
    _file_context,
    _messages,
    _open_message,
    add_evidence,
    add_message,
    open_evidence,
    read_messages,
    read_messages_with_receipt,
    sniff_content_type,
)
from monitoring.testimony.sealing_keys import (
    KeyVersionUsage,
    ReencryptBatch,
    key_version_usage,
    keys_to_rewrap,
    reencrypt_batch,
    reports_to_reencrypt,
    retire_unused_versions,
    rewrap_batch,
)

# Old import paths keep working: ``from monitoring.testimony.sealing import X``.
__all__ = [
    "ALLOWED_TYPES", "BOUND", "DIRECT_CHANNELS", "MESSAGE", "REPORT", "SEALED_COLUMNS", "UNBOUND",
    "Identity", "KeyOpener", "KeyVersionUsage", "OpenedMessage", "OpenedReport", "ReencryptBatch",
    "SealedAccessError", "Testimony",
    "_body_aad", "_data_key_context", "_file_context", "_messages", "_open_field", "_open_message",
    "_report_data_key", "_unseal_data_key",
    "add_evidence", "add_message", "create_report", "grant_report", "key_version_usage",
    "keys_to_rewrap", "open_evidence", "open_report", "read_messages", "read_messages_with_receipt",
    "reencrypt_batch", "reports_to_reencrypt", "responsible_organisation", "retire_unused_versions",
    "revoke_report_grant", "rewrap_batch", "sniff_content_type",
]  # fmt: skip

logger = logging.getLogger(__name__)

# A report and its categories are written by plain statements (see :func:`create_report`).
_INSERT_REPORT = insert(cast(Table, WorkerReport.__table__))
_INSERT_CATEGORIES = insert(cast(Table, ReportCategory.__table__))


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
    """Seal a new report to the organisation's newest key; write it; audit metadata only.

    The row's id is taken first (:func:`~monitoring.testimony.sealing_base._new_report_id`), so
    the data key's sealing and every field's associated data name it and the row goes in whole.
    The report and its categories are written by plain statements (the unit of work would cost
    more than the sealing), the audit entry by two more; the report returned is an object of the
    session as a flush would have left it (:func:`~monitoring.testimony.sealing_base._attach_inserted`).
    """
    org_key = _current_key(organisation)
    report_id = _new_report_id()
    data_key = crypto.new_key()
    now = utcnow()
    direct = channel in DIRECT_CHANNELS
    config = current_app.config
    country = site.country if site is not None else country
    # Every column, so the object reads each one without a query.
    values = {
        "id": report_id,
        "organisation_id": organisation.id,
        "organisation_key_id": org_key.id,
        "wrapped_key": _seal_to(org_key, data_key, _bound_data_key_context(report_id, org_key.id)),
        "key_binding": BOUND,
        "data_key_generation": org_key.version,
        "site_id": site.id if site is not None else None,
        "proposed_site_id": None,
        "country": country,
        "channel": channel,
        "collected_date": collected_date,
        "language": language,
        "consent_share_buyers": consent_share_buyers,
        "consent_share_supplier": consent_share_supplier,
        "consent_contact": consent_contact,
        "retaliation_risk": retaliation_risk,
        "status": ReportStatus.received,
        "identity_sealed": (
            _seal_report_field(data_key, report_id, "identity_sealed", asdict(identity))
            if identity is not None and not identity.is_empty()
            else None
        ),
        "testimony_sealed": _seal_report_field(data_key, report_id, "testimony_sealed", testimony.text),
        "workplace_sealed": (
            _seal_report_field(data_key, report_id, "workplace_sealed", workplace) if workplace else None
        ),
        "created_dt": now,
        "created_by_id": created_by.id if created_by is not None else None,
        "survey_import_id": survey_import.id if survey_import is not None else None,
        "source_digest": source_digest,
        "receipt_lookup": receipt_lookup,
        "receipt_public_key": receipt_public_key,
        "acknowledge_due_dt": now + timedelta(days=config["REPORT_ACKNOWLEDGE_DAYS"]) if direct else None,
        "acknowledged_dt": None,
        "feedback_due_dt": now + timedelta(days=config["REPORT_FEEDBACK_DAYS"]) if direct else None,
        "feedback_dt": None,
        "erased_dt": None,
        "erasure_reason": None,
    }
    session = db.session()
    connection = session.connection()
    connection.execute(_INSERT_REPORT, values)
    categories = [{"report_id": report_id, "category": c} for c in dict.fromkeys(testimony.categories)]
    if categories:
        connection.execute(_INSERT_CATEGORIES, categories)  # one statement (executemany)
    report = WorkerReport(**values)
    _attach_inserted(session, report)
    audit.record(
        "report.create",
        f"Received sealed report {report_id} ({channel.value}) for {organisation.name}",
        actor=created_by,
        obj=report,
        data={
            "channel": channel.value,
            "site_id": site.id if site is not None else None,
            "country": country,
            "organisation_key_id": org_key.id,
            "anonymous": receipt_lookup is not None,
        },
    )
    return report


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
    if not can_receive_grant(grantee):
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
        wrapped_key=crypto.seal(
            grantee.public_key or b"", data_key, context=_grant_context(report.id, grantee.id)
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
