"""HTML pages of corrective actions: the request, the supplier's plan, decisions, evidence, verification.

Every page loads the action through :func:`permissions.visible_actions`, so an action the user
may not see answers 404 like a missing one, and administrators get 404 before anything is
loaded. A page offers only the forms :func:`workflow.available` allows the viewer now; a form
sent when its step is no longer possible (another user was faster, the case was closed) is
refused with the reason and changes nothing.

Suppliers see the standard and the severity of the finding, never its summary, and never the
links to worker reports (only monitors of the finding's organisation do).
"""

from __future__ import annotations

import logging
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
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Date, Select, case, func, literal, select
from sqlalchemy.orm import joinedload, selectinload

from monitoring.accounts.models import User, UserRole
from monitoring.cases import deadlines, files, operations, permissions, workflow
from monitoring.cases.action_forms import (
    ACCEPT,
    VERIFIED,
    CloseForm,
    DeadlinesForm,
    DecisionForm,
    ImplementationForm,
    PlanForm,
    RequestFilterForm,
    RequestForm,
    VerificationForm,
)
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseFile,
    CaseState,
    CorrectiveAction,
    Finding,
    FindingReport,
    Severity,
    SupplierResponse,
)
from monitoring.cases.standards import get_standard
from monitoring.core import uploads
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.downloads import attachment
from monitoring.core.errors import error_response
from monitoring.core.forms import apply_error
from monitoring.core.operations import OperationError
from monitoring.core.pagination import paginate
from monitoring.core.types import utcnow
from monitoring.supplychain.queries import concerned_suppliers

logger = logging.getLogger(__name__)

bp = Blueprint("actions", __name__)

# Room for the multipart envelope and the description around the files.
# Sorts actions without a due date after every dated one (keyset keys must not be NULL).
NO_DUE_DATE = date(9999, 12, 31)

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


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _today() -> date:
    return utcnow().date()


def _with_case(query: Select[Any]) -> Select[Any]:
    """Load each action's case (its site comes along) in the same query."""
    return query.options(joinedload(CorrectiveAction.case))


def load_action(action_id: int) -> CorrectiveAction:
    """The action, if the user may see it (else 404)."""
    action = db.session.scalar(
        _with_case(permissions.visible_actions(_me())).where(CorrectiveAction.id == action_id)
    )
    if action is None:
        abort(404)
    return action


def _action_url(action: CorrectiveAction) -> str:
    return url_for(".action", action_id=action.id)


@bp.app_template_global("case_url")
def case_url(case_id: int) -> str:
    """The page of a case (the cases feature's)."""
    return url_for("cases.case", case_id=case_id)


@bp.app_template_global("action_standard")
def standard_label(code: str) -> str:
    standard = get_standard(code)
    return standard.label() if standard is not None else code


@bp.app_template_global("action_due_phase")
def due_phase(action: CorrectiveAction) -> str | None:
    return deadlines.due_phase(action)


@bp.app_template_global("action_next_step")
def next_step(action: CorrectiveAction) -> str:
    return str(NEXT_STEP[action.state])


@dataclass(frozen=True)
class HomeCounts:
    open: int
    overdue: int


@bp.app_template_global("action_home_counts")
def home_counts() -> HomeCounts | None:
    """Open and overdue requests of a supplier, or actions waiting for a monitor's verification."""
    user = _me()
    ids = permissions.visible_actions(user).with_only_columns(CorrectiveAction.id).order_by(None)
    query = select(func.count(CorrectiveAction.id)).where(CorrectiveAction.id.in_(ids))
    if permissions.is_supplier(user):
        overdue = deadlines.overdue_clause(_today())
        query = query.add_columns(func.count(case((overdue, CorrectiveAction.id)))).where(
            CorrectiveAction.state != ActionState.closed
        )
        total, late = db.session.execute(query).one()
        return HomeCounts(int(total), int(late))
    if permissions.is_monitor(user):
        total = db.session.scalar(query.where(CorrectiveAction.state == ActionState.implemented))
        return HomeCounts(int(total or 0), 0)
    return None


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


def _severity_rows(today: date) -> list[SeverityRow]:
    rows = []
    for severity in Severity:
        plan, closure = deadlines.default_deadlines(severity, today)
        rows.append(SeverityRow(severity, plan, closure, _allowed_text(severity)))
    return rows


def _request_page(case_: Case, form: RequestForm, suppliers: list[Any], status: int = 200) -> Any:
    return (
        render_template(
            "actions/request_form.html",
            case=case_,
            form=form,
            suppliers=suppliers,
            today=_today(),
            severity_rows=_severity_rows(_today()),
        ),
        status,
    )


