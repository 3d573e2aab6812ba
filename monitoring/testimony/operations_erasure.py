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
from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update

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


# How many reports :func:`erase_reports` clears with one statement per table.
ERASE_BATCH = 500
# Delete and update rows without scanning the whole session for the objects they touch.
_BY_FETCH = {"synchronize_session": "fetch"}


def _counts(column: Any, ids: list[int]) -> dict[int, int]:
    """How many rows of ``column``'s table name each of the reports."""
    rows = db.session.execute(select(column, func.count()).where(column.in_(ids)).group_by(column))
    return {int(report_id): int(count) for report_id, count in rows}


def _forget_messages(ids: list[int]) -> dict[int, int]:
    """Delete the reports' messages (keys and sealed bodies); rows naming them keep no link.
    Returns how many each report had."""
    counts = _counts(ReportMessage.report_id, ids)
    if not counts:
        return counts
    messages = select(ReportMessage.id).where(ReportMessage.report_id.in_(ids))
    db.session.execute(
        update(ValidationRequest)
        .where(ValidationRequest.comment_message_id.in_(messages))
        .values(comment_message_id=None),
        execution_options=_BY_FETCH,
    )
    for model in (RetaliationCheckIn, RetaliationAlert):
        db.session.execute(
            update(model).where(model.message_id.in_(messages)).values(message_id=None),
            execution_options=_BY_FETCH,
        )
    db.session.execute(
        delete(ReportMessage).where(ReportMessage.report_id.in_(ids)), execution_options=_BY_FETCH
    )
    return counts


def _forget_evidence(ids: list[int]) -> dict[int, list[str]]:
    """Delete the evidence rows (keys and sealed names); return each report's objects to shred."""
    names: dict[int, list[str]] = {}
    for report_id, name in db.session.execute(
        select(Evidence.report_id, Evidence.storage_key).where(Evidence.report_id.in_(ids))
    ):
        names.setdefault(report_id, []).append(name)
    if names:
        db.session.execute(delete(Evidence).where(Evidence.report_id.in_(ids)), execution_options=_BY_FETCH)
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
    erase_reports([report], reason, actor)


def erase_reports(
    reports: Sequence[WorkerReport],
    reason: ErasureReason,
    actor: User | None = None,
    *,
    audit_each: bool = True,
) -> int:
    """Crypto-shred the sealed content of many reports, keep their metadata, audit each; flush.

    Reports erased already are skipped; returns how many were erased. The rows are cleared a
    batch of reports at a time, one statement per table, so a whole import's reports go in a
    few dozen statements besides their audit entries. With ``audit_each=False`` the caller
    writes one entry naming every report instead (an import's undo: one act, thousands of
    reports, whose entries one by one took most of its time).
    """
    todo = [report for report in reports if report.erased_dt is None]
    objects: list[str] = []
    for start in range(0, len(todo), ERASE_BATCH):
        objects += _erase_batch(todo[start : start + ERASE_BATCH], reason, actor, audit_each)
    # The objects are ciphertext whose keys go with the rows: shredded once that is committed,
    # so an erasure rolled back leaves the reports' files as their rows still name them.
    if objects:
        on_commit(functools.partial(_shred, objects))
    return len(todo)


def _erase_batch(
    batch: list[WorkerReport], reason: ErasureReason, actor: User | None, audit_each: bool
) -> list[str]:
    ids = [report.id for report in batch]
    grants = _counts(ReportGrant.report_id, ids)
    if grants:
        db.session.execute(
            delete(ReportGrant).where(ReportGrant.report_id.in_(ids)), execution_options=_BY_FETCH
        )
    messages = _forget_messages(ids)
    objects = _forget_evidence(ids)
    db.session.execute(
        delete(ReportReadMarker).where(ReportReadMarker.report_id.in_(ids)), execution_options=_BY_FETCH
    )
    # One UPDATE for the batch; the reports held in the session take the same values without
    # going through the unit of work (which cost most of an import's undo, a report at a time).
    db.session.execute(
        update(WorkerReport)
        .where(WorkerReport.id.in_(ids))
        .values(
            wrapped_key=None,  # nullable once erased (see the model)
            identity_sealed=None,
            testimony_sealed=None,
            workplace_sealed=None,
            receipt_lookup=None,
            receipt_public_key=None,
            erased_dt=utcnow(),
            erasure_reason=reason,
        ),
        execution_options=_BY_FETCH,
    )
    for report in batch if audit_each else ():
        audit.record(
            "report.erased",
            f"Erased the sealed content of report {report.id} ({reason.value})",
            actor=actor,
            obj=report,
            data={
                "reason": reason.value,
                "grants": grants.get(report.id, 0),
                "messages": messages.get(report.id, 0),
                "evidence": len(objects.get(report.id, [])),
            },
        )
        logger.info("report %s erased (%s)", report.id, reason.value)
    return [name for names in objects.values() for name in names]
