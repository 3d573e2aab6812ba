"""JSON API of the retaliation watch: alerts, a report's check-ins and its retaliation risk.

Monitors of the receiving organisation only (404 for anyone else). Metadata only: a worker's
comment is sealed in the report's conversation; ``comment`` says whether there is one.
Filing a retaliation finding from an alert is ``POST /retaliation-alerts/{id}/finding``
(:mod:`monitoring.cases.retaliation_api`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import UserRole
from monitoring.core.api import paginate, route
from monitoring.core.auth import roles
from monitoring.core.pagination import Page
from monitoring.testimony import operations_retaliation as ops
from monitoring.testimony import services as s
from monitoring.testimony import services_retaliation as rs
from monitoring.testimony.models_retaliation import RetaliationAlert, RetaliationCheckIn
from monitoring.testimony.permissions import (
    can_handle_retaliation_alert,
    can_manage_report,
    can_set_retaliation_risk,
)
from monitoring.testimony.schemas import ReportView, WorkerReportSchema
from monitoring.testimony.schemas_retaliation import (
    ListRetaliationAlertsArgs,
    RetaliationAlertSchema,
    RetaliationCheckInSchema,
    SetRetaliationRiskArgs,
)

TAG = "testimony"


@route(
    "/retaliation-alerts",
    summary=_l("Retaliation alerts"),
    description=_l(
        "Newest first: workers of your organisation's reports who said, at a check-in or on their "
        "own, that they face consequences for speaking up."
    ),
    args=ListRetaliationAlertsArgs,
    response=RetaliationAlertSchema,
    paginated=True,
    tag=TAG,
)
@roles(UserRole.monitor)
def list_retaliation_alerts(args: dict[str, Any]) -> Page:
    return paginate(rs.list_alerts(s.me(), args), rs.ALERT_ORDER, args.get("after"), args.get("limit"))


@route(
    "/retaliation-alerts/<int:alert_id>",
    summary=_l("A retaliation alert"),
    response=RetaliationAlertSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def get_retaliation_alert(alert_id: int) -> RetaliationAlert:
    return rs.load_alert(s.me(), alert_id)


@route(
    "/retaliation-alerts/<int:alert_id>/handle",
    method="POST",
    summary=_l("Mark a retaliation alert handled without a finding"),
    description=_l(
        "For instance when the conversation with the worker settled it; it is no longer escalated."
    ),
    response=RetaliationAlertSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def handle_retaliation_alert(alert_id: int) -> RetaliationAlert:
    alert = rs.load_alert(s.me(), alert_id)
    s.require(can_handle_retaliation_alert(s.me(), alert))
    return ops.handle_alert(s.me(), alert)


@route(
    "/worker-reports/<int:report_id>/check-ins",
    summary=_l("A report's retaliation check-ins"),
    description=_l("When each check-in is shown to the worker, and what they answered."),
    response=RetaliationCheckInSchema(many=True),
    tag=TAG,
)
@roles(UserRole.monitor)
def list_report_check_ins(report_id: int) -> list[RetaliationCheckIn]:
    report = s.member_report(s.me(), report_id, can_manage_report)
    return rs.report_watch(s.me(), report).check_ins


@route(
    "/worker-reports/<int:report_id>/retaliation-risk",
    method="POST",
    summary=_l("Change a report's retaliation risk"),
    description=_l("After intake, as the situation changes; the change is logged."),
    args=SetRetaliationRiskArgs,
    response=WorkerReportSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def set_report_retaliation_risk(report_id: int, args: dict[str, Any]) -> ReportView:
    report = s.member_report(s.me(), report_id, can_set_retaliation_risk)
    ops.set_retaliation_risk(s.me(), report, args["retaliation_risk"])
    return s.load_report(s.me(), report_id)
