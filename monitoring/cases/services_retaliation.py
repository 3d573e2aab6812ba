"""What the retaliation-finding page and API share: the alert (404), the operation's result."""

from __future__ import annotations

from typing import Any

from monitoring.accounts.models import User
from monitoring.cases.operations.retaliation import FiledRetaliation, file_retaliation_finding
from monitoring.cases.permissions import can_file_retaliation_finding
from monitoring.testimony.models_retaliation import RetaliationAlert
from monitoring.testimony.services import require
from monitoring.testimony.services_retaliation import load_alert


def actionable_alert(user: User, alert_id: int) -> RetaliationAlert:
    """The alert, if the user may see it and file a finding from it (else 404)."""
    alert = load_alert(user, alert_id)
    require(can_file_retaliation_finding(user, alert))
    return alert


def file_from_alert(user: User, alert: RetaliationAlert, args: dict[str, Any]) -> FiledRetaliation:
    return file_retaliation_finding(
        user,
        alert,
        summary=args["summary"],
        workers_affected=args.get("workers_affected"),
        site_id=args.get("site_id"),
    )


def filed_view(alert: RetaliationAlert, filed: FiledRetaliation) -> dict[str, Any]:
    return {
        "alert_id": alert.id,
        "finding_id": filed.finding.id,
        "case_id": filed.case.id,
        "case_reference": filed.case.reference,
        "case_opened": filed.opened,
        "severity": filed.finding.severity.value,
        "standard": filed.finding.standard,
    }
