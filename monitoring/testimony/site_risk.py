"""The testimony feature's part of a site's risk view: how many worker reports name the site,
a count only (see :mod:`monitoring.supplychain.risk`). Registered when imported
(``testimony.subscribers``); who sees which count is decided by the registry's risk permissions."""

from __future__ import annotations

from sqlalchemy import func, select

from monitoring.core.db import db
from monitoring.supplychain.risk.permissions import ReportScope
from monitoring.supplychain.risk.services import register_report_source
from monitoring.testimony.models import WorkerReport


@register_report_source
def reports_at_site(site_id: int, scope: ReportScope) -> int:
    """Worker reports about the site: every organisation's, or one monitor organisation's."""
    query = select(func.count(WorkerReport.id)).where(WorkerReport.site_id == site_id)
    if scope.organisation_id is not None:
        query = query.where(WorkerReport.organisation_id == scope.organisation_id)
    return db.session.scalar(query) or 0
