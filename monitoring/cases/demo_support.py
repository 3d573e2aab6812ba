"""What the demo cases are built with: the demo's names, its actors, and a calendar that dates
each step back to the day it is set on (see :mod:`monitoring.cases.demo`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from monitoring.accounts.models import Organisation, User
from monitoring.cases import operations
from monitoring.cases.models import (
    Case,
    CaseClosure,
    CaseEvent,
    CaseFile,
    CaseMessage,
    CorrectiveAction,
    EvidenceType,
    Finding,
    Severity,
    SupplierResponse,
)
from monitoring.core.db import db
from monitoring.core.types import UTCDateTime, utcnow
from monitoring.notifications.models import MailState, Notification
from monitoring.supplychain.models import Site
from monitoring.testimony.models import ReportChannel, WorkerReport

logger = logging.getLogger(__name__)

MONITOR_ORGANISATION = "Chao Phraya Workers' Voice"
SUPPLIER = "Lumenbyte Devices"
EMAILS = {
    "coordinator": "coordinator@demo.example",
    "monitor": "monitor@demo.example",
    "affiliate": "affiliate@demo.example",
    "supplier": "supplier@demo.example",
}
# The demo sites the cases are about, by name (monitoring/supplychain/demo.py).
SITES = {
    "penang": "Penang Bayan Semiconductor Sdn. Bhd.",
    "dongguan": "Dongguan Everbright Battery Technology Co., Ltd.",
    "ayutthaya": "Siam Circuit Boards Public Co., Ltd.",
    "chonburi": "Eastern Seaboard Print Systems Co., Ltd.",
}

# A one-page PDF, enough for the content sniffer: the "evidence" of the repayment.
EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

# Timestamps of these tables are moved back to the day each demo step is set on.
_DATED = (Finding, Case, CaseClosure, CorrectiveAction, SupplierResponse, CaseMessage, CaseFile, CaseEvent)
_DUE_PARAMS = ("due_date", "plan_due_date", "closure_due_date")


@dataclass
class Actors:
    coordinator: User
    monitor: User
    affiliate: User
    supplier: User


class Calendar:
    """Takes demo steps "some days ago": whatever a step dates is moved back to that day."""

    def __init__(self) -> None:
        self.now = utcnow().replace(second=0, microsecond=0)

    @contextmanager
    def days_ago(self, days: int, hour: int = 9) -> Iterator[None]:
        db.session.flush()
        start = utcnow()
        yield
        db.session.flush()
        when = (self.now - timedelta(days=days)).replace(hour=hour, minute=(days * 7) % 60)
        _move_back(start, when, days)


def _datetime_attributes(model: type[Any]) -> list[str]:
    return [c.key for c in model.__mapper__.column_attrs if isinstance(c.columns[0].type, UTCDateTime)]


def _move_back(start: datetime, when: datetime, days: int) -> None:
    """Date every row a step wrote (timestamps at or after ``start``) back to ``when``.

    The deadlines of an action requested in the step move back by the same number of days, so
    that they stay the configured number of days after the (moved) request; so do the target
    dates of plans submitted in the step. Later steps compute their due dates from the moved ones.
    """
    shift = timedelta(days=days)
    requested = set(
        db.session.scalars(select(CorrectiveAction.id).where(CorrectiveAction.requested_dt >= start))
    )
    for model in (*_DATED, Notification):
        names = _datetime_attributes(model)
        condition = or_(*(getattr(model, name) >= start for name in names))
        for row in db.session.scalars(select(model).where(condition)):
            _move_dates(row, start, shift, requested)
            for name in names:
                value = getattr(row, name)
                if value is not None and value >= start:
                    setattr(row, name, when)
    db.session.flush()


def _move_dates(row: Any, start: datetime, shift: timedelta, requested: set[int]) -> None:
    if isinstance(row, CorrectiveAction) and row.id in requested:
        row.plan_due_date -= shift
        row.closure_due_date -= shift
    elif isinstance(row, SupplierResponse) and row.submitted_dt >= start:
        row.target_date -= shift
    elif isinstance(row, CaseEvent) and row.action_id in requested and row.due_date is not None:
        row.due_date -= shift
    elif isinstance(row, Notification) and row.created_dt >= start:
        if row.action_id in requested:
            params = dict(row.params or {})
            for key in _DUE_PARAMS:
                if isinstance(params.get(key), str):
                    params[key] = (date.fromisoformat(params[key][:10]) - shift).isoformat()
            row.params = params
        # Demo accounts have made-up addresses: the notifications show in the app only.
        if row.mail_state is MailState.pending:
            row.mail_state = MailState.skipped


def organisation_named(name: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))


def demo_site(key: str) -> Site | None:
    query = select(Site).where(Site.name == SITES[key], Site.merged_into_id.is_(None))
    return db.session.scalar(query.order_by(Site.id).limit(1))


def demo_actors() -> Actors | None:
    users = {}
    for role, email in EMAILS.items():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None or not user.is_active or not user.organisation.is_active:
            logger.warning("demo: %s is missing or inactive, so no demo cases", email)
            return None
        users[role] = user
    return Actors(**users)


def report_ids(organisation: Organisation, channel: ReportChannel, site: Site | None) -> list[int]:
    """The id of the testimony demo's report of this channel (and site), if it made one."""
    query = select(WorkerReport.id).where(
        WorkerReport.organisation_id == organisation.id, WorkerReport.channel == channel
    )
    query = query.where(WorkerReport.site_id == site.id) if site is not None else query
    found = db.session.scalar(query.order_by(WorkerReport.id).limit(1))
    return [found] if found is not None else []


def file_finding(
    actor: User,
    site: Site,
    standard: str,
    severity: Severity,
    workers: int | None,
    evidence: EvidenceType,
    found: date,
    summary: str,
    reports: list[int] | None = None,
) -> Finding:
    data = operations.FindingData(
        site_id=site.id,
        standard=standard,
        severity=severity,
        workers_affected=workers,
        evidence_type=evidence,
        found_date=found,
        summary=summary,
        report_ids=reports or [],
    )
    return operations.file_finding(actor, data)


def plan_data(root_cause: str, corrective: str, preventive: str, target: date) -> operations.PlanData:
    return operations.PlanData(
        root_cause=root_cause, corrective=corrective, preventive=preventive, target_date=target
    )


def request_data(case: Case, finding: Finding, supplier: Organisation, text: str) -> operations.RequestData:
    return operations.RequestData(finding_id=finding.id, supplier_id=supplier.id, request=text)


def unassigned_findings(site: Site, org: Organisation) -> list[Finding]:
    return list(
        db.session.scalars(
            select(Finding)
            .where(Finding.site_id == site.id, Finding.organisation_id == org.id, Finding.case_id.is_(None))
            .order_by(Finding.id)
        )
    )
