"""The cases feature's part of a site's risk view: its findings by severity, open and closed
(see :mod:`monitoring.supplychain.risk`). Registered when imported (``cases.subscribers``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func

from monitoring.accounts.models import User
from monitoring.cases import permissions
from monitoring.cases.models import Case, CaseState, Finding
from monitoring.core.db import db
from monitoring.supplychain.risk.services import SeverityCount, register_finding_source

SEVERITY_RANK = {"priority": 0, "major": 1, "minor": 2}


@register_finding_source
def findings_by_severity(user: User, site_id: int, today: date) -> list[SeverityCount]:
    """The findings at the site that the user may see, per severity: open (no case, or a case
    not closed) and closed. One grouped query."""
    closed = Case.state == CaseState.closed
    rows = db.session.execute(
        permissions.visible_findings(user)
        .with_only_columns(
            Finding.severity,
            func.sum(case((closed, 0), else_=1)),
            func.sum(case((closed, 1), else_=0)),
        )
        .outerjoin(Case, Case.id == Finding.case_id)
        .where(Finding.site_id == site_id)
        .group_by(Finding.severity)
    ).all()
    return [
        SeverityCount(severity, SEVERITY_RANK.get(severity.value, 3), int(open_ or 0), int(done or 0))
        for severity, open_, done in rows
    ]
