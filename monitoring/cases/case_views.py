"""HTML pages of cases: the board, opening, one case with its forms, closing and the dialogue.

A case page shows the case as :func:`services_shown.case_detail` gives it to the API, and
offers only what the viewer may do now (the transitions :func:`workflow.available` returns, the
visibilities :func:`permissions.message_visibilities` allows); a form sent when its step is no
longer possible is refused with the reason and changes nothing (:func:`attempt`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.cases import files, operations, permissions, services, timeline, workflow
from monitoring.cases import services_lists as lists
from monitoring.cases import services_outcomes as shown_outcomes
from monitoring.cases import services_shown as views
from monitoring.cases.forms import (
    AddFindingsForm,
    CaseFilterForm,
    CaseOpenForm,
    CloseForm,
    LeadForm,
    MessageForm,
    ReopenForm,
    SiteChoiceForm,
    TransitionForm,
)
from monitoring.cases.models import Case, CaseState, Severity
from monitoring.cases.schemas import (
    AddFindingsArgs,
    CloseCaseArgs,
    ListCasesArgs,
    OpenCaseArgs,
    PostMessageArgs,
    ReopenCaseArgs,
    SetLeadArgs,
    TransitionCaseArgs,
)
from monitoring.cases.views import CASE_ROLES, STAFF_ROLES, bp, link, list_context, me
from monitoring.core import uploads
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.errors import error_response
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.transactions import attempt

# Transitions with pages of their own (they record more than a state).
OWN_PAGES = frozenset({"close", "reopen"})
BOARD_HEADINGS = {
    "products": _l("Cases touching my products"),
    "organisation": _l("My organisation's cases"),
    "all": _l("Case board"),
}


@dataclass
class TransitionButton:
    transition: workflow.Transition
    errors: list[str]
    reason: str | None = None


def _active_coordinators() -> list[User]:
    query = select(User).where(User.role == UserRole.coordinator, User.is_active.is_(True))
    return list(db.session.scalars(query.order_by(func.lower(User.name), User.id)))


# --- the case board -----------------------------------------------------------------------------


@bp.route("/cases/")
@roles(*CASE_ROLES)
def cases() -> Any:
    user, today = me(), services.today()
    if not permissions.can_list_cases(user):
        return redirect(link("actions.requests", "/requests/"))
    form = CaseFilterForm(lists.case_countries(user, today), formdata=request.args)
    context = list_context(
        form, lists.list_case_board(user, services.filter_args(ListCasesArgs, request.args, form), today)
    )
    context["page"].items = lists.board_rows(context["page"].items, today)
    return render_template(
        "cases/board.html",
        scope=permissions.board_scope(user),
        heading=str(BOARD_HEADINGS[permissions.board_scope(user)]),
        is_staff=permissions.can_list_findings(user),
        can_open=permissions.can_open_case(user),
        can_decide=permissions.decides_plans(user),
        **context,
    )


# --- opening a case -----------------------------------------------------------------------------


@bp.route("/cases/new", methods=["GET", "POST"])
@roles(*STAFF_ROLES)
def case_new() -> Any:
    user = me()
    services.require(permissions.can_open_case(user))
    sites = lists.open_case_sites(user)
    chosen = request.args.get("site", type=int) or request.form.get("site", type=int)
    site = next((s for s in sites if s.id == chosen), None)
    status = 422 if request.method == "POST" else 200
    site_form = SiteChoiceForm(sites, formdata=None, data={"site": site.id if site else None})
    context: dict[str, Any] = {"site_form": site_form, "form": None, "site": site}
    context["can_file"] = permissions.can_file_finding(user)
    if site is None:
        if chosen is not None:
            site_form.site.errors = [_("There is no finding at this site that is free for a new case.")]
        return render_template("cases/case_new.html", **context), status
    candidates = lists.openable_findings(user, site.id)
    form = context["form"] = CaseOpenForm(candidates, _active_coordinators())
    form.site.data = str(site.id)
    if request.method == "GET":
        preselect = request.args.get("finding", type=int)
        alone = [candidates[0].id] if len(candidates) == 1 else []
        form.findings.data = [f.id for f in candidates if f.id == preselect] or alone
    rename = {"site_id": "site", "finding_ids": "findings", "lead_coordinator_id": "lead"}
    args = form_args(OpenCaseArgs, form, rename=rename, extra={"site_id": site.id})
    if args is not None:
        try:
            case = attempt(services.open_case, user, args)
        except OperationError as exc:
            apply_error(form, exc, rename)
        else:
            flash(_("Case %(reference)s was opened.", reference=case.reference), "success")
            return redirect(url_for(".case", case_id=case.id))
    return render_template("cases/case_new.html", **context), status


# --- one case -----------------------------------------------------------------------------------


def _buttons(user: User, case: Case, error: tuple[str, str, str | None] | None) -> list[TransitionButton]:
    buttons = []
    for t in workflow.available(user, case):
        if t.name in OWN_PAGES:
            continue
        failed = error is not None and error[0] == t.name
        buttons.append(
            TransitionButton(t, [error[1]], error[2]) if error and failed else TransitionButton(t, [])
        )
    if error and not any(b.transition.name == error[0] for b in buttons):
        flash(error[1], "error")
    return buttons


def _forms(user: User, case: Case, given: dict[str, FlaskForm]) -> dict[str, FlaskForm | None]:
    """The forms the user may send now; a form given keeps its input and errors."""
    names = {t.name for t in workflow.available(user, case)}
    forms: dict[str, FlaskForm | None] = dict.fromkeys(
        ("reopen_form", "lead_form", "add_form", "message_form")
    )
    if permissions.can_reopen_case(user, case) and "reopen" in names:
        forms["reopen_form"] = ReopenForm(formdata=None)
    if permissions.can_set_lead(user, case):
        forms["lead_form"] = LeadForm(
            _active_coordinators(), formdata=None, data={"lead": case.lead_coordinator_id}
        )
    if permissions.can_add_findings(user, case) and case.state is not CaseState.closed:
        forms["add_form"] = AddFindingsForm(lists.addable_findings(user, case), formdata=None)
    if permissions.message_visibilities(user, case):
        forms["message_form"] = _message_form(user, case, posted=False)
    return {key: (given.get(key) or form) if form is not None else None for key, form in forms.items()}


def _message_form(user: User, case: Case, *, posted: bool) -> MessageForm:
    """The message form; a case with one supplier has it chosen for a ``parties`` message."""
    suppliers = views.message_suppliers(user, case)
    visibilities = permissions.message_visibilities(user, case)
    form = (
        MessageForm(visibilities, suppliers)
        if posted
        else MessageForm(visibilities, suppliers, formdata=None)
    )
    if len(suppliers) == 1 and not form.supplier.data:
        form.supplier.data = suppliers[0].id
    return form


def _case_page(
    case: Case, *, status: int = 200, error: tuple[str, str, str | None] | None = None, **given: FlaskForm
) -> Any:
    """Render a case as the API shows it, with the timeline and the forms the user may use now."""
    user, today = me(), services.today()
    around = views.concerned(user, case, today)
    items = timeline.timeline(user, case, today)
    # The suppliers that messages name, in one query (later lookups find them in the session).
    named = {i.message.supplier_id for i in items if i.message is not None and i.message.supplier_id}
    if named:
        db.session.scalars(select(Organisation).where(Organisation.id.in_(named))).all()
    available = {t.name for t in workflow.available(user, case)}
    return render_template(
        "cases/case.html",
        case=case,
        detail=views.case_detail(user, case, today, around),
        timeline=items,
        transitions=_buttons(user, case, error),
        can_close=permissions.can_close_case(user, case) and "close" in available,
        can_request=permissions.can_request_action(user, case) and case.state in workflow.REQUEST_STATES,
        site_link=permissions.sees_site_page(user),
        request_action_url=link("actions.new", f"/cases/{case.id}/actions/new", case_id=case.id),
        requests_url=link("actions.requests", "/requests/"),
        max_upload=files.size_text(current_app.config["EVIDENCE_MAX_BYTES"]),
        validation=shown_outcomes.validation_summary(user, case),
        workers_page=permissions.sees_worker_releases(user, case),
        **vars(around),
        **_forms(user, case, given),
    ), status


@bp.route("/cases/<int:case_id>")
@roles(*CASE_ROLES)
def case(case_id: int) -> Any:
    return _case_page(services.load_case(me(), case_id))


@bp.route("/cases/<int:case_id>/transition", methods=["POST"])
@roles(*STAFF_ROLES)
def case_transition(case_id: int) -> Any:
    user, case = me(), services.load_case(me(), case_id)
    services.require(permissions.reads_whole_case(user, case))
    form = TransitionForm()
    args = form_args(TransitionCaseArgs, form, rename={"name": "transition"})
    if args is None:
        abort(400)
    reason = (args.get("reason") or "").strip() or None
    try:
        attempt(operations.transition_case, user, case, args["name"], reason)
    except OperationError as exc:
        return _case_page(case, status=422, error=(args["name"], str(exc.message), reason))
    flash(_("The case is now “%(state)s”.", state=case.state.title), "success")
    return redirect(url_for(".case", case_id=case.id))


def _case_form(
    case: Case,
    key: str,
    form: FlaskForm,
    args: dict[str, Any] | None,
    run: Callable[[dict[str, Any]], Any],
    *,
    rename: dict[str, str] | None = None,
) -> Any:
    """Run one form's operation; re-render the case with the form and its errors when refused."""
    if args is None:
        return _case_page(case, status=422, **{key: form})
    try:
        attempt(run, args)
    except OperationError as exc:
        apply_error(form, exc, rename)
        return _case_page(case, status=422, **{key: form})
    return None