@bp.route("/cases/<int:case_id>/actions/new", methods=["GET", "POST"])
@roles(UserRole.coordinator)
def new(case_id: int) -> Any:
    user = _me()
    today = _today()
    case_ = db.session.scalar(permissions.visible_cases(user, today).where(Case.id == case_id))
    if case_ is None or not permissions.can_request_action(user, case_):
        abort(404)
    if case_.state not in workflow.REQUEST_STATES:
        flash(
            _(
                "Corrective actions are requested while the case is in dialogue or in remediation; "
                "this case is at “%(state)s”.",
                state=case_.state.title,
            ),
            "error",
        )
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
        return _request_page(case_, form, suppliers)
    if not form.validate_on_submit():
        return _request_page(case_, form, suppliers, 422)
    data = operations.RequestData(
        finding_id=form.finding_id.data,
        supplier_id=form.supplier_id.data,
        request=form.request.data or "",
        plan_due_date=form.plan_due_date.data,
        closure_due_date=form.closure_due_date.data,
    )
    try:
        action = operations.request_action(user, case_, data)
    except OperationError as exc:
        db.session.rollback()
        apply_error(form, exc)
        return _request_page(case_, form, suppliers, 422)
    db.session.commit()
    flash(
        _("The corrective action was requested from %(supplier)s.", supplier=action.supplier.name), "success"
    )
    return redirect(_action_url(action))


def _most_severe(findings: list[Finding]) -> Finding | None:
    order = list(Severity)
    return min(findings, key=lambda f: (order.index(f.severity), f.id), default=None)


# --- one action -------------------------------------------------------------------------------


def _evidence(user: User, action: CorrectiveAction) -> list[CaseFile]:
    query = select(CaseFile).where(CaseFile.action_id == action.id).order_by(CaseFile.id)
    return [f for f in db.session.scalars(query) if permissions.can_read_file(user, f)]


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


def _deadlines_changeable(user: User, action: CorrectiveAction) -> bool:
    """Deadlines are offered for change until the action or its case is closed."""
    if action.state is ActionState.closed or action.case.state is CaseState.closed:
        return False
    return permissions.can_change_deadlines(user, action)


def _detail(action: CorrectiveAction, *, status: int = 200, **forms: FlaskForm) -> Any:
    """Render the action with the forms the user may use now (a form given keeps its input)."""
    user = _me()
    today = _today()
    names = {t.name for t in workflow.available(user, action)}
    responses = list(
        db.session.scalars(
            select(SupplierResponse)
            .where(SupplierResponse.action_id == action.id)
            .options(selectinload(SupplierResponse.submitted_by), selectinload(SupplierResponse.decided_by))
            .order_by(SupplierResponse.id)
        )
    )
    finding = action.finding
    report_links: list[FindingReport] = []
    if permissions.can_see_report_links(user, finding):
        report_links = list(
            db.session.scalars(
                select(FindingReport)
                .where(FindingReport.finding_id == finding.id)
                .order_by(FindingReport.report_id)
            )
        )

    def form(key: str, cls: type[FlaskForm], offered: bool) -> FlaskForm | None:
        given = forms.get(key)
        if given is not None:
            return given
        return cls(formdata=None) if offered else None

    deadlines_form = form("deadlines_form", DeadlinesForm, _deadlines_changeable(user, action))
    if deadlines_form is not None and "deadlines_form" not in forms:
        deadlines_form.plan_due_date.data = action.plan_due_date
        deadlines_form.closure_due_date.data = action.closure_due_date
    context = {
        "action": action,
        "today": today,
        "phase": deadlines.due_phase(action),
        "overdue": deadlines.is_overdue(action, today),
        "is_supplier": permissions.is_supplier(user),
        "show_summary": permissions.can_see_finding_summary(user, finding),
        "workers_shown": permissions.shown_workers(user, finding.workers_affected),
        "report_links": report_links,
        "responses": responses,
        "evidence": _evidence(user, action),
        "plan_form": form("plan_form", PlanForm, "submit_plan" in names),
        "decision_form": form("decision_form", DecisionForm, bool(names & {"accept_plan", "reject_plan"})),
        "implementation_form": form("implementation_form", ImplementationForm, "report_implemented" in names),
        "verification_form": form(
            "verification_form", VerificationForm, bool(names & {"verify", "reject_verification"})
        ),
        "close_form": form("close_form", CloseForm, "close_action" in names),
        "deadlines_form": deadlines_form,
        "deadline_hint": _deadline_hint(action) if deadlines_form is not None else "",
        "max_files": files.MAX_FILES,
        "max_upload": files.size_text(current_app.config["EVIDENCE_MAX_BYTES"]),
    }
    return render_template("actions/action.html", **context), status


