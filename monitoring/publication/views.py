"""The public status page (no login), its feed and open data; the publication buttons; search."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from monitoring.accounts.models import User, UserRole
from monitoring.cases import services as case_services
from monitoring.cases.models import Case
from monitoring.core.auth import public, roles
from monitoring.core.forms import form_args
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt
from monitoring.publication import feeds, operations, permissions, services
from monitoring.publication.schemas import (
    ApprovePublicationArgs,
    ProposePublicationArgs,
    SearchArgs,
    WithdrawPublicationArgs,
)
from monitoring.publication.services_search import search

bp = Blueprint("publication", __name__)

STAFF = (UserRole.coordinator, UserRole.monitor)
SEARCH_ROLES = (UserRole.coordinator, UserRole.monitor, UserRole.affiliate, UserRole.supplier)
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"


def me() -> User:
    user: User = current_user._get_current_object()
    return user


# --- public pages -----------------------------------------------------------------------------


@bp.route("/public/")
@public
def index() -> Any:
    cases = services.public_cases()
    return render_template(
        "publication/index.html", cases=cases, sites=services.public_sites(cases), licence_url=LICENCE_URL
    )


@bp.route("/public/cases/<int:case_id>")
@public
def public_case(case_id: int) -> Any:
    return render_template(
        "publication/case.html", case=services.public_case(case_id), milestone_titles=feeds.milestone_titles()
    )


@bp.route("/public/data")
@public
def data() -> Any:
    return render_template("publication/data.html", licence_url=LICENCE_URL)


@bp.route("/public/feed.atom")
@public
def feed() -> Any:
    body = feeds.atom(services.public_cases())
    return Response(body, mimetype="application/atom+xml")


@bp.route("/public/data.csv")
@public
def data_csv() -> Any:
    response = Response(feeds.csv_text(services.public_cases()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="published-cases.csv"'
    return response


@bp.route("/public/data.json")
@public
def data_json() -> Any:
    return feeds.json_document(services.public_cases(), LICENCE_URL)


# --- the publication buttons on the case page ----------------------------------------------------


@bp.app_template_global("publication_panel")
def publication_panel(case: Case) -> services.PublicationPanel | None:
    """The case page's publication section (``publication/_panel.html``), None for those who may
    not act on it."""
    if not current_user.is_authenticated:
        return None
    return services.panel(me(), case)


def _act(case_id: int, allowed: Any, operation: Any, schema: Any, done: str) -> Any:
    user = me()
    case = services.load_case(user, case_id)
    case_services.require(allowed(user, case))
    back = redirect(url_for("cases.case", case_id=case.id))
    if form_args(schema, FlaskForm()) is None:
        abort(400)
    try:
        attempt(operation, user, case)
    except OperationError as exc:
        return render_template("publication/refused.html", case=case, message=exc.message), 422
    flash(done, "success")
    return back


@bp.route("/cases/<int:case_id>/publication", methods=["POST"])
@roles(UserRole.coordinator)
def propose(case_id: int) -> Any:
    return _act(
        case_id,
        permissions.can_propose,
        operations.propose,
        ProposePublicationArgs,
        _("Publication proposed: a monitor of the case's organisation must approve it."),
    )


@bp.route("/cases/<int:case_id>/publication/approve", methods=["POST"])
@roles(UserRole.monitor)
def approve(case_id: int) -> Any:
    return _act(
        case_id,
        permissions.can_approve,
        operations.approve,
        ApprovePublicationArgs,
        _("The case is now on the public status page."),
    )


@bp.route("/cases/<int:case_id>/publication/withdraw", methods=["POST"])
@roles(*STAFF)
def withdraw(case_id: int) -> Any:
    return _act(
        case_id,
        permissions.can_withdraw,
        operations.withdraw,
        WithdrawPublicationArgs,
        _("The case was withdrawn from the public status page."),
    )


# --- search -------------------------------------------------------------------------------------


@bp.route("/search")
@roles(*SEARCH_ROLES)
def search_page() -> Any:
    args = case_services.filter_args(SearchArgs, request.args)
    text = args.get("q", "")
    return render_template(
        "publication/search.html",
        q=text,
        results=search(me(), text, case_services.today()),
        show_findings=permissions.searches_findings(me()),
    )