@bp.route("/cases/<int:case_id>/lead", methods=["POST"])
@roles(UserRole.coordinator)
def case_lead(case_id: int) -> Any:
    user, case = me(), services.load_case(me(), case_id)
    services.require(permissions.can_set_lead(user, case))
    form = LeadForm(_active_coordinators())
    rename = {"coordinator_id": "lead", "lead_coordinator_id": "lead"}
    args = services.load_args(SetLeadArgs, form, {"coordinator_id": form.lead.data}, rename)
    run = lambda a: operations.set_lead(user, case, a["coordinator_id"])  # noqa: E731
    if (refused := _case_form(case, "lead_form", form, args, run, rename=rename)) is not None:
        return refused
    if case.lead_coordinator is not None:
        flash(_("%(name)s now leads the case.", name=case.lead_coordinator.name), "success")
    else:
        flash(_("The case has no lead coordinator now."), "success")
    return redirect(url_for(".case", case_id=case.id))


@bp.route("/cases/<int:case_id>/findings", methods=["POST"])
@roles(*STAFF_ROLES)
def case_findings(case_id: int) -> Any:
    user, case = me(), services.load_case(me(), case_id)
    services.require(permissions.can_add_findings(user, case))
    form = AddFindingsForm(lists.addable_findings(user, case))
    rename = {"finding_ids": "findings"}
    args = form_args(AddFindingsArgs, form, rename=rename)
    run = lambda a: operations.add_findings(user, case, a["finding_ids"])  # noqa: E731
    if (refused := _case_form(case, "add_form", form, args, run, rename=rename)) is not None:
        return refused
    count = len(args["finding_ids"]) if args else 0
    message = ngettext(
        "%(num)d finding was added to the case.", "%(num)d findings were added to the case.", count
    )
    flash(message, "success")
    return redirect(url_for(".case", case_id=case.id))


