"""Findings: a monitor files and changes them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import User
from monitoring.cases.files import (
    placeholder_ct,
)
from monitoring.cases.models import (
    CaseState,
    EvidenceType,
    Finding,
    FindingReport,
    Severity,
)
from monitoring.cases.operations.common import (
    MAX_SUMMARY,
    MAX_WORKERS,
    _enum,
    _refuse,
    _site,
    _text,
    _today,
    highest_severity,
)
from monitoring.cases.permissions import (
    can_edit_finding,
    can_file_finding,
)
from monitoring.cases.standards import get_standard
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.permissions import visible_reports

logger = logging.getLogger(__name__)


@dataclass
class FindingData:
    site_id: int | None
    standard: str
    severity: Severity | str
    workers_affected: int | None
    evidence_type: EvidenceType | str
    found_date: date | None
    summary: str
    report_ids: list[int] = field(default_factory=list)


def _clean_finding(actor: User, data: FindingData) -> dict[str, Any]:
    site = _site(data.site_id)
    standard = (data.standard or "").strip().upper()
    if get_standard(standard) is None:
        raise OperationError(_l("Choose a standard from the code."), field="standard")
    workers = data.workers_affected
    if workers is not None and not (0 <= workers <= MAX_WORKERS):
        raise OperationError(
            _l("The number of workers affected must be between 0 and %(num)s.", num=MAX_WORKERS),
            field="workers_affected",
        )
    found = data.found_date or _today()
    if found > _today():
        raise OperationError(_l("The date found cannot be in the future."), field="found_date")
    report_ids = list(dict.fromkeys(int(i) for i in data.report_ids or ()))
    if report_ids:
        known = set(
            db.session.scalars(
                visible_reports(actor)
                .with_only_columns(WorkerReport.id)
                .where(WorkerReport.id.in_(report_ids))
            )
        )
        if len(known) != len(report_ids):
            raise OperationError(_l("Link only worker reports of your organisation."), field="report_ids")
    return {
        "site": site,
        "standard": standard,
        "severity": _enum(Severity, data.severity, "severity", _l("Choose a severity.")),
        "workers_affected": workers,
        "evidence_type": _enum(
            EvidenceType, data.evidence_type, "evidence_type", _l("Choose how this was established.")
        ),
        "found_date": found,
        "summary": _text(data.summary, "summary", _l("Write a shareable summary."), MAX_SUMMARY),
        "report_ids": report_ids,
    }


def file_finding(actor: User, data: FindingData) -> Finding:
    """A monitor files a finding for their organisation."""
    if not can_file_finding(actor):
        raise _refuse(_l("Only monitors file findings."))
    values = _clean_finding(actor, data)
    finding = Finding(
        site_id=values["site"].id,
        organisation_id=actor.organisation_id,
        standard=values["standard"],
        severity=values["severity"],
        workers_affected=values["workers_affected"],
        evidence_type=values["evidence_type"],
        found_date=values["found_date"],
        summary_ct=placeholder_ct(),
        created_by_id=actor.id,
        created_dt=utcnow(),
        report_links=[FindingReport(report_id=i) for i in values["report_ids"]],
    )
    db.session.add(finding)
    db.session.flush()
    finding.summary = values["summary"]
    db.session.flush()
    audit.record(
        "finding.create",
        f"Filed finding {finding.id} ({finding.standard}, {finding.severity.value}) "
        f"at site {finding.site_id}",
        actor=actor,
        obj=finding,
        data={
            "site_id": finding.site_id,
            "standard": finding.standard,
            "severity": finding.severity.value,
            "workers_affected": finding.workers_affected,
            "evidence_type": finding.evidence_type.value,
            "found_date": finding.found_date,
            "report_ids": values["report_ids"],
        },
    )
    return finding


def update_finding(actor: User, finding: Finding, data: FindingData) -> dict[str, list[Any]]:
    """Change a finding; returns the changes as {field: [old, new]} (the summary without text)."""
    if not can_edit_finding(actor, finding):
        raise _refuse(_l("You may not change this finding."))
    case = finding.case
    if case is not None and case.state is CaseState.closed:
        raise _refuse(_l("The finding's case is closed: reopen the case to change the finding."))
    values = _clean_finding(actor, data)
    if case is not None and values["site"].id != finding.site_id:
        raise OperationError(_l("The finding is part of a case: its site cannot change."), field="site_id")
    changes: dict[str, list[Any]] = {}
    for name in ("standard", "severity", "workers_affected", "evidence_type", "found_date"):
        old, new = getattr(finding, name), values[name]
        if old != new:
            setattr(finding, name, new)
            changes[name] = [getattr(old, "value", old), getattr(new, "value", new)]
    if values["site"].id != finding.site_id:
        changes["site_id"] = [finding.site_id, values["site"].id]
        finding.site_id = values["site"].id
    if values["summary"] != finding.summary:
        finding.summary = values["summary"]
        changes["summary"] = ["(protected)", "(protected)"]
    old_reports = sorted(link.report_id for link in finding.report_links)
    if sorted(values["report_ids"]) != old_reports:
        keep = set(values["report_ids"])
        finding.report_links = [link for link in finding.report_links if link.report_id in keep] + [
            FindingReport(report_id=i) for i in values["report_ids"] if i not in old_reports
        ]
        changes["report_ids"] = [old_reports, sorted(values["report_ids"])]
    if not changes:
        return changes
    db.session.flush()
    if case is not None and "severity" in changes:
        case.severity = highest_severity(f.severity for f in case.findings)
    audit.record(
        "finding.update",
        f"Changed finding {finding.id}: {', '.join(sorted(changes))}",
        actor=actor,
        obj=finding,
        data={"changes": changes},
    )
    return changes
