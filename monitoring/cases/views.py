"""HTML pages of findings and the code of labour standards; the ``cases`` blueprint.

The pages are a skin over the service layer the JSON API uses too: the lists of
:mod:`.services_lists`, the per-role views of :mod:`.services_shown` and the ``Args`` schemas
that validate each form. What a user may not see answers 404 like a missing page. The case
pages are in :mod:`.case_views`, those of corrective actions in :mod:`.action_views`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from monitoring.accounts.models import User, UserRole
from monitoring.cases import files, operations, permissions, services
from monitoring.cases import services_lists as lists
from monitoring.cases import services_shown as views
from monitoring.cases.compliance import permissions as compliance_permissions
from monitoring.cases.forms import (
    FindingFilterForm,
    FindingForm,
    SiteChoiceForm,
    report_label,
    report_search,
    site_label,
)
from monitoring.cases.models import ActionState, CaseEvent, CaseState, Finding
from monitoring.cases.schemas import FileFindingArgs, ListFindingsArgs
from monitoring.cases.standards import Standard, get_standard, groups
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.pagination import Page, paginate, paginate_keys_first
from monitoring.core.transactions import attempt
from monitoring.supplychain import pickers
from monitoring.supplychain.models import Site
from monitoring.supplychain.permissions import listed_sites
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.permissions import visible_reports

logger = logging.getLogger(__name__)

bp = Blueprint("cases", __name__)

CASE_ROLES = permissions.CASE_ROLES
STAFF_ROLES = (UserRole.coordinator, UserRole.monitor)
# The finding form's names of the Args fields it names otherwise.
FINDING_FORM = {"site_id": "site", "report_ids": "reports"}


def me() -> User:
    user: User = current_user._get_current_object()
    return user


def page_of(listing: lists.Listing) -> Page:
    pages = paginate_keys_first if listing.keys_first else paginate
    return pages(db.session(), listing.query, key_columns=listing.order, after=request.args.get("after"))


def list_context(form: Any, listing: lists.Listing) -> dict[str, Any]:
    """What every list page renders: the filter form, one page and the filters for the pager."""
    filters = {k: v for k, v in request.args.items() if k != "after" and v}
    return {
        "form": form,
        "page": page_of(listing),
        "filters": filters,
        "first_page": not request.args.get("after"),
    }


def link(endpoint: str, fallback: str, **values: Any) -> str:
    """The URL of another page, or its stable address while that page is not there."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return fallback


@bp.app_template_global("case_standard")
def case_standard(code: str) -> Standard | None:
    return get_standard(code)


@bp.app_template_global("case_file_size")
def file_size(size: int) -> str:
    """A file's size in the user's language (KB below a megabyte)."""
    if size < 1024 * 1024:
        return _("%(size)s KB", size=format_decimal(size / 1024, format="#,##0.#"))
    return files.size_text(size)


@dataclass(frozen=True)
class EventStates:
    from_title: str | None
    to_title: str | None


@bp.app_template_global("case_event_states")
def event_states(event: CaseEvent) -> EventStates:
    """The titles of the states an event moved between (a case's or an action's)."""
    kind: Any = ActionState if event.action_id is not None else CaseState

    def title(value: str | None) -> str | None:
        try:
            return None if value is None else str(kind(value).title)
        except ValueError:
            return value

    return EventStates(title(event.from_state), title(event.to_state))


@bp.app_template_global("action_url")
def action_url(action_id: int) -> str:
    return link("actions.action", f"/actions/{action_id}", action_id=action_id)


@bp.route("/standards/")
@roles(*CASE_ROLES)
def standards() -> Any:
    return render_template("cases/standards.html", standard_groups=groups())


# --- findings -----------------------------------------------------------------------------------


@bp.route("/findings/")
@roles(*STAFF_ROLES)
def findings() -> Any:
    user = me()
    site_ids = request.args.getlist("site")
    sites = pickers.pick(
        "site",
        lists.finding_sites(user),
        Site.id,
        request.args,
        site_ids,
        site_label,
        pickers.site_search,
        order=(Site.name,),
        browse=True,
    )
    form = FindingFilterForm(sites, formdata=request.args)
    args = services.filter_args(ListFindingsArgs, request.args, form, FINDING_FORM)
    context = list_context(form, lists.list_findings(user, args))
    context["page"].items = [views.show_finding(user, f) for f in context["page"].items]
    return render_template(
        "cases/findings.html",
        can_file=permissions.can_file_finding(user),
        show_organisation=permissions.sees_other_organisations(user),
        **context,
    )


