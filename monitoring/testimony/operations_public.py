"""Operations of the anonymous worker pages: file a report, find it by its receipt, write back.

No account and no client address: the report is sealed to the organisation that receives
its workplace's country, and the worker holds a receipt from which the report's lookup and the
key of the conversation are derived. They flush and audit, never commit; what must outlive
a refused attempt (the throttle counters of a receipt search) is kept with
:func:`~monitoring.core.transactions.keep_failed_attempt`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import IO

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.accounts.models import Organisation
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.transactions import keep_failed_attempt
from monitoring.core.types import utcnow
from monitoring.supplychain.models import Site
from monitoring.supplychain.queries import site_search
from monitoring.testimony import alerts, operations_retaliation, receipts, sealing, throttle
from monitoring.testimony.models import IssueCategory, ReportChannel, ReportMessage, WorkerReport
from monitoring.testimony.models_retaliation import CheckInSeries

logger = logging.getLogger(__name__)

MAX_TESTIMONY_LENGTH = 20_000
MAX_WORKPLACE_LENGTH = 2000
MAX_CONTACT_LENGTH = 300
MAX_MESSAGE_LENGTH = 10_000


@dataclass(frozen=True)
class Upload:
    """A file a worker sends with a report or a message."""

    stream: IO[bytes]
    filename: str


@dataclass(frozen=True)
class AnonymousReport:
    """What a worker tells on the report page; ``language`` is the page's."""

    testimony: str
    language: str
    site: Site | None = None
    country: str | None = None
    workplace: str = ""
    categories: list[IssueCategory] = field(default_factory=list)
    contact: str = ""
    consent_share_buyers: bool = False
    consent_share_supplier: bool = False
    consent_contact: bool = False
    evidence: Upload | None = None


@dataclass(frozen=True)
class FiledReport:
    report: WorkerReport
    receipt: str  # shown once to the worker, stored nowhere


def _new_receipt() -> tuple[str, receipts.ReceiptSecrets]:
    """A receipt whose lookup is not taken yet (a clash is astronomically unlikely, but cheap to rule out)."""
    while True:
        receipt = receipts.new_receipt()
        derived = receipts.receipt_secrets(receipt)
        taken = db.session.scalar(
            select(WorkerReport.id).where(WorkerReport.receipt_lookup == derived.lookup)
        )
        if taken is None:
            return receipt, derived


def _check_length(value: str, limit: int, name: str) -> str:
    if len(value) > limit:
        raise OperationError(_l("At most %(num)d characters.", num=limit), name)
    return value


def file_anonymous_report(data: AnonymousReport, organisation: Organisation) -> FiledReport:
    """Seal a worker's own report to the receiving organisation, with its receipt; flush; audit."""
    text = _check_length((data.testimony or "").strip(), MAX_TESTIMONY_LENGTH, "testimony")
    if not text:
        raise OperationError(_l("Please tell us what happened."), "testimony")
    workplace = _check_length((data.workplace or "").strip(), MAX_WORKPLACE_LENGTH, "workplace")
    if data.site is None and not workplace:
        raise OperationError(_l("Please describe the workplace."), "workplace")
    contact = _check_length((data.contact or "").strip(), MAX_CONTACT_LENGTH, "contact")
    receipt, derived = _new_receipt()
    report = sealing.create_report(
        organisation=organisation,
        site=data.site,
        country=data.country,
        channel=ReportChannel.web,
        collected_date=utcnow().date(),
        language=data.language,
        consent_share_buyers=data.consent_share_buyers,
        consent_share_supplier=data.consent_share_supplier,
        consent_contact=data.consent_contact,
        retaliation_risk=None,
        identity=sealing.Identity(contact=contact) if contact else None,
        testimony=sealing.Testimony(text=text, categories=list(data.categories)),
        workplace=workplace if data.site is None else "",
        created_by=None,
        receipt_lookup=derived.lookup,
        receipt_public_key=derived.public_key,
    )
    _attach(report, data.evidence)
    alerts.report_received(report)
    operations_retaliation.schedule_check_ins(report, CheckInSeries.report_filed, report.created_dt)
    # Counted once the report is filed; the page refused full windows beforehand.
    throttle.hit(throttle.report_client_limit())
    throttle.hit(throttle.report_global_limit())
    logger.info("anonymous report filed")
    return FiledReport(report, receipt)


def add_worker_message(report: WorkerReport, body: str, evidence: Upload | None = None) -> ReportMessage:
    """The worker writes to the monitors on the receipt's channel, perhaps with a file."""
    text = _check_length((body or "").strip(), MAX_MESSAGE_LENGTH, "body")
    if not text:
        raise OperationError(_l("Write a message first."), "body")
    message = sealing.add_message(report, body=body, author=None)
    _attach(report, evidence)
    alerts.worker_message(report)
    logger.info("worker message added to an anonymous report")
    return message


def _attach(report: WorkerReport, upload: Upload | None) -> None:
    if upload is not None and upload.filename:
        sealing.add_evidence(report, stream=upload.stream, filename=upload.filename, uploaded_by=None)


def find_by_receipt(text: str | None) -> tuple[WorkerReport, receipts.ReceiptSecrets] | None:
    """Look the report up by its receipt, counting failures per client and every try globally.

    The counters are kept at once (:func:`keep_failed_attempt`), so they hold whatever happens
    to the rest of the request.
    """
    throttle.check(throttle.followup_client_limit())
    throttle.consume(throttle.followup_global_limit())
    keep_failed_attempt()
    receipt = receipts.normalise_receipt(text)
    if receipt is not None:
        derived = receipts.receipt_secrets(receipt)
        report = db.session.scalar(select(WorkerReport).where(WorkerReport.receipt_lookup == derived.lookup))
        if report is not None:
            return report, derived
    throttle.hit(throttle.followup_client_limit())
    keep_failed_attempt()
    return None


def search_workplaces(query: str, limit: int) -> list[Site]:
    """Sites (not merged ones) whose name, one of whose alternative names (in any script) or
    whose city holds each word of ``query``, by name."""
    words = site_search(query, Site.city)
    if words is None:
        return []
    return list(
        db.session.scalars(
            select(Site)
            .where(Site.merged_into_id.is_(None), words)
            .order_by(Site.name, Site.city, Site.id)
            .limit(limit)
        )
    )


def surviving_site(site_id: int) -> Site | None:
    """The site, or the site it was merged into (None if there is none)."""
    site = db.session.get(Site, site_id)
    for _hop in range(10):  # a merged site leads to the site it was merged into
        if site is None or site.merged_into_id is None:
            break
        site = site.merged_into
    return None if site is None or site.merged_into_id is not None else site
