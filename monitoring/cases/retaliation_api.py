"""JSON API: one step from a worker's retaliation alert to a priority GR-2 finding on a case."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from monitoring.accounts.models import User, UserRole
from monitoring.cases import services_retaliation as rs
from monitoring.cases.schemas_retaliation import FileRetaliationFindingArgs, RetaliationFindingSchema
from monitoring.core.api import route
from monitoring.core.auth import roles


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


@route(
    "/retaliation-alerts/<int:alert_id>/finding",
    method="POST",
    summary=_l("File a retaliation finding from an alert"),
    description=_l(
        "Files a priority finding GR-2 (retaliation against workers who raised concerns) linked to the "
        "alert's report, on the open case that report supports at the site, or opens a case with it; "
        "the alert is then handled. 404 unless you are a monitor of the report and the alert is open."
    ),
    args=FileRetaliationFindingArgs,
    response=RetaliationFindingSchema,
    status=201,
)
@roles(UserRole.monitor)
def file_retaliation_finding(alert_id: int, args: dict[str, Any]) -> Any:
    alert = rs.actionable_alert(_me(), alert_id)
    return rs.filed_view(alert, rs.file_from_alert(_me(), alert, args)), 201