@bp.route("/actions/<int:action_id>")
@roles(*permissions.CASE_ROLES)
def action(action_id: int) -> Any:
    return _detail(load_action(action_id))


def _refused(action_: CorrectiveAction, name: str) -> Any:
    """Redirect back with the reason when the user may not take the transition now, else None."""
    refusal = workflow.allowed(_me(), action_, name)
    if refusal is None:
        return None
    flash(str(refusal), "error")
    return redirect(_action_url(action_))


def _failed(action_: CorrectiveAction, key: str, form: FlaskForm, exc: OperationError) -> Any:
    """Undo whatever the operation began and show its refusal on the form."""
    db.session.rollback()
    apply_error(form, exc)
    return _detail(action_, status=422, **{key: form})


def _done(action_: CorrectiveAction, message: str) -> Any:
    db.session.commit()
    flash(message, "success")
    return redirect(_action_url(action_))


@bp.route("/actions/<int:action_id>/plan", methods=["POST"])
@roles(UserRole.supplier)
def submit_plan(action_id: int) -> Any:
    form = PlanForm()
    action_ = load_action(action_id)
    if (refused := _refused(action_, "submit_plan")) is not None:
        return refused
    if not form.validate_on_submit():
        return _detail(action_, status=422, plan_form=form)
    data = operations.PlanData(
        root_cause=form.root_cause.data or "",
        corrective=form.corrective.data or "",
        preventive=form.preventive.data or "",
        target_date=form.target_date.data,
    )
    try:
        operations.submit_plan(_me(), action_, data)
    except OperationError as exc:
        return _failed(action_, "plan_form", form, exc)
    return _done(action_, _("Your plan was submitted. You will be told when it is accepted or rejected."))


@bp.route("/actions/<int:action_id>/decision", methods=["POST"])
@roles(UserRole.coordinator, UserRole.monitor)
def decide(action_id: int) -> Any:
    form = DecisionForm()
    action_ = load_action(action_id)
    if (refused := _refused(action_, "accept_plan")) is not None:
        return refused
    if not form.validate_on_submit():
        return _detail(action_, status=422, decision_form=form)
    try:
        if form.decision.data == ACCEPT:
            operations.accept_plan(_me(), action_)
            message = _("The plan was accepted. The supplier now carries it out.")
        else:
            operations.reject_plan(_me(), action_, form.reason.data or "")
            message = _("The plan was rejected. The supplier reads your reason and submits a new plan.")
    except OperationError as exc:
        return _failed(action_, "decision_form", form, exc)
    return _done(action_, message)


@bp.route("/actions/<int:action_id>/implementation", methods=["POST"])
@roles(UserRole.supplier)
def report_implemented(action_id: int) -> Any:
    action_ = load_action(action_id)
    # The size is checked before anything reads the body; the CSRF token after (uploads.py).
    if not uploads.accept_form(files.request_body_limit()):
        return error_response(
            413,
            files.too_large_message(),
        )
    form = ImplementationForm()
    if (refused := _refused(action_, "report_implemented")) is not None:
        return refused
    if not form.validate_on_submit():
        return _detail(action_, status=422, implementation_form=form)
    chosen = [f for f in request.files.getlist(form.files.name) if f and f.filename]
    try:
        operations.report_implemented(
            _me(), action_, form.description.data or "", [files.Upload.from_storage(f) for f in chosen]
        )
    except OperationError as exc:
        return _failed(action_, "implementation_form", form, exc)
    return _done(action_, _("The action was reported implemented. A monitor will verify it."))


uploads.csrf_checked_in_view(bp, report_implemented)


@bp.route("/actions/<int:action_id>/verification", methods=["POST"])
@roles(UserRole.monitor)
def verify(action_id: int) -> Any:
    form = VerificationForm()
    action_ = load_action(action_id)
    if (refused := _refused(action_, "verify")) is not None:
        return refused
    if not form.validate_on_submit():
        return _detail(action_, status=422, verification_form=form)
    verified = form.result.data == VERIFIED
    try:
        operations.verify_action(_me(), action_, verified, form.note.data or "")
    except OperationError as exc:
        return _failed(action_, "verification_form", form, exc)
    if verified:
        return _done(action_, _("The implementation is verified."))
    return _done(action_, _("The implementation is not verified. The supplier reads your note."))