@bp.route("/cases/<int:case_id>/reopen", methods=["POST"])
@roles(*STAFF_ROLES)
def case_reopen(case_id: int) -> Any:
    user, case = me(), services.load_case(me(), case_id)
    services.require(permissions.can_reopen_case(user, case))
    form = ReopenForm()
    run = lambda a: operations.reopen_case(user, case, a["reason"])  # noqa: E731
    if (refused := _case_form(case, "reopen_form", form, form_args(ReopenCaseArgs, form), run)) is not None:
        return refused
    flash(_("The case was reopened and is now “%(state)s”.", state=case.state.title), "success")
    return redirect(url_for(".case", case_id=case.id))


def _closure_args(form: CloseForm) -> dict[str, Any] | None:
    """The closing form (its remedy rows checked by the form) through the API's ``CloseCaseArgs``."""
    if not form.validate_on_submit():
        return None
    remedies = [
        {k: v for k, v in entry.form.data.items() if v not in (None, "")}
        for entry in form.remedies
        if not entry.form.is_empty
    ]
    data = {"outcome": form.outcome.data, "note": (form.note.data or "").strip() or None}
    data |= {"remedies": remedies, "workers_consulted": bool(form.workers_consulted.data)}
    data["no_validation_reason"] = (form.no_validation_reason.data or "").strip() or None
    return services.load_args(CloseCaseArgs, form, data, validated=True)


