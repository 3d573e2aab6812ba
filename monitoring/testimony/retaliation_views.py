"""HTML pages of the retaliation watch for monitors: the alerts, one alert, a report's risk.

Monitors of the receiving organisation only; anyone else gets 404, as for a report of another
organisation. Filing a retaliation finding from an alert is a page of the cases feature
(:mod:`monitoring.cases.retaliation_views`); this page shows its button.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from monitoring.accounts.models import UserRole
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.forms import apply_error
from monitoring.core.operations import OperationError
from monitoring.core.pagination import paginate
from monitoring.core.transactions import attempt
from monitoring.testimony import operations_retaliation as ops
from monitoring.testimony import services as s
from monitoring.testimony import services_retaliation as rs
from monitoring.testimony.forms import ActionForm
from monitoring.testimony.forms_retaliation import (
    AlertFilterForm,
    RetaliationFindingForm,
    RetaliationRiskForm,
)
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.models_retaliation import RetaliationAlert
from monitoring.testimony.permissions import can_handle_retaliation_alert, can_set_retaliation_risk
from monitoring.testimony.schemas_retaliation import ListRetaliationAlertsArgs, SetRetaliationRiskArgs
from monitoring.testimony.views import _detail

logger = logging.getLogger(__name__)

bp = Blueprint("retaliation", __name__, url_prefix="/testimony")


@bp.app_template_global("retaliation_watch")
def retaliation_watch(report: WorkerReport) -> rs.ReportWatch:
    """A report's check-ins and alerts for its monitors (empty for anyone else)."""
    return rs.report_watch(s.me(), report)


@bp.app_template_global("retaliation_risk_form")
def retaliation_risk_form(report: WorkerReport) -> RetaliationRiskForm:
    """The form shown on the report's page: a refused one with its messages, else a fresh one."""
    form = g.get("retaliation_risk_form")
    if isinstance(form, RetaliationRiskForm):
        return form
    risk = report.retaliation_risk.value if report.retaliation_risk else ""
    return RetaliationRiskForm(formdata=None, retaliation_risk=risk)


@bp.route("/reports/<int:report_id>/retaliation-risk", methods=["POST"])
@roles(UserRole.monitor)
def set_risk(report_id: int) -> Any:
    view = s.load_report(s.me(), report_id)
    s.require(can_set_retaliation_risk(s.me(), view.report))
    form = RetaliationRiskForm()
    data = {"retaliation_risk": form.retaliation_risk.data or None}
    if not form.validate_on_submit() or (args := s.load_args(SetRetaliationRiskArgs, data, form)) is None:
        g.retaliation_risk_form = form
        return _detail(view, status=422)
    ops.set_retaliation_risk(s.me(), view.report, args["retaliation_risk"])
    flash(_("The retaliation risk is saved."), "success")
    return redirect(url_for("testimony.report", report_id=report_id, _anchor="retaliation"))


@bp.route("/retaliation-alerts")
@roles(UserRole.monitor)
def alerts() -> Any:
    form = AlertFilterForm(formdata=request.args)
    form.validate()
    query = rs.list_alerts(s.me(), s.filter_args(ListRetaliationAlertsArgs, request.args.to_dict()))
    page = paginate(db.session(), query, key_columns=rs.ALERT_ORDER, after=request.args.get("after"))
    filters = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template(
        "testimony/retaliation_alerts.html",
        form=form,
        page=page,
        filters=filters,
        first_page=not request.args.get("after"),
    )


def alert_page(alert: RetaliationAlert, *, status: int = 200, finding_form: Any = None) -> Any:
    """One alert, with its buttons for a monitor who may act on it (also for cases' refusals)."""
    return render_template(
        "testimony/retaliation_alert.html",
        alert=alert,
        can_handle=can_handle_retaliation_alert(s.me(), alert),
        finding_form=finding_form or RetaliationFindingForm(formdata=None),
    ), status


@bp.route("/retaliation-alerts/<int:alert_id>")
@roles(UserRole.monitor)
def alert(alert_id: int) -> Any:
    return alert_page(rs.load_alert(s.me(), alert_id))


@bp.route("/retaliation-alerts/<int:alert_id>/handle", methods=["POST"])
@roles(UserRole.monitor)
def handle(alert_id: int) -> Any:
    alert = rs.load_alert(s.me(), alert_id)
    s.require(can_handle_retaliation_alert(s.me(), alert))
    form = ActionForm()
    if not form.validate_on_submit():
        return alert_page(alert, status=422)
    try:
        attempt(ops.handle_alert, s.me(), alert)
    except OperationError as exc:
        apply_error(form, exc)
        flash(str(exc.message), "error")
        return alert_page(alert, status=422)
    flash(_("The alert is marked handled."), "success")
    return redirect(url_for(".alert", alert_id=alert.id))
