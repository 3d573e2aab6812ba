"""What the retaliation-watch pages and API share: lookups (404), the alert list, a report's watch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.models_retaliation import RetaliationAlert, RetaliationCheckIn
from monitoring.testimony.permissions import is_member, visible_retaliation_alerts
from monitoring.testimony.services import found

# The order of the alert list (the last column is unique), for the page and the API alike.
ALERT_ORDER = (RetaliationAlert.raised_dt.desc(), RetaliationAlert.id.desc())


def list_alerts(user: User, args: Mapping[str, Any]) -> Select[Any]:
    """The alerts the user may see, filtered by ``ListRetaliationAlertsArgs``."""
    query = visible_retaliation_alerts(user)
    if args.get("state") is not None:
        query = query.where(RetaliationAlert.state == args["state"])
    if args.get("report_id") is not None:
        query = query.where(RetaliationAlert.report_id == args["report_id"])
    return query


def load_alert(user: User, alert_id: int) -> RetaliationAlert:
    """The alert, if the user may see it (else 404)."""
    alert: RetaliationAlert | None = db.session.scalar(
        visible_retaliation_alerts(user).where(RetaliationAlert.id == alert_id)
    )
    return found(alert)


@dataclass(frozen=True)
class ReportWatch:
    """A report's check-ins and alerts, for its monitors (empty for anyone else)."""

    check_ins: list[RetaliationCheckIn] = field(default_factory=list)
    alerts: list[RetaliationAlert] = field(default_factory=list)


def report_watch(user: User, report: WorkerReport) -> ReportWatch:
    if not is_member(user, report):
        return ReportWatch()
    check_ins = db.session.scalars(
        select(RetaliationCheckIn)
        .where(RetaliationCheckIn.report_id == report.id)
        .order_by(RetaliationCheckIn.due_dt, RetaliationCheckIn.id)
    )
    alerts = db.session.scalars(
        select(RetaliationAlert)
        .where(RetaliationAlert.report_id == report.id)
        .order_by(RetaliationAlert.raised_dt.desc(), RetaliationAlert.id.desc())
    )
    return ReportWatch(list(check_ins), list(alerts))
