"""HTML pages of corrective actions: the request, the supplier's plan, decisions, evidence, verification.

A skin over the services the JSON API uses: an action is shown as
:func:`services_shown.action_detail` gives it to the API, every form is validated with the
API's ``Args`` schema, and the lists are those of :mod:`.services_lists`. A page offers only
the forms :func:`workflow.available` allows the viewer now; a form sent when its step is no
longer possible is refused with the reason and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from monitoring.cases import deadlines, files, operations, permissions, services, workflow
from monitoring.cases import services_lists as lists
from monitoring.cases import services_shown as views
from monitoring.cases.action_forms import (
    ACCEPT,
    VERIFIED,
    ActionFilterForm,
    CloseForm,
    DeadlinesForm,
    DecisionForm,
    ImplementationForm,
    PlanForm,
    RequestFilterForm,
    RequestForm,
    VerificationForm,
)
from monitoring.cases.models import ActionState, CaseState, CorrectiveAction, Finding, Severity
from monitoring.cases.schemas import (
    ChangeDeadlinesArgs,
    DecideOnPlanArgs,
    ListActionsArgs,
    ReportImplementationArgs,
    RequestActionArgs,
    SubmitPlanArgs,
    VerifyActionArgs,
)
from monitoring.cases.views import list_context, me
from monitoring.core import uploads
from monitoring.core.auth import roles
from monitoring.core.errors import error_response
from monitoring.core.forms import apply_error, form_args
from monitoring.core.operations import OperationError
from monitoring.core.roles import UserRole
from monitoring.core.transactions import attempt
from monitoring.supplychain.queries import concerned_suppliers

logger = logging.getLogger(__name__)

bp = Blueprint("actions", __name__)

CASE_ROLES = permissions.CASE_ROLES
STAFF_ROLES = (UserRole.coordinator, UserRole.monitor)

# What the supplier is expected to do next, by state (for the list of requests).
NEXT_STEP = {
    ActionState.requested: _l("Submit a plan"),
    ActionState.plan_rejected: _l("Submit a new plan"),
    ActionState.plan_submitted: _l("Wait for the decision on the plan"),
    ActionState.plan_accepted: _l("Carry out the plan and report it implemented"),
    ActionState.not_verified: _l("Complete the correction and report it again"),
    ActionState.implemented: _l("Wait for the verification"),
    ActionState.verified: _l("Wait for the closure"),
    ActionState.closed: _l("Nothing: the action is closed"),
}


@bp.app_template_global("case_url")
def case_url(case_id: int) -> str:
    """The page of a case (the cases feature's)."""
    return url_for("cases.case", case_id=case_id)


@bp.app_template_global("action_standard")
def standard_label(code: str) -> str:
    from monitoring.cases.standards import get_standard

    standard = get_standard(code)
    return standard.label() if standard is not None else code


@bp.app_template_global("action_due_phase")
def due_phase(action: CorrectiveAction) -> str | None:
    return deadlines.due_phase(action)


@bp.app_template_global("action_next_step")
def next_step(action: CorrectiveAction) -> str:
    return str(NEXT_STEP[action.state])


@bp.app_template_global("action_home_counts")
def home_counts() -> lists.HomeCounts | None:
    return lists.home_counts(me(), services.today())


# --- requesting an action ---------------------------------------------------------------------


def _allowed_text(severity: Severity) -> str:
    """The deadlines allowed for a new request of a severity, in words."""
    low, high = deadlines.closure_min_days(severity), deadlines.closure_days(severity)
    if low:
        return _(
            "Plan from today until the closure; closure %(low)d to %(high)d days from today.",
            low=low,
            high=high,
        )
    return _("Plan from today until the closure; closure at most %(high)d days from today.", high=high)


@dataclass(frozen=True)
class SeverityRow:
    severity: Severity
    plan: date
    closure: date
    allowed: str


def _most_severe(findings: list[Finding]) -> Finding | None:
    order = list(Severity)
    return min(findings, key=lambda f: (order.index(f.severity), f.id), default=None)


@bp.route("/cases/<int:case_id>/actions/new", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def new(case_id: int) -> Any:
    user, today = me(), services.today()
    case_ = services.load_case(user, case_id)
    services.require(permissions.can_request_action(user, case_))
    if case_.state not in workflow.REQUEST_STATES:
        message = _(
            "Corrective actions are requested while the case is in dialogue or in remediation; "
            "this case is at “%(state)s”.",
            state=case_.state.title,
        )
        flash(message, "error")
        return redirect(case_url(case_.id))
    findings = list(case_.findings)
    suppliers = [s.organisation for s in concerned_suppliers(case_.site_id, today)]
    form = RequestForm(findings, suppliers)
    if request.method == "GET":
        chosen = request.args.get("finding", type=int)
        finding = next((f for f in findings if f.id == chosen), None) or _most_severe(findings)
        if finding is not None:
            form.finding_id.data = finding.id
            form.plan_due_date.data, form.closure_due_date.data = deadlines.default_deadlines(
                finding.severity, today
            )
        if len(suppliers) == 1:
            form.supplier_id.data = suppliers[0].id
    elif (args := form_args(RequestActionArgs, form)) is not None:
        try:
            action = attempt(operations.request_action, user, case_, services.request_data(args))
        except OperationError as exc:
            apply_error(form, exc)
        else:
            flash(
                _("The corrective action was requested from %(supplier)s.", supplier=action.supplier.name),
                "success",
            )
            return redirect(url_for(".action", action_id=action.id))
    rows = [SeverityRow(s, *deadlines.default_deadlines(s, today), _allowed_text(s)) for s in Severity]
    page = render_template(
        "actions/request_form.html",
        case=case_,
        form=form,
        suppliers=suppliers,
        today=today,
        severity_rows=rows,
    )
    return page, 422 if request.method == "POST" else 200


# --- one action -------------------------------------------------------------------------------


def _deadline_hint(action: CorrectiveAction) -> str:
    """The bounds of changed deadlines, in words."""
    severity = action.severity
    low, high = deadlines.closure_min_days(severity), deadlines.closure_days(severity)
    if low:
        return _(
            "A changed date cannot be in the past, and the plan is due before the closure. For severity "
            "“%(severity)s” the closure is due at most %(high)d days from today and at least "
            "%(low)d days after the request.",
            severity=severity.title,
            high=high,
            low=low,
        )
    return _(
        "A changed date cannot be in the past, and the plan is due before the closure. For severity "
        "“%(severity)s” the closure is due at most %(high)d days from today.",
        severity=severity.title,
        high=high,
    )


def _offered(action: CorrectiveAction) -> dict[str, FlaskForm | None]:
    """The forms the user may send now (deadlines until the action or its case is closed)."""
    user = me()
    names = {t.name for t in workflow.available(user, action)}
    forms: dict[str, FlaskForm | None] = {}
    forms["plan_form"] = (
        PlanForm(formdata=None, data=services.plan_prefill(action)) if "submit_plan" in names else None
    )
    forms["decision_form"] = DecisionForm(formdata=None) if names & {"accept_plan", "reject_plan"} else None
    forms["implementation_form"] = (
        ImplementationForm(formdata=None) if "report_implemented" in names else None
    )
    forms["verification_form"] = (
        VerificationForm(formdata=None) if names & {"verify", "reject_verification"} else None
    )
    forms["close_form"] = CloseForm(formdata=None) if "close_action" in names else None
    closed = action.state is ActionState.closed or action.case.state is CaseState.closed
    dates = {"plan_due_date": action.plan_due_date, "closure_due_date": action.closure_due_date}
    changeable = not closed and permissions.can_change_deadlines(user, action)
    forms["deadlines_form"] = DeadlinesForm(formdata=None, data=dates) if changeable else None
    return forms


def _detail(action: CorrectiveAction, *, status: int = 200, **given: FlaskForm) -> Any:
    """Render the action as the API shows it, with the forms the user may use now."""
    user, today = me(), services.today()
    shown = views.action_detail(user, action, today)
    forms = {
        key: (given.get(key) or form) if form is not None else None for key, form in _offered(action).items()
    }
    return render_template(
        "actions/action.html",
        action=shown,
        today=today,
        deadline_hint=_deadline_hint(action) if forms["deadlines_form"] else "",
        max_files=files.MAX_FILES,
        max_upload=files.size_text(current_app.config["EVIDENCE_MAX_BYTES"]),
        **forms,
    ), status


@bp.route("/actions/<int:action_id>")
@roles(*CASE_ROLES)
def action(action_id: int) -> Any:
    return _detail(services.load_action(me(), action_id))


def _step(
    action_: CorrectiveAction,
    key: str,
    form: FlaskForm,
    args: dict[str, Any] | None,
    run: Callable[[dict[str, Any]], Any],
    done: Callable[[], str],
) -> Any:
    """Run one step's operation and go back to the action; show the form again when refused."""
    if args is None:
        return _detail(action_, status=422, **{key: form})
    try:
        attempt(run, args)
    except OperationError as exc:
        apply_error(form, exc)
        return _detail(action_, status=422, **{key: form})
    flash(done(), "success")
    return redirect(url_for(".action", action_id=action_.id))


def _refused(action_: CorrectiveAction, name: str) -> Any:
    """Redirect back with the reason when the user may not take the transition now, else None."""
    refusal = workflow.allowed(me(), action_, name)
    if refusal is None:
        return None
    flash(str(refusal), "error")
    return redirect(url_for(".action", action_id=action_.id))


@bp.route("/actions/<int:action_id>/plan", methods=["POST"])
@roles(UserRole.supplier)
def submit_plan(action_id: int) -> Any:
    form, action_ = PlanForm(), services.load_action(me(), action_id)
    if (refused := _refused(action_, "submit_plan")) is not None:
        return refused
    run = lambda a: operations.submit_plan(me(), action_, services.plan_data(a))  # noqa: E731
    done = lambda: _("Your plan was submitted. You will be told when it is accepted or rejected.")  # noqa: E731
    return _step(action_, "plan_form", form, form_args(SubmitPlanArgs, form), run, done)


@bp.route("/actions/<int:action_id>/decision", methods=["POST"])
@roles(*STAFF_ROLES)
def decide(action_id: int) -> Any:
    form, action_ = DecisionForm(), services.load_action(me(), action_id)
    if (refused := _refused(action_, "accept_plan")) is not None:
        return refused
    accept = form.decision.data == ACCEPT
    args = services.load_args(DecideOnPlanArgs, form, {"accept": accept, "reason": form.reason.data})

    def done() -> str:
        if accept:
            return _("The plan was accepted. The supplier now carries it out.")
        return _("The plan was rejected. The supplier reads your reason and submits a new plan.")

    run = lambda a: services.decide_on_plan(me(), action_, a)  # noqa: E731
    return _step(action_, "decision_form", form, args, run, done)


@bp.route("/actions/<int:action_id>/implementation", methods=["POST"])
@roles(UserRole.supplier)
def report_implemented(action_id: int) -> Any:
    action_ = services.load_action(me(), action_id)
    # The size is checked before anything reads the body; the CSRF token after (uploads.py).
    if not uploads.accept_form(files.request_body_limit()):
        return error_response(413, files.too_large_message())
    form = ImplementationForm()
    if (refused := _refused(action_, "report_implemented")) is not None:
        return refused
    uploaded = [
        files.Upload.from_storage(f) for f in request.files.getlist(form.files.name) if f and f.filename
    ]
    args = services.load_args(ReportImplementationArgs, form, {"description": form.description.data})
    run = lambda a: operations.report_implemented(me(), action_, a["description"], uploaded)  # noqa: E731
    done = lambda: _("The action was reported implemented. A monitor will verify it.")  # noqa: E731
    return _step(action_, "implementation_form", form, args, run, done)


uploads.csrf_checked_in_view(bp, report_implemented)


@bp.route("/actions/<int:action_id>/verification", methods=["POST"])
@roles(UserRole.monitor)
def verify(action_id: int) -> Any:
    form, action_ = VerificationForm(), services.load_action(me(), action_id)
    if (refused := _refused(action_, "verify")) is not None:
        return refused
    verified = form.result.data == VERIFIED
    args = services.load_args(VerifyActionArgs, form, {"verified": verified, "note": form.note.data})
    run = lambda a: operations.verify_action(me(), action_, a["verified"], a.get("note") or "")  # noqa: E731
    done = lambda: (  # noqa: E731
        _("The implementation is verified.")
        if verified
        else _("The implementation is not verified. The supplier reads your note.")
    )
    return _step(action_, "verification_form", form, args, run, done)


@bp.route("/actions/<int:action_id>/close", methods=["POST"])
@roles(*STAFF_ROLES)
def close(action_id: int) -> Any:
    form, action_ = CloseForm(), services.load_action(me(), action_id)
    if (refused := _refused(action_, "close_action")) is not None:
        return refused
    args: dict[str, Any] | None = {} if form.validate_on_submit() else None
    run = lambda a: operations.close_action(me(), action_)  # noqa: E731
    return _step(action_, "close_form", form, args, run, lambda: _("The corrective action is closed."))


@bp.route("/actions/<int:action_id>/deadlines", methods=["POST"])
@roles(UserRole.coordinator)
def change_deadlines(action_id: int) -> Any:
    form, action_ = DeadlinesForm(), services.load_action(me(), action_id)
    services.require(permissions.can_change_deadlines(me(), action_))
    done = lambda: _(  # noqa: E731
        "The deadlines are now %(plan)s for the plan and %(closure)s for the closure.",
        plan=format_date(action_.plan_due_date, "medium"),
        closure=format_date(action_.closure_due_date, "medium"),
    )
    run = lambda a: services.change_deadlines(me(), action_, a)  # noqa: E731
    return _step(action_, "deadlines_form", form, form_args(ChangeDeadlinesArgs, form), run, done)


@bp.route("/actions/<int:action_id>/files/<int:file_id>")
@roles(*CASE_ROLES)
def download(action_id: int, file_id: int) -> Any:
    return services.download(me(), file_id, action=services.load_action(me(), action_id))


# --- lists ------------------------------------------------------------------------------------


@bp.route("/actions/")
@roles(*CASE_ROLES)
def actions() -> Any:
    """The corrective actions of the cases the user sees, with the API's filters."""
    user, today = me(), services.today()
    form = ActionFilterForm(formdata=request.args)
    args = services.filter_args(ListActionsArgs, request.args, form)
    context = list_context(form, lists.list_actions(user, args, today))
    context["page"].items = [views.show_action(user, a, today) for a in context["page"].items]
    awaiting = bool(args.get("awaiting_decision"))
    return render_template("actions/actions.html", awaiting=awaiting, today=today, **context)


@bp.route("/requests/")
@roles(UserRole.supplier)
def requests() -> Any:
    """The requests addressed to the supplier's organisation, by what is due when."""
    user, today = me(), services.today()
    form = RequestFilterForm(formdata=request.args)
    args = services.filter_args(ListActionsArgs, request.args, form)
    context = list_context(form, lists.list_requests(user, args, today))
    overdue = {a.id for a in context["page"].items if deadlines.is_overdue(a, today)}
    return render_template("actions/requests.html", today=today, overdue=overdue, **context)


@bp.route("/verifications/")
@roles(*STAFF_ROLES)
def verifications() -> Any:
    """Actions reported implemented and waiting for a monitor's verification, oldest first."""
    user = me()
    context = list_context(None, lists.list_verifications(user))
    context["filters"] = {}
    return render_template(
        "actions/verifications.html", can_verify=permissions.verifies_actions(user), **context
    )
