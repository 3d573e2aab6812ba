"""HTML pages of findings, cases, the dialogue and the code of labour standards.

Every page loads its case or finding through :mod:`monitoring.cases.permissions`, so what a
user may not see answers 404 like a missing page, and administrators get 404 before anything
is loaded. A case page offers only what the viewer may do now (the transitions
:func:`workflow.available` returns, the visibilities :func:`permissions.message_visibilities`
allows); a form sent when its step is no longer possible is refused with the reason and
changes nothing.

Nobody but the monitors of the finding's organisation sees the links to worker reports;
suppliers never read a finding's summary; affiliates and suppliers see "fewer than 5" for
small numbers of workers.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, Integer, Select, cast, func, select
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError
from wtforms import FieldList, FormField

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.cases import deadlines, files, operations, permissions, timeline, workflow
from monitoring.cases.forms import (
    IN_CASE_NO,
    IN_CASE_YES,
    AddFindingsForm,
    CaseFilterForm,
    CaseOpenForm,
    CloseForm,
    FindingFilterForm,
    FindingForm,
    LeadForm,
    MessageForm,
    ReopenForm,
    SiteChoiceForm,
    TransitionForm,
)
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseClosure,
    CaseEvent,
    CaseFile,
    CaseOutcome,
    CaseState,
    CorrectiveAction,
    Finding,
    FindingReport,
    RemedyKind,
    Severity,
    Visibility,
)
from monitoring.cases.standards import codes_in_group, get_standard, groups
from monitoring.core import uploads
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.downloads import attachment
from monitoring.core.errors import error_response
from monitoring.core.operations import OperationError
from monitoring.core.pagination import Page, paginate
from monitoring.core.types import utcnow
from monitoring.supplychain import queries
from monitoring.supplychain.models import Disclosure, Product, Site
from monitoring.supplychain.permissions import disclosure_is_current, listed_sites
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.permissions import visible_reports

logger = logging.getLogger(__name__)

bp = Blueprint("cases", __name__)

CASE_ROLES = permissions.CASE_ROLES
STAFF_ROLES = (UserRole.coordinator, UserRole.monitor)
# At most this many files per message, each within EVIDENCE_MAX_BYTES.
MAX_FILES = files.MAX_FILES
# Room for the multipart envelope and the message around the files.
# Transitions with pages of their own (they record more than a state).
OWN_PAGES = frozenset({"close", "reopen"})


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _today() -> date:
    return utcnow().date()


def _require(allowed: bool) -> None:
    """Refuse like a missing page, so a refusal tells nothing."""
    if not allowed:
        abort(404)


# The operations' names of fields whose form fields are named otherwise.
FIELD_NAMES = {
    "site_id": "site",
    "report_ids": "reports",
    "finding_ids": "findings",
    "lead_coordinator_id": "lead",
    "supplier_id": "supplier",
}


def _field_at(form: FlaskForm, path: str | None) -> Any:
    """The field an operation's error names, also inside a repeated row ("remedies-1-amount")."""
    if not path:
        return None
    node: Any = form
    for part in re.split(r"[.\-]", FIELD_NAMES.get(path, path)):
        if isinstance(node, FieldList):
            node = node.entries[int(part)] if part.isdigit() and int(part) < len(node.entries) else None
        elif isinstance(node, FormField):
            node = node.form._fields.get(part)
        elif hasattr(node, "_fields"):
            node = node._fields.get(part)
        else:
            node = None
        if node is None:
            return None
    return None if isinstance(node, FieldList | FormField) else node


def _apply(form: FlaskForm, error: OperationError) -> None:
    """Show an operation's refusal next to its field, or above the form."""
    field = _field_at(form, error.field)
    if field is None:
        form.form_errors.append(str(error.message))
    else:
        field.errors = [*field.errors, str(error.message)]


def _filters() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "after" and v}


def _valid(field: Any) -> Any:
    """A filter's value, or None when it is empty or did not parse."""
    return field.data if field.data and not field.errors else None