@bp.route("/findings/<int:finding_id>")
@roles(*CASE_ROLES)
def finding(finding_id: int) -> Any:
    user = me()
    finding = services.load_finding(user, finding_id)
    standard = get_standard(finding.standard)
    return render_template(
        "cases/finding.html",
        finding=views.show_finding(user, finding),
        standard_group=standard.group if standard else "",
        report_links=views.report_links(user, finding),
        can_list=permissions.can_list_findings(user),
        can_edit=permissions.can_edit_finding(user, finding),
        can_open_case=permissions.can_open_case_for(user, finding),
        can_choose_clauses=compliance_permissions.can_choose_clauses(user, finding),
    )


def _site(user: User, finding: Finding | None) -> Site | None:
    """The site chosen in the form (posted, or in the query string), else the finding's."""
    raw = request.form.get("site") if request.method == "POST" else request.args.get("site")
    if raw is None and request.method == "GET":
        return finding.site if finding is not None else None
    try:
        return db.session.scalar(listed_sites(user).where(Site.id == int(raw or "")))
    except ValueError:
        return None


def _form_values(finding: Finding | None) -> dict[str, Any] | None:
    if request.method == "POST":
        return None
    if finding is None:
        return {"found_date": services.today()}
    return {
        "standard": finding.standard,
        "severity": finding.severity.value,
        "workers_affected": finding.workers_affected,
        "evidence_type": finding.evidence_type.value,
        "found_date": finding.found_date,
        "summary": finding.summary,
        "reports": [link.report_id for link in finding.report_links],
    }


def _site_picker(user: User, site: Site | None, values: Any) -> pickers.Picker:
    return pickers.pick(
        "site",
        listed_sites(user),
        Site.id,
        values,
        [site.id] if site is not None else [],
        site_label,
        pickers.site_search,
        order=(Site.name,),
        browse=True,
    )


def _report_picker(user: User, site: Site, finding: Finding | None) -> pickers.Picker:
    """Your organisation's reports from the site: those linked, then the latest or those searched."""
    reports = visible_reports(user).where(
        WorkerReport.site_id == site.id, WorkerReport.organisation_id == user.organisation_id
    )
    if request.method == "POST":
        chosen: list[Any] = request.form.getlist("reports")
    else:
        chosen = [link.report_id for link in finding.report_links] if finding is not None else []
    values = request.form if request.method == "POST" else request.args
    return pickers.pick(
        "reports",
        reports,
        WorkerReport.id,
        values,
        chosen,
        report_label,
        report_search,
        order=(WorkerReport.collected_date.desc(),),
        browse=True,
    )


def _finding_form(finding: Finding | None) -> Any:
    user = me()
    site = _site(user, finding)
    site_form = SiteChoiceForm(
        _site_picker(user, site, request.args),
        formdata=request.args if "site" in request.args else None,
    )
    if "site" in request.args:
        site_form.validate()
    searching = pickers.searching(request.form, "reports") if request.method == "POST" else False
    status = 422 if request.method == "POST" and not searching else 200
    context: dict[str, Any] = {"site_form": site_form, "form": None, "site": site, "finding": finding}
    if site is None:
        if request.method == "POST":
            site_form.site.errors = [_("Choose a site.")]
        return render_template("cases/finding_form.html", **context), status
    site_form.site.data = site_form.site.data or site.id
    form = context["form"] = FindingForm(_report_picker(user, site, finding), data=_form_values(finding))
    form.site.data = str(site.id)
    if searching:
        return render_template("cases/finding_form.html", **context), status
    args = form_args(FileFindingArgs, form, rename=FINDING_FORM, extra={"site_id": site.id})
    if args is not None:
        try:
            if finding is None:
                finding = attempt(operations.file_finding, user, services.finding_data(args))
                flash(_("Finding %(id)s was filed.", id=finding.id), "success")
            else:
                attempt(operations.update_finding, user, finding, services.finding_data(args))
                flash(_("Finding %(id)s was saved.", id=finding.id), "success")
            return redirect(url_for(".finding", finding_id=finding.id))
        except OperationError as exc:
            apply_error(form, exc, FINDING_FORM)
    return render_template("cases/finding_form.html", **context), status


@bp.route("/findings/new", methods=["GET", "POST"])
@roles(UserRole.monitor)
def finding_new() -> Any:
    services.require(permissions.can_file_finding(me()))
    return _finding_form(None)


@bp.route("/findings/<int:finding_id>/edit", methods=["GET", "POST"])
@roles(UserRole.monitor)
def finding_edit(finding_id: int) -> Any:
    finding = services.load_finding(me(), finding_id)
    services.require(permissions.can_edit_finding(me(), finding))
    return _finding_form(finding)


from monitoring.cases import case_views, outcome_views  # noqa: E402,F401  (their pages join the blueprint)
