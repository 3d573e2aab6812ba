"""Erasure of a worker report by crypto-shredding: at the worker's request or when retention ends.

Every wrapped copy of the report's data key goes (the organisation's, every coordinator grant's),
with every message's organisation- and receipt-wrapped keys and sealed body, every evidence
file's key and its encrypted object (overwritten, then deleted), the sealed columns and the
receipt lookup. What the cases need stays: the report's number, dates, channel, country, site,
status, categories and the findings it supports. Once the rows are gone, no key anywhere —
a member's, a grant's, the receipt — opens anything of the report, not even in a copy of the
database taken before: the sealed bytes there are under a data key that no longer exists.

These functions flush and audit, never commit (a request's transaction or ``jobs.py`` does).
"""

from __future__ import annotations

import functools
import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from monitoring.accounts.models import User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.storage import file_store
from monitoring.core.transactions import on_commit
from monitoring.core.types import utcnow
from monitoring.testimony.models import (
    ErasureReason,
    Evidence,
    ReportGrant,
    ReportMessage,
    ReportReadMarker,
    WorkerReport,
)
from monitoring.testimony.models_outcomes import ValidationRequest
from monitoring.testimony.models_retaliation import RetaliationAlert, RetaliationCheckIn

logger = logging.getLogger(__name__)


def _forget_messages(report: WorkerReport) -> int:
    """Delete the report's messages (keys and sealed bodies); rows naming them keep no link."""
    ids = list(db.session.scalars(select(ReportMessage.id).where(ReportMessage.report_id == report.id)))
    if not ids:
        return 0
    db.session.execute(
        update(ValidationRequest)
        .where(ValidationRequest.comment_message_id.in_(ids))
        .values(comment_message_id=None)
    )
    for model in (RetaliationCheckIn, RetaliationAlert):
        db.session.execute(update(model).where(model.message_id.in_(ids)).values(message_id=None))
    db.session.execute(delete(ReportMessage).where(ReportMessage.id.in_(ids)))
    return len(ids)


def _forget_evidence(report: WorkerReport) -> list[str]:
    """Delete the evidence rows (keys and sealed names); return the objects to shred."""
    names = list(db.session.scalars(select(Evidence.storage_key).where(Evidence.report_id == report.id)))
    db.session.execute(delete(Evidence).where(Evidence.report_id == report.id))
    return names


def _shred(names: list[str]) -> None:
    store = file_store()
    for name in names:
        try:
            store.shred(name)
        except OSError:  # the collector deletes what no row names; its key is gone already
            logger.warning("could not shred the stored object %s", name)


def erase_report(report: WorkerReport, reason: ErasureReason, actor: User | None = None) -> None:
    """Crypto-shred one report's sealed content, keep its metadata, audit; flush."""
    if report.erased_dt is not None:
        raise OperationError(_l("This report was erased already."))
    grants = len(list(db.session.scalars(select(ReportGrant.id).where(ReportGrant.report_id == report.id))))
    db.session.execute(delete(ReportGrant).where(ReportGrant.report_id == report.id))
    messages = _forget_messages(report)
    objects = _forget_evidence(report)
    db.session.execute(delete(ReportReadMarker).where(ReportReadMarker.report_id == report.id))
    report.wrapped_key = None  # type: ignore[assignment]  # nullable once erased (see the model)
    report.identity_sealed = None
    report.testimony_sealed = None
    report.workplace_sealed = None
    report.receipt_lookup = None
    report.receipt_public_key = None
    report.erased_dt = utcnow()
    report.erasure_reason = reason
    db.session.flush()
    audit.record(
        "report.erased",
        f"Erased the sealed content of report {report.id} ({reason.value})",
        actor=actor,
        obj=report,
        data={"reason": reason.value, "grants": grants, "messages": messages, "evidence": len(objects)},
    )
    # The objects are ciphertext whose keys go with the rows: shredded once that is committed,
    # so an erasure rolled back leaves the report's files as its rows still name them.
    if objects:
        on_commit(functools.partial(_shred, objects))
    logger.info("report %s erased (%s)", report.id, reason.value)