def _page(query: Select[Any], keys: list[Any]) -> Page:
    return paginate(db.session, query, key_columns=keys, after=request.args.get("after"))


def _link(endpoint: str, fallback: str, **values: Any) -> str:
    """The URL of another feature's page, or its stable address while that page is not there."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return fallback


@bp.app_template_global("case_standard")
def case_standard(code: str) -> Any:
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
        if value is None:
            return None
        try:
            return str(kind(value).title)
        except ValueError:
            return value

    return EventStates(title(event.from_state), title(event.to_state))


@bp.app_template_global("action_url")
def action_url(action_id: int) -> str:
    return _link("actions.action", f"/actions/{action_id}", action_id=action_id)


# --- the code of labour standards ---------------------------------------------------------------


@bp.route("/standards/")
@roles(*CASE_ROLES)
def standards() -> Any:
    return render_template("cases/standards.html", standard_groups=groups())


# --- findings -----------------------------------------------------------------------------------


def load_finding(finding_id: int) -> Finding:
    finding = db.session.scalar(
        permissions.visible_findings(_me()).options(joinedload(Finding.case)).where(Finding.id == finding_id)
    )
    if finding is None:
        abort(404)
    return finding


@bp.route("/findings/")
@roles(*STAFF_ROLES)
def findings() -> Any:
    user = _me()
    visible = permissions.visible_findings(user)
    if permissions.is_monitor(user):
        visible = visible.where(Finding.organisation_id == user.organisation_id)
    site_ids = visible.with_only_columns(Finding.site_id).distinct()
    sites = db.session.scalars(select(Site).where(Site.id.in_(site_ids)).order_by(Site.name, Site.id))
    form = FindingFilterForm(list(sites), formdata=request.args)
    form.validate()
    query = visible.options(joinedload(Finding.case))
    if site_id := _valid(form.site):
        query = query.where(Finding.site_id == site_id)
    if group := _valid(form.category):
        query = query.where(Finding.standard.in_(codes_in_group(group)))
    if severity := _valid(form.severity):
        query = query.where(Finding.severity == Severity(severity))
    in_case = _valid(form.in_case)
    if in_case == IN_CASE_YES:
        query = query.where(Finding.case_id.is_not(None))
    elif in_case == IN_CASE_NO:
        query = query.where(Finding.case_id.is_(None))
    page = _page(query, [Finding.created_dt.desc(), Finding.id.desc()])
    return render_template(
        "cases/findings.html",
        form=form,
        page=page,
        filters=_filters(),
        first_page=not request.args.get("after"),
        can_file=permissions.can_file_finding(user),
        show_organisation=permissions.is_coordinator(user),
    )


@bp.route("/findings/<int:finding_id>")
@roles(*CASE_ROLES)
def finding(finding_id: int) -> Any:
    user = _me()
    finding = load_finding(finding_id)
    report_links = None
    if permissions.can_see_report_links(user, finding):
        report_links = list(
            db.session.scalars(
                visible_reports(user)
                .join(FindingReport, FindingReport.report_id == WorkerReport.id)
                .where(FindingReport.finding_id == finding.id)
                .order_by(WorkerReport.id)
            )
        )
    standard = get_standard(finding.standard)
    return render_template(
        "cases/finding.html",
        finding=finding,
        standard_group=standard.group if standard else "",
        summary=finding.summary if permissions.can_see_finding_summary(user, finding) else None,
        workers=permissions.shown_workers(user, finding.workers_affected),
        report_links=report_links,
        is_staff=permissions.is_coordinator(user) or permissions.is_monitor(user),
        can_list=permissions.is_coordinator(user) or permissions.is_monitor(user),
        can_edit=permissions.can_edit_finding(user, finding),
        can_open_case=_may_open_case_for(user, finding),
    )


def _may_open_case_for(user: User, finding: Finding) -> bool:
    if finding.case_id is not None or not permissions.can_open_case(user):
        return False
    return not permissions.is_monitor(user) or finding.organisation_id == user.organisation_id


def _chosen_site(site_id: Any) -> Site | None:
    if site_id in (None, ""):
        return None
    try:
        ident = int(site_id)
    except (TypeError, ValueError):
        return None
    return db.session.scalar(listed_sites(_me()).where(Site.id == ident))


def _site_reports(user: User, site: Site) -> list[WorkerReport]:
    """The user's organisation's reports from the site: metadata only, for linking."""
    return list(
        db.session.scalars(
            visible_reports(user)
            .where(WorkerReport.site_id == site.id, WorkerReport.organisation_id == user.organisation_id)
            .order_by(WorkerReport.collected_date.desc(), WorkerReport.id.desc())
        )
    )


def _finding_data(form: FindingForm, site: Site) -> operations.FindingData:
    return operations.FindingData(
        site_id=site.id,
        standard=form.standard.data or "",
        severity=form.severity.data or "",
        workers_affected=form.workers_affected.data,
        evidence_type=form.evidence_type.data or "",
        found_date=form.found_date.data,
        summary=form.summary.data or "",
        report_ids=list(form.reports.data or []),
    )


def _finding_form_page(finding: Finding | None) -> Any:
    user = _me()
    sites = list(db.session.scalars(listed_sites(user).order_by(Site.name, Site.id)))
    site_form = SiteChoiceForm(sites, formdata=request.args if "site" in request.args else None)
    if request.method == "POST":
        site = _chosen_site(request.form.get("site"))
    elif "site" in request.args:
        site_form.validate()
        site = _chosen_site(site_form.site.data)
    else:
        site = finding.site if finding is not None else None
    if site is not None and not site_form.site.data:
        site_form.site.data = site.id
    if site is None:
        if request.method == "POST":
            site_form.site.errors = [_("Choose a site.")]
        return render_template(
            "cases/finding_form.html", site_form=site_form, form=None, site=None, finding=finding
        ), (422 if request.method == "POST" else 200)
    data = None
    if finding is not None and request.method == "GET":
        data = {
            "standard": finding.standard,
            "severity": finding.severity.value,
            "workers_affected": finding.workers_affected,
            "evidence_type": finding.evidence_type.value,
            "found_date": finding.found_date,
            "summary": finding.summary,
            "reports": [link.report_id for link in finding.report_links],
        }
    elif request.method == "GET":
        data = {"found_date": _today()}
    form = FindingForm(_site_reports(user, site), data=data)
    form.site.data = str(site.id)
    status = 200
    if form.validate_on_submit():
        try:
            if finding is None:
                finding = operations.file_finding(user, _finding_data(form, site))
                message = _("Finding %(id)s was filed.", id=finding.id)
            else:
                operations.update_finding(user, finding, _finding_data(form, site))
                message = _("Finding %(id)s was saved.", id=finding.id)
        except OperationError as exc:
            db.session.rollback()
            _apply(form, exc)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for(".finding", finding_id=finding.id))
    if request.method == "POST":
        status = 422
    return render_template(
        "cases/finding_form.html", site_form=site_form, form=form, site=site, finding=finding
    ), status


@bp.route("/findings/new", methods=["GET", "POST"])
@roles(UserRole.monitor)
def finding_new() -> Any:
    _require(permissions.can_file_finding(_me()))
    return _finding_form_page(None)


@bp.route("/findings/<int:finding_id>/edit", methods=["GET", "POST"])
@roles(UserRole.monitor)
def finding_edit(finding_id: int) -> Any:
    finding = load_finding(finding_id)
    _require(permissions.can_edit_finding(_me(), finding))
    return _finding_form_page(finding)


# --- the case board -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    case: Case
    findings: int
    open_actions: int
    next_due: date | None
    overdue: bool


def _count_of(model: Any, *conditions: ColumnElement[bool]) -> Any:
    return (
        select(cast(func.count(), Integer))
        .select_from(model)
        .where(*conditions)
        .correlate(Case)
        .scalar_subquery()
    )


def _board_title(user: User) -> str:
    if permissions.is_affiliate(user):
        return _("Cases touching my products")
    if permissions.is_monitor(user):
        return _("My organisation's cases")
    return _("Case board")


@bp.route("/cases/")
@roles(*CASE_ROLES)
def cases() -> Any:
    user = _me()
    if user.role is UserRole.supplier:
        return redirect(_link("actions.requests", "/requests/"))
    today = _today()
    form = CaseFilterForm(formdata=request.args)
    form.validate()
    due = deadlines.next_deadline_subquery(today)
    findings_count = _count_of(Finding, Finding.case_id == Case.id)
    open_actions = _count_of(
        CorrectiveAction, CorrectiveAction.case_id == Case.id, CorrectiveAction.state != ActionState.closed
    )
    overdue = func.coalesce(due.c.overdue, 0)
    query = (
        permissions.visible_cases(user, today)
        .outerjoin(due, due.c.case_id == Case.id)
        .add_columns(findings_count, open_actions, due.c.next_due, overdue)
        .options(joinedload(Case.lead_coordinator))
    )
    if state := _valid(form.state):
        query = query.where(Case.state == CaseState(state))
    if severity := _valid(form.severity):
        query = query.where(Case.severity == Severity(severity))
    if form.overdue.data:
        query = query.where(overdue > 0)
    if country := _valid(form.country):
        query = query.where(Case.site_id.in_(select(Site.id).where(Site.country == country)))
    if group := _valid(form.category):
        in_group = select(Finding.case_id).where(Finding.standard.in_(codes_in_group(group)))
        query = query.where(Case.id.in_(in_group))
    page = _page(query, [Case.opened_dt.desc(), Case.id.desc()])
    page.items = [
        CaseRow(case, int(n or 0), int(o or 0), next_due, bool(late))
        for case, n, o, next_due, late in page.items
    ]
    return render_template(
        "cases/board.html",
        heading=_board_title(user),
        form=form,
        page=page,
        filters=_filters(),
        first_page=not request.args.get("after"),
        is_staff=permissions.is_coordinator(user) or permissions.is_monitor(user),
        can_open=permissions.can_open_case(user),
    )


# --- opening a case -----------------------------------------------------------------------------


def _active_coordinators() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == UserRole.coordinator, User.is_active.is_(True))
            .order_by(func.lower(User.name), User.id)
        )
    )


def _free_findings(user: User) -> Select[tuple[Finding]]:
    """Findings the user may put into a new case: in no case yet (a monitor's: its organisation's)."""
    query = permissions.visible_findings(user).where(Finding.case_id.is_(None))
    if permissions.is_monitor(user):
        query = query.where(Finding.organisation_id == user.organisation_id)
    return query


@bp.route("/cases/new", methods=["GET", "POST"])
@roles(*STAFF_ROLES)
def case_new() -> Any:
    user = _me()
    _require(permissions.can_open_case(user))
    free = _free_findings(user)
    site_ids = free.with_only_columns(Finding.site_id).distinct()
    sites = list(db.session.scalars(select(Site).where(Site.id.in_(site_ids)).order_by(Site.name, Site.id)))
    site_form = SiteChoiceForm(sites, formdata=None)
    chosen = request.args.get("site", type=int) or request.form.get("site", type=int)
    site = next((s for s in sites if s.id == chosen), None)
    context: dict[str, Any] = {"site_form": site_form, "form": None, "site": site}
    context["can_file"] = permissions.can_file_finding(user)
    if site is None:
        if chosen is not None:
            site_form.site.errors = [_("There is no finding at this site that is free for a new case.")]
        return render_template("cases/case_new.html", **context), (422 if request.method == "POST" else 200)
    site_form.site.data = site.id
    candidates = list(db.session.scalars(free.where(Finding.site_id == site.id).order_by(Finding.id)))
    form = CaseOpenForm(candidates, _active_coordinators())
    form.site.data = str(site.id)
    if request.method == "GET":
        preselect = request.args.get("finding", type=int)
        form.findings.data = [f.id for f in candidates if f.id == preselect] or (
            [candidates[0].id] if len(candidates) == 1 else []
        )
    context["form"] = form
    if form.validate_on_submit():
        try:
            case = operations.open_case(
                user, site.id, list(form.findings.data or []), lead_coordinator_id=form.lead.data
            )
        except OperationError as exc:
            db.session.rollback()
            _apply(form, exc)
        else:
            db.session.commit()
            flash(_("Case %(reference)s was opened.", reference=case.reference), "success")
            return redirect(url_for(".case", case_id=case.id))
    return render_template("cases/case_new.html", **context), (422 if request.method == "POST" else 200)


# --- one case -----------------------------------------------------------------------------------


def load_case(case_id: int) -> Case:
    case = db.session.scalar(
        permissions.visible_cases(_me(), _today())
        .options(joinedload(Case.lead_coordinator))
        .where(Case.id == case_id)
    )
    if case is None:
        abort(404)
    return case


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    summary: str | None
    workers: int | None
    reports: list[FindingReport] | None


@dataclass(frozen=True)
class ActionView:
    action: CorrectiveAction
    due: date | None
    phase: str | None
    overdue: bool


@dataclass(frozen=True)
class RemedyView:
    kind: RemedyKind
    amount: Any
    currency: str | None
    workers_covered: int | None
    shown_workers: int | None
    description: str | None


@dataclass(frozen=True)
class ClosureView:
    closure: CaseClosure
    note: str | None
    reopen_reason: str | None
    remedies: list[RemedyView]


@dataclass
class TransitionButton:
    transition: workflow.Transition
    errors: list[str]
    reason: str | None = None


def _finding_views(user: User, case: Case) -> list[FindingView]:
    found = list(
        db.session.scalars(
            permissions.visible_findings(user).where(Finding.case_id == case.id).order_by(Finding.id)
        )
    )
    linked = [f.id for f in found if permissions.can_see_report_links(user, f)]
    links: dict[int, list[FindingReport]] = {i: [] for i in linked}
    if linked:
        for link in db.session.scalars(
            select(FindingReport)
            .where(FindingReport.finding_id.in_(linked))
            .order_by(FindingReport.report_id)
        ):
            links[link.finding_id].append(link)
    return [
        FindingView(
            f,
            f.summary if permissions.can_see_finding_summary(user, f) else None,
            permissions.shown_workers(user, f.workers_affected),
            links.get(f.id),
        )
        for f in found
    ]


def _action_views(user: User, case: Case, today: date) -> list[ActionView]:
    rows = db.session.execute(
        permissions.visible_actions(user)
        .add_columns(deadlines.due_date_column(), deadlines.overdue_clause(today))
        .where(CorrectiveAction.case_id == case.id)
        .order_by(CorrectiveAction.id)
    ).all()
    return [ActionView(a, due, deadlines.due_phase(a), bool(late)) for a, due, late in rows]


def _closure_views(user: User, case: Case) -> list[ClosureView]:
    if permissions.is_supplier(user):
        return []
    staff = permissions.reads_whole_case(user, case)
    return [
        ClosureView(
            closure,
            closure.note if permissions.can_read_closure_note(user, case) else None,
            closure.reopen_reason if staff else None,
            [
                RemedyView(
                    r.kind,
                    r.amount,
                    r.currency,
                    r.workers_covered,
                    permissions.shown_workers(user, r.workers_covered),
                    r.description,
                )
                for r in closure.remedies
            ],
        )
        for closure in case.closures
    ]


def _message_suppliers(user: User, case: Case) -> list[Organisation]:
    if permissions.is_supplier(user):
        return []
    ids = permissions.message_suppliers(user, case)
    if not ids:
        return []
    return list(
        db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name))
    )


def _add_candidates(case: Case) -> list[Finding]:
    return list(
        db.session.scalars(
            permissions.visible_findings(_me())
            .where(
                Finding.case_id.is_(None),
                Finding.site_id == case.site_id,
                Finding.organisation_id == case.monitor_organisation_id,
            )
            .order_by(Finding.id)
        )
    )


def _case_page(
    case: Case,
    *,
    status: int = 200,
    transition_error: tuple[str, str, str | None] | None = None,
    **forms: Any,
) -> Any:
    """Render a case: what it concerns, its findings and actions, the timeline and the forms."""
    user = _me()
    today = _today()
    staff = permissions.reads_whole_case(user, case)
    context: dict[str, Any] = {
        "case": case,
        "is_staff": staff,
        "site_link": not permissions.is_supplier(user),
        "affiliates": None,
        "other_affiliates": None,
        "suppliers": None,
        "own_products": None,
        "products": None,
    }
    if staff:
        context["affiliates"] = queries.concerned_affiliates(case.site_id, today)
        context["suppliers"] = queries.concerned_suppliers(case.site_id, today)
        context["products"] = list(
            db.session.scalars(
                select(Product)
                .where(
                    Product.id.in_(
                        select(Disclosure.product_id).where(
                            Disclosure.site_id == case.site_id, disclosure_is_current(today)
                        )
                    )
                )
                .order_by(Product.brand, Product.model, Product.id)
            )
        )
    elif permissions.is_affiliate(user):
        context["affiliates"] = queries.concerned_affiliates(case.site_id, today, user.organisation_id)
        context["other_affiliates"] = queries.other_affiliates(case.site_id, today, user.organisation_id)
        context["own_products"] = queries.contracts_reaching_site(case.site_id, today, user.organisation_id)
    context["findings"] = _finding_views(user, case)
    context["actions"] = _action_views(user, case, today)
    context["closures"] = _closure_views(user, case)
    items = timeline.timeline(user, case, today)
    # The suppliers that messages name, in one query (later lookups find them in the session).
    named = {i.message.supplier_id for i in items if i.message is not None and i.message.supplier_id}
    if named:
        db.session.scalars(select(Organisation).where(Organisation.id.in_(named))).all()
    context["timeline"] = items
    context["can_request"] = (
        permissions.can_request_action(user, case) and case.state in workflow.REQUEST_STATES
    )
    context["request_action_url"] = _link("actions.new", f"/cases/{case.id}/actions/new", case_id=case.id)
    context["requests_url"] = _link("actions.requests", "/requests/")
    available = workflow.available(user, case)
    buttons = []
    for t in available:
        if t.name in OWN_PAGES:
            continue
        button = TransitionButton(t, [])
        if transition_error and transition_error[0] == t.name:
            button.errors, button.reason = [transition_error[1]], transition_error[2]
        buttons.append(button)
    if transition_error and not any(b.transition.name == transition_error[0] for b in buttons):
        flash(transition_error[1], "error")
    context["transitions"] = buttons
    context["can_close"] = permissions.can_close_case(user, case) and any(
        t.name == "close" for t in available
    )
    reopen = permissions.can_reopen_case(user, case) and any(t.name == "reopen" for t in available)
    context["reopen_form"] = (forms.get("reopen_form") or ReopenForm(formdata=None)) if reopen else None
    context["lead_form"] = None
    if permissions.can_set_lead(user, case):
        context["lead_form"] = forms.get("lead_form") or LeadForm(
            _active_coordinators(), formdata=None, data={"lead": case.lead_coordinator_id}
        )
    context["add_form"] = None
    if permissions.can_add_findings(user, case) and case.state is not CaseState.closed:
        context["add_form"] = forms.get("add_form") or AddFindingsForm(_add_candidates(case), formdata=None)
    visibilities = permissions.message_visibilities(user, case)
    context["message_form"] = None
    if visibilities:
        context["message_form"] = forms.get("message_form") or MessageForm(
            visibilities, _message_suppliers(user, case), formdata=None
        )
    context["max_upload"] = files.size_text(current_app.config["EVIDENCE_MAX_BYTES"])
    return render_template("cases/case.html", **context), status


@bp.route("/cases/<int:case_id>")
@roles(*CASE_ROLES)
def case(case_id: int) -> Any:
    return _case_page(load_case(case_id))


@bp.route("/cases/<int:case_id>/transition", methods=["POST"])
@roles(*STAFF_ROLES)
def case_transition(case_id: int) -> Any:
    user = _me()
    case = load_case(case_id)
    _require(permissions.reads_whole_case(user, case))
    form = TransitionForm()
    name = form.transition.data or ""
    if name not in workflow.CASE_TRANSITIONS or name in OWN_PAGES or not form.validate_on_submit():
        abort(400)
    reason = (form.reason.data or "").strip() or None
    try:
        operations.transition_case(user, case, name, reason)
    except OperationError as exc:
        db.session.rollback()
        return _case_page(load_case(case_id), status=422, transition_error=(name, str(exc.message), reason))
    db.session.commit()
    flash(_("The case is now “%(state)s”.", state=case.state.title), "success")
    return redirect(url_for(".case", case_id=case.id))


@bp.route("/cases/<int:case_id>/lead", methods=["POST"])
@roles(UserRole.coordinator)
def case_lead(case_id: int) -> Any:
    user = _me()
    case = load_case(case_id)
    _require(permissions.can_set_lead(user, case))
    form = LeadForm(_active_coordinators())
    if not form.validate_on_submit():
        return _case_page(case, status=422, lead_form=form)
    try:
        operations.set_lead(user, case, form.lead.data)
    except OperationError as exc:
        db.session.rollback()
        _apply(form, exc)
        return _case_page(load_case(case_id), status=422, lead_form=form)
    db.session.commit()
    if case.lead_coordinator is not None:
        flash(_("%(name)s now leads the case.", name=case.lead_coordinator.name), "success")
    else:
        flash(_("The case has no lead coordinator now."), "success")
    return redirect(url_for(".case", case_id=case.id))


@bp.route("/cases/<int:case_id>/findings", methods=["POST"])
@roles(*STAFF_ROLES)
def case_findings(case_id: int) -> Any:
    user = _me()
    case = load_case(case_id)
    _require(permissions.can_add_findings(user, case))
    form = AddFindingsForm(_add_candidates(case))
    if not form.validate_on_submit():
        return _case_page(case, status=422, add_form=form)
    try:
        operations.add_findings(user, case, list(form.findings.data or []))
    except OperationError as exc:
        db.session.rollback()
        _apply(form, exc)
        return _case_page(load_case(case_id), status=422, add_form=form)
    db.session.commit()
    count = len(form.findings.data or [])
    flash(
        ngettext("%(num)d finding was added to the case.", "%(num)d findings were added to the case.", count),
        "success",
    )
    return redirect(url_for(".case", case_id=case.id))


@bp.route("/cases/<int:case_id>/reopen", methods=["POST"])
@roles(*STAFF_ROLES)
def case_reopen(case_id: int) -> Any:
    user = _me()
    case = load_case(case_id)
    _require(permissions.can_reopen_case(user, case))
    form = ReopenForm()
    if not form.validate_on_submit():
        return _case_page(case, status=422, reopen_form=form)
    try:
        operations.reopen_case(user, case, form.reason.data or "")
    except OperationError as exc:
        db.session.rollback()
        _apply(form, exc)
        return _case_page(load_case(case_id), status=422, reopen_form=form)
    db.session.commit()
    flash(_("The case was reopened and is now “%(state)s”.", state=case.state.title), "success")
    return redirect(url_for(".case", case_id=case.id))


def _closure_data(form: CloseForm) -> operations.ClosureData:
    remedies = [
        operations.RemedyData(
            kind=RemedyKind(entry.form.kind.data),
            amount=entry.form.amount.data,
            currency=(entry.form.currency.data or "").strip().upper() or None,
            workers_covered=entry.form.workers_covered.data,
            description=(entry.form.description.data or "").strip() or None,
        )
        for entry in form.remedies
        if not entry.form.is_empty
    ]
    return operations.ClosureData(
        outcome=CaseOutcome(form.outcome.data),
        note=(form.note.data or "").strip() or None,
        remedies=remedies,
        workers_consulted=bool(form.workers_consulted.data),
    )


@bp.route("/cases/<int:case_id>/close", methods=["GET", "POST"])
@roles(UserRole.monitor)
def case_close(case_id: int) -> Any:
    user = _me()
    case = load_case(case_id)
    _require(permissions.can_close_case(user, case))
    form = CloseForm()
    priority = case.severity is Severity.priority
    if request.method == "GET":
        refusal = workflow.allowed(user, case, "close")
        if refusal is not None:
            flash(str(refusal), "error")
            return redirect(url_for(".case", case_id=case.id))
    elif form.validate_on_submit():
        try:
            operations.close_case(user, case, _closure_data(form))
        except OperationError as exc:
            db.session.rollback()
            case = load_case(case_id)
            _apply(form, exc)
        else:
            db.session.commit()
            flash(_("Case %(reference)s is closed.", reference=case.reference), "success")
            return redirect(url_for(".case", case_id=case.id))
    status = 422 if request.method == "POST" else 200
    return render_template("cases/close.html", case=case, form=form, priority=priority), status


# --- the dialogue -------------------------------------------------------------------------------


@bp.route("/cases/<int:case_id>/messages", methods=["POST"])
@roles(*CASE_ROLES)
def case_message(case_id: int) -> Any:
    user = _me()
    case = load_case(case_id)
    visibilities = permissions.message_visibilities(user, case)
    _require(bool(visibilities))
    # The size is checked before anything reads the body; the CSRF token after (uploads.py).
    if not uploads.accept_form(files.request_body_limit()):
        return error_response(
            413,
            files.too_large_message(),
        )
    form = MessageForm(visibilities, _message_suppliers(user, case))
    if not form.validate_on_submit():
        return _case_page(case, status=422, message_form=form)
    chosen = [f for f in request.files.getlist(form.files.name) if f and f.filename]
    if len(chosen) > MAX_FILES:
        form.files.errors = [*form.files.errors, _("Send at most %(count)d files.", count=MAX_FILES)]
        return _case_page(case, status=422, message_form=form)
    visibility = Visibility(form.visibility.data)
    supplier_id = None
    if visibility is Visibility.parties:
        supplier_id = user.organisation_id if permissions.is_supplier(user) else form.supplier.data
    try:
        operations.post_message(
            user,
            case,
            visibility,
            form.body.data or "",
            supplier_id=supplier_id,
            files=[files.Upload.from_storage(f) for f in chosen],
        )
    except OperationError as exc:
        db.session.rollback()
        _apply(form, exc)
        return _case_page(load_case(case_id), status=422, message_form=form)
    db.session.commit()
    flash(_("Your message was added to the case."), "success")
    return redirect(url_for(".case", case_id=case.id, _anchor="timeline-heading"))


uploads.csrf_checked_in_view(bp, case_message)


@bp.route("/cases/<int:case_id>/files/<int:file_id>")
@roles(*CASE_ROLES)
def case_file(case_id: int, file_id: int) -> Any:
    user = _me()
    case = load_case(case_id)
    stored = db.session.scalar(select(CaseFile).where(CaseFile.id == file_id, CaseFile.case_id == case.id))
    if stored is None or not permissions.can_read_file(user, stored):
        abort(404)
    name, content_type, chunks = files.open_case_file(user, stored)
    db.session.commit()  # the audit entry of the read, if one was written
    return attachment(
        chunks, name=name, fallback=f"file-{stored.id}", content_type=content_type, size=stored.size
    )
