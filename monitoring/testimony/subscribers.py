"""What testimony does when a lower feature announces an event (see :mod:`monitoring.core.hooks`)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update

from monitoring.accounts.models import User
from monitoring.core import hooks
from monitoring.core.db import db
from monitoring.notifications import subjects
from monitoring.supplychain.models import Site
from monitoring.testimony import site_risk as _site_risk  # noqa: F401  (registers the report count source)
from monitoring.testimony.models import ReportGrant, SurveyImport, WorkerReport
from monitoring.testimony.models_retaliation import RetaliationAlert


@hooks.site_merged.connect
def move_reports_with_site(*, source: Site, target: Site, moved: dict[str, int], **_: Any) -> None:
    """Worker reports and survey imports about a merged site are about the site that stays."""
    for name, model in (("worker_reports", WorkerReport), ("survey_imports", SurveyImport)):
        result = cast(
            "CursorResult[Any]",
            db.session.execute(
                update(model)
                .where(model.site_id == source.id)
                .values(site_id=target.id)
                .execution_options(synchronize_session="fetch")
            ),
        )
        moved[name] = result.rowcount


@hooks.user_key_dropped.connect
def withdraw_report_shares(*, user: User, removed: dict[str, int], **_: Any) -> None:
    """Reports shared with a user were sealed to the key they lost: the shares go with it."""
    result = db.session.execute(delete(ReportGrant).where(ReportGrant.user_id == user.id))
    removed["report_shares_removed"] = int(getattr(result, "rowcount", 0) or 0)


# --- how notifications tell of worker reports and survey imports ------------------------------
# A notification names a report by its number (``report_id``) and never says more of it than
# its country; the link leads to the report's page, where access is checked as always.


def _load_reports(ids: Collection[int]) -> dict[int, Any]:
    return {r.id: r for r in db.session.scalars(select(WorkerReport).where(WorkerReport.id.in_(ids)))}


def _load_imports(ids: Collection[int]) -> dict[int, Any]:
    return {i.id: i for i in db.session.scalars(select(SurveyImport).where(SurveyImport.id.in_(ids)))}


subjects.register_subject(
    "report",
    subjects.Subject(
        load=_load_reports,
        path=lambda i: f"/testimony/reports/{i}",
        facts=lambda report: {"country": report.country},
        param="report_id",
    ),
)
subjects.register_subject(
    "survey",
    subjects.Subject(
        load=_load_imports,
        path=lambda i: f"/testimony/survey-imports/{i}",
        facts=lambda survey: {"rows": survey.rows},
        param="survey_import_id",
    ),
)


def _load_retaliation_alerts(ids: Collection[int]) -> dict[int, Any]:
    query = select(RetaliationAlert).where(RetaliationAlert.id.in_(ids))
    return {a.id: a for a in db.session.scalars(query)}


# Registered after "report": a notification that names an alert leads to the alert's page.
subjects.register_subject(
    "retaliation_alert",
    subjects.Subject(
        load=_load_retaliation_alerts,
        path=lambda i: f"/testimony/retaliation-alerts/{i}",
        facts=lambda alert: {"country": alert.report.country},
        param="alert_id",
    ),
)