@bp.route("/actions/<int:action_id>/close", methods=["POST"])
@roles(UserRole.coordinator, UserRole.monitor)
def close(action_id: int) -> Any:
    form = CloseForm()
    action_ = load_action(action_id)
    if (refused := _refused(action_, "close_action")) is not None:
        return refused
    if not form.validate_on_submit():
        return _detail(action_, status=422, close_form=form)
    try:
        operations.close_action(_me(), action_)
    except OperationError as exc:
        return _failed(action_, "close_form", form, exc)
    return _done(action_, _("The corrective action is closed."))


@bp.route("/actions/<int:action_id>/deadlines", methods=["POST"])
@roles(UserRole.coordinator)
def change_deadlines(action_id: int) -> Any:
    form = DeadlinesForm()
    action_ = load_action(action_id)
    if not permissions.can_change_deadlines(_me(), action_):
        abort(404)
    if not form.validate_on_submit():
        return _detail(action_, status=422, deadlines_form=form)
    try:
        operations.change_deadlines(
            _me(), action_, form.plan_due_date.data, form.closure_due_date.data, form.reason.data or ""
        )
    except OperationError as exc:
        return _failed(action_, "deadlines_form", form, exc)
    return _done(
        action_,
        _(
            "The deadlines are now %(plan)s for the plan and %(closure)s for the closure.",
            plan=format_date(action_.plan_due_date, "medium"),
            closure=format_date(action_.closure_due_date, "medium"),
        ),
    )


# --- evidence files ---------------------------------------------------------------------------


@bp.route("/actions/<int:action_id>/files/<int:file_id>")
@roles(*permissions.CASE_ROLES)
def download(action_id: int, file_id: int) -> Any:
    user = _me()
    action_ = load_action(action_id)
    case_file = db.session.scalar(
        select(CaseFile).where(CaseFile.id == file_id, CaseFile.action_id == action_.id)
    )
    if case_file is None or not permissions.can_read_file(user, case_file):
        abort(404)
    name, content_type, chunks = files.open_case_file(user, case_file)
    db.session.commit()  # the audit entry of the read, if one was written
    return attachment(
        chunks, name=name, fallback=f"evidence-{case_file.id}", content_type=content_type, size=case_file.size
    )


# --- lists ------------------------------------------------------------------------------------


def _filters() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "after" and v}


@bp.route("/requests/")
@roles(UserRole.supplier)
def requests() -> Any:
    """The requests addressed to the supplier's organisation, by what is due when."""
    user = _me()
    today = _today()
    form = RequestFilterForm(formdata=request.args)
    form.validate()
    due = deadlines.due_date_column()
    # Dated requests first (the overdue at the top: their dates are the earliest), then those
    # waiting for others, then the closed ones.
    group = case((due.is_not(None), 0), (CorrectiveAction.state != ActionState.closed, 1), else_=2).label(
        "due_group"
    )
    due_key = func.coalesce(due, literal(NO_DUE_DATE, Date)).label("due_key")
    query = _with_case(permissions.visible_actions(user))
    if form.state.data and not form.state.errors:
        query = query.where(CorrectiveAction.state == ActionState(form.state.data))
    if form.overdue.data:
        query = query.where(deadlines.overdue_clause(today))
    page = paginate(
        db.session, query, key_columns=[group, due_key, CorrectiveAction.id], after=request.args.get("after")
    )
    return render_template(
        "actions/requests.html",
        form=form,
        page=page,
        today=today,
        overdue={a.id for a in page.items if deadlines.is_overdue(a, today)},
        filters=_filters(),
        first_page=not request.args.get("after"),
    )


@bp.route("/verifications/")
@roles(UserRole.monitor, UserRole.coordinator)
def verifications() -> Any:
    """Actions reported implemented and waiting for a monitor's verification, oldest first."""
    user = _me()
    query = _with_case(permissions.visible_actions(user)).where(
        CorrectiveAction.state == ActionState.implemented
    )
    page = paginate(
        db.session,
        query,
        key_columns=[CorrectiveAction.state_changed_dt, CorrectiveAction.id],
        after=request.args.get("after"),
    )
    return render_template(
        "actions/verifications.html",
        page=page,
        filters={},
        first_page=not request.args.get("after"),
        can_verify=permissions.is_monitor(user),
    )
