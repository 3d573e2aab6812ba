"""The reporting pages: each role's dashboard with its charts, and the interim-remedy form.

Both are thin skins over ``reporting.services`` (the API's ``/dashboard`` reads the same
``services.dashboard``) and ``reporting.operations``. The charts are SVG drawn by Jinja macros
(``reporting/charts.html``), each with a data table beside it; no JavaScript.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from marshmallow import ValidationError

from monitoring.accounts.models import User
from monitoring.cases.forms import RemedyForm
from monitoring.cases.models import Case
from monitoring.core.auth import roles
from monitoring.core.forms import apply_error
from monitoring.core.operations import OperationError
from monitoring.core.roles import UserRole
from monitoring.core.transactions import attempt
from monitoring.reporting import operations, permissions, services
from monitoring.reporting.figures import Breakdown
from monitoring.reporting.permissions import REPORTING_ROLES
from monitoring.reporting.schemas import DashboardArgs, PortfolioArgs
from monitoring.reporting.suppression import Suppressed
from monitoring.supplychain.circularity import services as circularity

bp = Blueprint("reporting", __name__)

FIGURE_TITLES = {
    "report_acknowledge": _l("Report to acknowledgement"),
    "report_feedback": _l("Report to first feedback"),
    "action_plan": _l("Request to plan"),
    "action_accepted_plan": _l("Request to accepted plan"),
    "action_verification": _l("Request to verification"),
    "case_closure": _l("Case opened to closed"),
    "direct_acknowledged_in_time": _l("Direct reports acknowledged within 7 days"),
    "direct_answered_in_time": _l("Direct reports answered within 3 months"),
    "actions_on_time": _l("Actions closed on time"),
    "plans_rejected": _l("Plans rejected per action"),
    "cases_reopened": _l("Cases reopened"),
    "outcome_resolved": _l("Cases closed as resolved"),
    "outcome_partially_resolved": _l("Cases closed as partially resolved"),
    "outcome_unresolved": _l("Cases closed as unresolved"),
}
BREAKDOWN_TITLES = {
    Breakdown.total: _l("Not split"),
    Breakdown.organisation: _l("Monitor organisation"),
    Breakdown.supplier: _l("Supplier"),
    Breakdown.buyer: _l("Buyer"),
    Breakdown.country: _l("Country"),
    Breakdown.standard: _l("Standard"),
    Breakdown.severity: _l("Severity"),
}


def me() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.app_template_global("reporting_dashboard_visible")
def dashboard_visible() -> bool:
    """Whether the main menu shows the dashboard to the current user."""
    return permissions.can_view_dashboard(me())


@bp.app_template_global("reporting_can_record_remedy")
def can_record_remedy(case: Case) -> bool:
    """Whether the case page links to the interim-remedy form."""
    return permissions.can_record_interim_remedy(me(), case)


@bp.app_template_global("reporting_figure_title")
def figure_title(name: str) -> str:
    return str(FIGURE_TITLES.get(name, name))


def shown_number(value: Any, *, suppressed: bool = False) -> str:
    """A number as pages show it: "fewer than 5" when suppressed, a dash when there is none."""
    if suppressed or isinstance(value, Suppressed):
        return str(_l("fewer than 5"))
    if value is None:
        return "—"
    return str(value)


def median_bars(figures: services.FiguresView) -> list[dict[str, Any]]:
    """One bar per clock and group: its median in days (suppressed and empty ones not drawn)."""
    split = figures.breakdown is not Breakdown.total
    bars = []
    for row in figures.durations:
        label = figure_title(row.figure)
        if split:
            label = f"{label}: {row.label or _('none')}"
        value = None if row.suppressed else row.median_days
        shown = shown_number(row.median_days, suppressed=row.suppressed)
        bars.append({"label": label, "value": value, "shown": shown, "suppressed": row.suppressed})
    return bars


def kind_bars(totals: list[services.KindTotal]) -> list[dict[str, Any]]:
    """One bar per kind of remedy: its total in euros (suppressed ones not drawn)."""
    bars = []
    for total in totals:
        amount = total.amount_eur
        value = float(amount) if isinstance(amount, Decimal) else None
        shown = shown_number(amount)
        bars.append(
            {"label": total.kind.title, "value": value, "shown": shown, "suppressed": total.suppressed}
        )
    return bars


bp.add_app_template_global(shown_number, "reporting_number")


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    messages = exc.normalized_messages()
    if not isinstance(messages, dict):
        return {"_schema": [str(messages)]}
    return {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in messages.items()}


@bp.route("/dashboard/")
@roles(*REPORTING_ROLES)
def dashboard() -> Any:
    """The user's dashboard for the period asked (the form shows again with its errors: 422)."""
    user = me()
    sections = {
        "queues": permissions.sees_queues(user),
        "leverage": permissions.sees_leverage(user),
        "portfolio": permissions.sees_portfolio(user),
    }
    context: dict[str, Any] = {"values": request.args, "breakdowns": BREAKDOWN_TITLES, "sections": sections}
    try:
        args = DashboardArgs().load(request.args.to_dict())
    except ValidationError as exc:
        return render_template("reporting/dashboard.html", errors=_messages(exc), board=None, **context), 422
    board = services.dashboard(user, services.period_of(args), args["breakdown"])
    charts = {"medians": median_bars(board.figures), "kinds": kind_bars(board.by_kind)}
    if sections["portfolio"]:  # the buyer's feedback loop of its devices, up to the period's last year
        loop = circularity.buyer_loop(user, (args.get("to_date") or date.today()).year)
        context.update(circularity=loop, circularity_bars=circularity.loop_bars(loop))
    return render_template("reporting/dashboard.html", errors={}, board=board, charts=charts, **context)


