"""Retaliation findings: one step from a worker's retaliation alert to a priority GR-2 finding.

The finding (standard GR-2, "Retaliation against workers who raised concerns", severity
priority) is linked to the alert's report and filed on the open case the report already
supports at that site, or a case is opened with it; either way the case is priority and the
buyers and the supplier are engaged under the priority deadlines. The alert is then handled.
Everything goes through the ordinary operations (:func:`file_finding`, :func:`open_case`,
:func:`add_findings`), so their checks, events, audit entries and notices apply.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases.models import Case, CaseState, EvidenceType, Finding, FindingReport, Severity
from monitoring.cases.operations.cases import add_findings, open_case
from monitoring.cases.operations.common import _refuse
from monitoring.cases.operations.findings import FindingData, file_finding
from monitoring.cases.permissions import can_file_retaliation_finding
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.testimony import operations_retaliation
from monitoring.testimony.models_retaliation import RetaliationAlert

logger = logging.getLogger(__name__)

RETALIATION_STANDARD = "GR-2"


@dataclass(frozen=True)
class FiledRetaliation:
    finding: Finding
    case: Case
    opened: bool  # a new case was opened (else the finding joined the report's open case)


def linked_open_case(report_id: int, site_id: int, organisation_id: int | None) -> Case | None:
    """The newest case that is not closed, at the site, worked by the organisation, that the
    report supports through one of its findings."""
    query = (
        select(Case)
        .join(Finding, Finding.case_id == Case.id)
        .join(FindingReport, FindingReport.finding_id == Finding.id)
        .where(
            FindingReport.report_id == report_id,
            Case.site_id == site_id,
            Case.monitor_organisation_id == organisation_id,
            Case.state != CaseState.closed,
        )
        .order_by(Case.opened_dt.desc(), Case.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def file_retaliation_finding(
    actor: User,
    alert: RetaliationAlert,
    *,
    summary: str,
    workers_affected: int | None = 1,
    site_id: int | None = None,
) -> FiledRetaliation:
    """File the GR-2 priority finding from the alert, on the report's open case or a new one."""
    if not can_file_retaliation_finding(actor, alert):
        raise _refuse(_l("Only the monitors of the report act on an open retaliation alert."))
    report = alert.report
    site = report.site_id or site_id
    if site is None:
        raise OperationError(
            _l("The worker described the workplace: give the number of its site in the registry."),
            field="site_id",
        )
    finding = file_finding(
        actor,
        FindingData(
            site_id=site,
            standard=RETALIATION_STANDARD,
            severity=Severity.priority,
            workers_affected=workers_affected,
            evidence_type=EvidenceType.other,
            found_date=None,
            summary=summary,
            report_ids=[report.id],
        ),
    )
    case = linked_open_case(report.id, finding.site_id, actor.organisation_id)
    opened = case is None
    if case is None:
        case = open_case(actor, finding.site_id, [finding.id])
    else:
        add_findings(actor, case, [finding.id])
    operations_retaliation.record_finding(actor, alert, finding.id, case.id)
    logger.info("retaliation alert %s: finding %s in case %s", alert.id, finding.id, case.id)
    return FiledRetaliation(finding, case, opened)