@bp.route("/cases/<int:case_id>/close", methods=["GET", "POST"])
@roles(UserRole.monitor)
def case_close(case_id: int) -> Any:
    user, case = me(), services.load_case(me(), case_id)
    services.require(permissions.can_close_case(user, case))
    form = CloseForm()
    if request.method == "GET" and (refusal := workflow.allowed(user, case, "close")) is not None:
        flash(str(refusal), "error")
        return redirect(url_for(".case", case_id=case.id))
    if request.method == "POST" and (args := _closure_args(form)) is not None:
        try:
            attempt(operations.close_case, user, case, services.closure_data(args))
        except OperationError as exc:
            apply_error(form, exc)
        else:
            flash(_("Case %(reference)s is closed.", reference=case.reference), "success")
            return redirect(url_for(".case", case_id=case.id))
    priority = case.severity is Severity.priority
    status = 422 if request.method == "POST" else 200
    validation = shown_outcomes.validation_summary(user, case) if priority else None
    return render_template(
        "cases/close.html", case=case, form=form, priority=priority, validation=validation
    ), status


# --- the dialogue -------------------------------------------------------------------------------


@bp.route("/cases/<int:case_id>/messages", methods=["POST"])
@roles(*CASE_ROLES)
def case_message(case_id: int) -> Any:
    user, case = me(), services.load_case(me(), case_id)
    services.require(bool(permissions.message_visibilities(user, case)))
    # The size is checked before anything reads the body; the CSRF token after (uploads.py).
    if not uploads.accept_form(files.request_body_limit()):
        return error_response(413, files.too_large_message())
    form = _message_form(user, case, posted=True)
    chosen = [f for f in request.files.getlist(form.files.name) if f and f.filename]
    data = {"visibility": form.visibility.data, "body": form.body.data, "supplier_id": form.supplier.data}
    args = services.load_args(PostMessageArgs, form, data, {"supplier_id": "supplier"})
    if args is not None and len(chosen) > files.MAX_FILES:
        form.files.errors = [*form.files.errors, _("Send at most %(count)d files.", count=files.MAX_FILES)]
        args = None
    uploaded = [files.Upload.from_storage(f) for f in chosen]
    run = lambda a: services.post_message(user, case, a, uploaded)  # noqa: E731
    if (
        refused := _case_form(case, "message_form", form, args, run, rename={"supplier_id": "supplier"})
    ) is not None:
        return refused
    flash(_("Your message was added to the case."), "success")
    return redirect(url_for(".case", case_id=case.id, _anchor="timeline-heading"))


uploads.csrf_checked_in_view(bp, case_message)


@bp.route("/cases/<int:case_id>/files/<int:file_id>")
@roles(*CASE_ROLES)
def case_file(case_id: int, file_id: int) -> Any:
    return services.download(me(), file_id, case=services.load_case(me(), case_id))
