"""Sealing many reports at once, for a survey import.

:func:`create_reports` makes what :func:`monitoring.testimony.sealing.create_report` makes for
each of many reports, without the ORM's per-row work: the row ids of the whole batch are taken
up front (PostgreSQL: from the table's sequence; SQLite: after the largest id, safe because the
import's transaction holds the write lock and ``worker_report.id`` is a plain rowid, not
AUTOINCREMENT), every data key is sealed and every field encrypted with the same functions and
the same associated data as ``create_report`` (so a report opens the same whichever path made
it), and the rows (reports, their categories, their validation answers) are inserted with
``executemany`` in chunks.

Audit: ``create_report`` writes one ``report.create`` entry per report (channel, site, country,
organisation key, anonymous or not). This path writes none: the caller's one entry for the
whole import carries :meth:`BulkReports.audit_data` instead (the reports' ids as first, last and
count, the organisation key, the channel, and how many reports name each site and country;
which report names which site and country is in the reports' own rows, and later changes to
them are audited where they are made).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import Table, func, insert, select, text

from monitoring.accounts.models import Organisation, User
from monitoring.core import crypto
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.testimony.models import (
    IssueCategory,
    ReportCategory,
    ReportChannel,
    ReportStatus,
    RetaliationRisk,
    WorkerReport,
)
from monitoring.testimony.models_outcomes import (
    ValidationAnswer,
    ValidationQuestion,
    ValidationRequest,
    ValidationSource,
)
from monitoring.testimony.sealing_base import (
    BOUND,
    DIRECT_CHANNELS,
    Identity,
    _bound_data_key_context,
    _current_key,
    _seal_report_field,
    _seal_to,
)

# Rows per executemany: bounded statements and parameter lists whatever the import's size.
CHUNK = 1000


@dataclass
class NewReport:
    """One report to seal: what ``create_report`` takes, for one row."""

    site_id: int | None
    country: str | None
    collected_date: date
    language: str
    consent_share_buyers: bool
    consent_share_supplier: bool
    consent_contact: bool
    retaliation_risk: RetaliationRisk | None
    identity: Identity | None
    testimony: str
    categories: list[IssueCategory] = field(default_factory=list)
    workplace: str = ""
    source_digest: str | None = None
    proposed_site_id: int | None = None
    validations: dict[ValidationQuestion, ValidationAnswer] = field(default_factory=dict)


@dataclass
class BulkReports:
    """What :func:`create_reports` made."""

    ids: list[int]
    organisation_key_id: int
    channel: ReportChannel
    sites: Counter[int] = field(default_factory=Counter)
    countries: Counter[str] = field(default_factory=Counter)
    validation_answers: int = 0
    proposed_sites: int = 0

    def audit_data(self) -> dict[str, Any]:
        """The information the per-report ``report.create`` entries held, for the whole batch."""
        return {
            "report_ids": {
                "first": self.ids[0] if self.ids else None,
                "last": self.ids[-1] if self.ids else None,
                "count": len(self.ids),
            },
            "channel": self.channel.value,
            "organisation_key_id": self.organisation_key_id,
            "anonymous": False,
            "reports_by_site": {str(k): v for k, v in sorted(self.sites.items())},
            "reports_by_country": dict(sorted(self.countries.items())),
        }


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _new_ids(count: int) -> list[int]:
    """``count`` ids for new reports, taken inside the caller's (writing) transaction."""
    if count == 0:
        return []
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text("SELECT nextval(pg_get_serial_sequence('worker_report', 'id')) FROM generate_series(1, :n)"),
            {"n": count},
        )
        return sorted(int(row[0]) for row in rows)
    # SQLite: the transaction holds the write lock (it has written the import's own row), so
    # nobody else inserts a report before these; without AUTOINCREMENT SQLite would pick the
    # same ids itself.
    start = int(session.scalar(select(func.max(WorkerReport.id))) or 0) + 1
    return list(range(start, start + count))


