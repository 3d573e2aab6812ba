"""The page step from a worker's retaliation alert to a priority GR-2 finding on a case.

The alert's page (a testimony page) shows the button; a refusal is shown on that page again
(422), with the messages next to the fields.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from monitoring.accounts.models import User, UserRole
from monitoring.cases import services_retaliation as rs
from monitoring.cases.schemas_retaliation import FileRetaliationFindingArgs
from monitoring.core.auth import roles
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.testimony.forms_retaliation import RetaliationFindingForm
from monitoring.testimony.models_retaliation import RetaliationAlert

bp = Blueprint("cases_retaliation", __name__)


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _refused(alert: RetaliationAlert, form: RetaliationFindingForm) -> Any:
    page = render_template(
        "testimony/retaliation_alert.html", alert=alert, can_handle=True, finding_form=form
    )
    return page, 422


@bp.route("/cases/retaliation-alerts/<int:alert_id>/finding", methods=["POST"])
@roles(UserRole.monitor)
def file_finding(alert_id: int) -> Any:
    alert = rs.actionable_alert(_me(), alert_id)
    form = RetaliationFindingForm()
    if (args := form_args(FileRetaliationFindingArgs, form)) is None:
        return _refused(alert, form)
    try:
        filed = attempt(rs.file_from_alert, _me(), alert, args)
    except OperationError as exc:
        apply_error(form, exc)
        return _refused(alert, form)
    if filed.opened:
        message = _(
            "Priority retaliation finding filed; case %(reference)s was opened with it.",
            reference=filed.case.reference,
        )
    else:
        message = _(
            "Priority retaliation finding filed on case %(reference)s.", reference=filed.case.reference
        )
    flash(message, "success")
    return redirect(url_for("cases.case", case_id=filed.case.id))
