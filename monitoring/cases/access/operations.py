"""Record a monitor's factory access; a refused one files its finding. Audited; never commits."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import Organisation, OrganisationKind, User
from monitoring.cases.access.permissions import can_record_access
from monitoring.cases.files import placeholder_ct
from monitoring.cases.models import AccessOutcome, EvidenceType, Severity, SiteAccess
from monitoring.cases.operations import FindingData, file_finding
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.models import Site

logger = logging.getLogger(__name__)

NOTE_MAX = 5000
# The standard a refused access is filed under: grievance and retaliation, whose findings breach
# the contracts' monitoring clauses by default (the code has no monitoring-access standard).
ACCESS_STANDARD = "GR"


@dataclass
class AccessData:
    requested_of_id: int
    access_date: date
    outcome: AccessOutcome
    note: str | None = None


def _today() -> date:
    return utcnow().date()


def record_access(actor: User, site: Site, data: AccessData) -> SiteAccess:
    """Record a request or visit at the site; a refusal files a major finding linked to it."""
    if not can_record_access(actor):
        raise OperationError(_l("Only monitors record factory access."))
    supplier = db.session.get(Organisation, data.requested_of_id)
    if supplier is None or supplier.kind is not OrganisationKind.supplier or not supplier.is_active:
        raise OperationError(_l("Choose the supplier that was asked for access."), "requested_of_id")
    if data.access_date > _today():
        raise OperationError(_l("The date cannot be in the future."), "access_date")
    note = (data.note or "").strip()
    if len(note) > NOTE_MAX:
        raise OperationError(_l("Keep the note under %(num)d characters.", num=NOTE_MAX), "note")
    finding_id = None
    if data.outcome is AccessOutcome.refused:
        summary = _(
            "Factory access for monitors was refused on %(date)s (requested of %(supplier)s).",
            date=format_date(data.access_date, "long"),
            supplier=supplier.name,
        )
        finding = file_finding(
            actor,
            FindingData(
                site_id=site.id,
                standard=ACCESS_STANDARD,
                severity=Severity.major,
                workers_affected=None,
                evidence_type=EvidenceType.observation,
                found_date=data.access_date,
                summary=summary,
            ),
        )
        finding_id = finding.id
    access = SiteAccess(
        site_id=site.id,
        organisation_id=actor.organisation_id,
        requested_of_id=supplier.id,
        access_date=data.access_date,
        outcome=data.outcome,
        note_ct=placeholder_ct() if note else None,
        finding_id=finding_id,
        created_by_id=actor.id,
        created_dt=utcnow(),
    )
    db.session.add(access)
    db.session.flush()
    if note:
        access.note = note
        db.session.flush()
    audit.record(
        "access.record",
        f"Recorded {data.outcome.value} access at site {site.id} on {data.access_date}",
        actor=actor,
        obj=access,
        data={
            "site_id": site.id,
            "requested_of_id": supplier.id,
            "access_date": data.access_date,
            "outcome": data.outcome.value,
            "finding_id": finding_id,
        },
    )
    logger.info("access %s at site %s: %s", access.id, site.id, data.outcome.value)
    return access