def create_reports(
    *,
    organisation: Organisation,
    reports: list[NewReport],
    channel: ReportChannel,
    created_by: User | None,
    survey_import_id: int | None,
    progress: Callable[[int], Any] | None = None,
) -> BulkReports:
    """Seal and insert ``reports`` to the organisation's newest key; no audit entry (see above).

    Never commits. Each report is sealed exactly as :func:`sealing.create_report` seals it.
    ``progress`` is called with the number of reports inserted after each chunk.
    """
    org_key = _current_key(organisation)
    now = utcnow()
    direct = channel in DIRECT_CHANNELS
    config = current_app.config
    ack_due: datetime | None = now + timedelta(days=config["REPORT_ACKNOWLEDGE_DAYS"]) if direct else None
    feedback_due: datetime | None = now + timedelta(days=config["REPORT_FEEDBACK_DAYS"]) if direct else None
    created_by_id = created_by.id if created_by is not None else None
    ids = _new_ids(len(reports))
    result = BulkReports(ids=ids, organisation_key_id=org_key.id, channel=channel)
    report_rows: list[dict[str, Any]] = []
    category_rows: list[dict[str, Any]] = []
    answer_rows: list[dict[str, Any]] = []

    def flush_chunk() -> None:
        if report_rows:
            db.session.execute(insert(_table(WorkerReport)), report_rows)
        if category_rows:
            db.session.execute(insert(_table(ReportCategory)), category_rows)
        if answer_rows:
            db.session.execute(insert(_table(ValidationRequest)), answer_rows)
        if progress is not None and report_rows:
            progress(len(report_rows))
        report_rows.clear()
        category_rows.clear()
        answer_rows.clear()

    for report_id, new in zip(ids, reports, strict=True):
        data_key = crypto.new_key()
        identity = new.identity
        testimony = _seal_report_field(data_key, report_id, "testimony_sealed", new.testimony)
        report_rows.append(
            {
                "id": report_id,
                "organisation_id": organisation.id,
                "organisation_key_id": org_key.id,
                "wrapped_key": _seal_to(org_key, data_key, _bound_data_key_context(report_id, org_key.id)),
                "key_binding": BOUND,
                "data_key_generation": org_key.version,
                "site_id": new.site_id,
                "proposed_site_id": new.proposed_site_id,
                "country": new.country,
                "channel": channel,
                "collected_date": new.collected_date,
                "language": new.language,
                "consent_share_buyers": new.consent_share_buyers,
                "consent_share_supplier": new.consent_share_supplier,
                "consent_contact": new.consent_contact,
                "retaliation_risk": new.retaliation_risk,
                "status": ReportStatus.received,
                "identity_sealed": (
                    _seal_report_field(data_key, report_id, "identity_sealed", asdict(identity))
                    if identity is not None and not identity.is_empty()
                    else None
                ),
                "testimony_sealed": testimony,
                "workplace_sealed": (
                    _seal_report_field(data_key, report_id, "workplace_sealed", new.workplace)
                    if new.workplace
                    else None
                ),
                "created_dt": now,
                "created_by_id": created_by_id,
                "survey_import_id": survey_import_id,
                "source_digest": new.source_digest,
                "receipt_lookup": None,
                "receipt_public_key": None,
                "acknowledge_due_dt": ack_due,
                "feedback_due_dt": feedback_due,
            }
        )
        category_rows.extend({"report_id": report_id, "category": c} for c in dict.fromkeys(new.categories))
        answer_rows.extend(
            {
                "report_id": report_id,
                "question": question,
                "source": ValidationSource.survey,
                "asked_by_id": created_by_id,
                "asked_dt": now,
                "answer": answer,
                "answered_dt": now,
            }
            for question, answer in new.validations.items()
        )
        result.validation_answers += len(new.validations)
        result.proposed_sites += new.proposed_site_id is not None
        if new.site_id is not None:
            result.sites[new.site_id] += 1
        if new.country:
            result.countries[new.country] += 1
        if len(report_rows) >= CHUNK:
            flush_chunk()
    flush_chunk()
    return result