@bp.route("/dashboard/portfolio")
@roles(UserRole.affiliate)
def portfolio() -> Any:
    """Every site of the affiliate's portfolio, a page at a time (the dashboard shows the first)."""
    try:
        args = PortfolioArgs().load({k: v for k, v in request.args.items() if k == "offset"})
    except ValidationError as exc:
        page = services.portfolio_page(me())
        return render_template("reporting/portfolio.html", page=page, errors=_messages(exc)), 422
    page = services.portfolio_page(me(), args["offset"])
    return render_template("reporting/portfolio.html", page=page, errors={})


class InterimRemedyForm(FlaskForm, RemedyForm):
    """One remedy recorded on an open case (the closing form's remedy row, with a kind required)."""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not self.kind.data and not self.kind.errors:
            self.kind.errors = [*self.kind.errors, str(_l("Choose the kind of remedy."))]
        return valid and bool(self.kind.data)


@bp.route("/cases/<int:case_id>/remedies/new", methods=["GET", "POST"])
@roles(*operations.REMEDY_ROLES)
def remedy_new(case_id: int) -> Any:
    user = me()
    case = services.load_case_for_remedy(user, case_id)
    form = InterimRemedyForm()
    if request.method == "POST" and form.validate_on_submit():
        values = {
            "kind": form.kind.data,
            "amount": form.amount.data,
            "currency": (form.currency.data or "").strip().upper() or None,
            "workers_covered": form.workers_covered.data,
            "description": (form.description.data or "").strip() or None,
        }
        try:
            attempt(operations.record_interim_remedy, user, case, values)
        except OperationError as exc:
            apply_error(form, exc, {"remedies": "kind"})
        else:
            flash(_("The remedy is recorded on case %(reference)s.", reference=case.reference), "success")
            return redirect(url_for("cases.case", case_id=case.id))
    status = 422 if request.method == "POST" else 200
    remedies = services.interim_remedies(user, case)
    return render_template("reporting/remedy_form.html", case=case, form=form, remedies=remedies), status
