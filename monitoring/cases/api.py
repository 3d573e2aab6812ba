"""JSON API of findings, cases, corrective actions, the dialogue and the code of labour standards.

Administrators get 404 on every route here, as does everyone for an object they may not see
(see :mod:`monitoring.cases.permissions`). Every answer is shaped for the user asking
(:mod:`monitoring.cases.schemas`): suppliers never get a finding's summary, only monitors of
the finding's organisation get the links to worker reports, and affiliates and suppliers see
counts of workers below 5 as suppressed.

Routes that take files (a message with attachments, an implementation with evidence) read a
``multipart/form-data`` body whose size is checked before it is read; their files are parts
named ``files``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask import Response, abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema
from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from monitoring.accounts.models import User, UserRole
from monitoring.cases import deadlines, operations, workflow
from monitoring.cases import files as case_files
from monitoring.cases.models import (
    Case,
    CaseFile,
    CaseMessage,
    CorrectiveAction,
    Finding,
)
from monitoring.cases.permissions import (
    CASE_ROLES,
    can_add_findings,
    can_change_deadlines,
    can_close_case,
    can_edit_finding,
    can_file_finding,
    can_open_case,
    can_read_file,
    can_reopen_case,
    can_request_action,
    can_set_lead,
    is_affiliate,
    message_visibilities,
    reads_whole_case,
    visible_actions,
    visible_cases,
    visible_findings,
    visible_messages,
)
from monitoring.cases.schemas import (
    MULTIPART,
    ActionSchema,
    ActionSummarySchema,
    AddFindingsArgs,
    CaseDetailSchema,
    CaseSchema,
    ChangeDeadlinesArgs,
    CloseCaseArgs,
    DecideOnPlanArgs,
    FileFindingArgs,
    FindingSchema,
    ListActionsArgs,
    ListCasesArgs,
    ListFindingsArgs,
    ListMessagesArgs,
    MessageSchema,
    OpenCaseArgs,
    PostMessageArgs,
    PostMessageWithFilesArgs,
    ReopenCaseArgs,
    ReportImplementationArgs,
    ReportImplementationWithFilesArgs,
    RequestActionArgs,
    SetLeadArgs,
    Shown,
    StandardSchema,
    SubmitPlanArgs,
    TimelineItemSchema,
    TransitionCaseArgs,
    UpdateFindingArgs,
    VerifyActionArgs,
    show_action,
    show_case,
    show_closure,
    show_finding,
    show_standard,
    show_timeline_item,
)
from monitoring.cases.standards import STANDARDS, codes_in_group
from monitoring.cases.timeline import timeline
from monitoring.core import uploads
from monitoring.core.api import operation_error, paginate, parse_args, route
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.downloads import attachment
from monitoring.core.errors import ApiError
from monitoring.core.operations import OperationError
from monitoring.core.pagination import Page
from monitoring.core.types import utcnow
from monitoring.supplychain import queries
from monitoring.supplychain.models import Site

logger = logging.getLogger(__name__)

T = TypeVar("T")

STAFF = (UserRole.coordinator, UserRole.monitor)
# Room for the multipart envelope and the form fields around the files of one request.


# --- plumbing -------------------------------------------------------------------------------------


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _today() -> date:
    return utcnow().date()


def _require(allowed: bool) -> None:
    if not allowed:
        abort(404)


def _load(query: Select[Any], condition: ColumnElement[bool]) -> Any:
    obj = db.session.scalar(query.where(condition))
    if obj is None:
        abort(404)
    return obj


def _run(operation: Callable[..., T], *args: Any, rename: dict[str, str] | None = None, **kwargs: Any) -> T:
    """Run one operation and commit; a refusal is a 422 naming the API's field."""
    try:
        result = operation(*args, **kwargs)
    except OperationError as exc:
        raise operation_error(exc, rename) from exc
    db.session.commit()
    return result


def _case(case_id: int) -> Case:
    return _load(visible_cases(_me(), _today()), Case.id == case_id)  # type: ignore[no-any-return]


def _action(action_id: int) -> CorrectiveAction:
    return _load(visible_actions(_me()), CorrectiveAction.id == action_id)  # type: ignore[no-any-return]


def _finding(finding_id: int) -> Finding:
    return _load(visible_findings(_me()), Finding.id == finding_id)  # type: ignore[no-any-return]


def _too_large() -> ApiError:
    return ApiError(413, case_files.too_large_message())


def _form_input(
    json_schema: type[Schema], multipart_schema: type[Schema], *, multipart_only: bool = False
) -> tuple[dict[str, Any], list[case_files.Upload]]:
    """Read a JSON body, or a ``multipart/form-data`` one with files whose size is checked first."""
    if request.mimetype != MULTIPART:
        if multipart_only:
            message = _("Send the files as multipart/form-data, each in a part named “files”.")
            raise ApiError(400, message, {"files": [message]})
        return parse_args(json_schema), []
    if not uploads.accept_body(case_files.request_body_limit()):
        raise _too_large()
    raw: dict[str, Any] = request.form.to_dict(flat=True)
    for name in request.files:
        if name != "files":
            raw[name] = request.files[name]  # refused as an unknown field
    parts = [f for f in request.files.getlist("files") if isinstance(f, FileStorage) and f.filename]
    if parts:
        raw["files"] = parts
    args = parse_args(multipart_schema, raw)
    return args, [case_files.Upload.from_storage(part) for part in args.pop("files", [])]


def _download(case_file: CaseFile) -> Response:
    """Stream a decrypted file as an attachment that no browser renders or sniffs.

    The caller has checked that the user may read it; the reading is audited (and committed).
    """
    name, content_type, chunks = case_files.open_case_file(_me(), case_file)
    db.session.commit()
    return attachment(
        chunks, name=name, fallback=f"file-{case_file.id}", content_type=content_type, size=case_file.size
    )


# --- what an answer holds -------------------------------------------------------------------------


def _case_detail(case: Case) -> Shown:
    """A case with its concerned organisations, findings, actions and closures, for the user."""
    user, today = _me(), _today()
    nearest = deadlines.next_deadline_subquery(today)
    next_due = db.session.scalar(select(nearest.c.next_due).where(nearest.c.case_id == case.id))
    extra: dict[str, Any] = {}
    hidden: list[str] = []
    if reads_whole_case(user, case):
        extra["affiliates"] = {
            "organisations": [a.organisation for a in queries.concerned_affiliates(case.site_id, today)],
            "others": None,
        }
        extra["suppliers"] = [s.organisation for s in queries.concerned_suppliers(case.site_id, today)]
    elif is_affiliate(user):
        org = user.organisation_id
        extra["affiliates"] = {
            "organisations": [a.organisation for a in queries.concerned_affiliates(case.site_id, today, org)],
            "others": queries.other_affiliates(case.site_id, today, org),
        }
        hidden.append("suppliers")
    else:
        hidden += ["affiliates", "suppliers", "closures"]
    findings = db.session.scalars(
        visible_findings(user)
        .where(Finding.case_id == case.id)
        .options(selectinload(Finding.report_links))
        .order_by(Finding.id)
    )
    extra["findings"] = [show_finding(user, f) for f in findings]
    actions = db.session.scalars(
        visible_actions(user).where(CorrectiveAction.case_id == case.id).order_by(CorrectiveAction.id)
    )
    extra["actions"] = [show_action(user, a, today) for a in actions]
    if "closures" not in hidden:
        extra["closures"] = [show_closure(user, c) for c in case.closures]
    extra["transitions"] = [t.name for t in workflow.available(user, case)]
    return show_case(user, case, next_due, today, hidden, **extra)


def _action_detail(action: CorrectiveAction) -> Shown:
    """An action with its plans and evidence; whoever sees an action may read its evidence."""
    user = _me()
    evidence = db.session.scalars(
        select(CaseFile).where(CaseFile.action_id == action.id).order_by(CaseFile.id)
    ).all()
    return show_action(
        user,
        action,
        _today(),
        files=evidence,
        transitions=[t.name for t in workflow.available(user, action)],
    )


# --- standards ------------------------------------------------------------------------------------


@route(
    "/standards",
    summary=_l("The code of labour standards"),
    description=_l(
        "Every standard findings are filed against, with its ILO conventions and the matching "
        "sections of the RBA Code of Conduct; titles in your language."
    ),
    response=StandardSchema(many=True),
)
@roles(*CASE_ROLES)
def list_standards() -> list[Shown]:
    return [show_standard(s) for s in STANDARDS]


# --- findings -------------------------------------------------------------------------------------


@route(
    "/findings",
    summary=_l("List findings"),
    description=_l(
        "Newest first. Monitors see their organisation's findings and those of the cases it works, "
        "coordinators every finding, affiliates those of their cases, suppliers those addressed to them."
    ),
    args=ListFindingsArgs,
    response=FindingSchema,
    paginated=True,
)
@roles(*CASE_ROLES)
def list_findings(args: dict[str, Any]) -> Page:
    user = _me()
    query = visible_findings(user).options(selectinload(Finding.case), selectinload(Finding.report_links))
    if "site_id" in args:
        query = query.where(Finding.site_id == args["site_id"])
    if "category" in args:
        query = query.where(Finding.standard.in_(codes_in_group(args["category"])))
    if "severity" in args:
        query = query.where(Finding.severity == args["severity"])
    if args.get("in_case") is True:
        query = query.where(Finding.case_id.is_not(None))
    elif args.get("in_case") is False:
        query = query.where(Finding.case_id.is_(None))
    page = paginate(
        query, [Finding.created_dt.desc(), Finding.id.desc()], args.get("after"), args.get("limit")
    )
    page.items = [show_finding(user, f) for f in page.items]
    return page


@route(
    "/findings",
    method="POST",
    summary=_l("File a finding"),
    description=_l("For monitors; the supporting worker reports must be your organisation's."),
    args=FileFindingArgs,
    response=FindingSchema,
    status=201,
)
@roles(UserRole.monitor)
def file_finding(args: dict[str, Any]) -> Any:
    user = _me()
    _require(can_file_finding(user))
    data = operations.FindingData(
        site_id=args["site_id"],
        standard=args["standard"],
        severity=args["severity"],
        workers_affected=args.get("workers_affected"),
        evidence_type=args["evidence_type"],
        found_date=args.get("found_date"),
        summary=args["summary"],
        report_ids=args["report_ids"],
    )
    finding = _run(operations.file_finding, user, data)
    return show_finding(user, finding), 201


@route("/findings/<int:finding_id>", summary=_l("A finding"), response=FindingSchema)
@roles(*CASE_ROLES)
def get_finding(finding_id: int) -> Shown:
    return show_finding(_me(), _finding(finding_id))


@route(
    "/findings/<int:finding_id>",
    method="PATCH",
    summary=_l("Change a finding"),
    description=_l("Fields left out keep their value. A finding of a closed case cannot change."),
    args=UpdateFindingArgs,
    response=FindingSchema,
)
@roles(UserRole.monitor)
def update_finding(finding_id: int, args: dict[str, Any]) -> Shown:
    user = _me()
    finding = _finding(finding_id)
    _require(can_edit_finding(user, finding))
    data = operations.FindingData(
        site_id=finding.site_id,
        standard=args.get("standard", finding.standard),
        severity=args.get("severity", finding.severity),
        workers_affected=args.get("workers_affected", finding.workers_affected),
        evidence_type=args.get("evidence_type", finding.evidence_type),
        found_date=args.get("found_date", finding.found_date),
        summary=args.get("summary", finding.summary),
        report_ids=args.get("report_ids", sorted(link.report_id for link in finding.report_links)),
    )
    _run(operations.update_finding, user, finding, data)
    return show_finding(user, finding)


# --- cases ----------------------------------------------------------------------------------------


@route(
    "/cases",
    summary=_l("List cases"),
    description=_l(
        "Newest first. Coordinators see every case, monitors those their organisation works, "
        "affiliates those whose site one of their contracts reaches today, suppliers those "
        "holding a corrective action addressed to them."
    ),
    args=ListCasesArgs,
    response=CaseSchema,
    paginated=True,
)
@roles(*CASE_ROLES)
def list_cases(args: dict[str, Any]) -> Page:
    user, today = _me(), _today()
    nearest = deadlines.next_deadline_subquery(today)
    query = (
        visible_cases(user, today)
        .add_columns(nearest.c.next_due)
        .outerjoin(nearest, nearest.c.case_id == Case.id)
        .options(selectinload(Case.lead_coordinator))
    )
    for name in ("state", "severity", "site_id"):
        if name in args:
            query = query.where(getattr(Case, name) == args[name])
    if "country" in args:
        query = query.where(Case.site_id.in_(select(Site.id).where(Site.country == args["country"].upper())))
    if "category" in args:
        in_group = select(Finding.case_id).where(Finding.standard.in_(codes_in_group(args["category"])))
        query = query.where(Case.id.in_(in_group))
    if args.get("overdue") is True:
        query = query.where(nearest.c.next_due < today)
    elif args.get("overdue") is False:
        query = query.where((nearest.c.next_due.is_(None)) | (nearest.c.next_due >= today))
    page = paginate(query, [Case.opened_dt.desc(), Case.id.desc()], args.get("after"), args.get("limit"))
    page.items = [show_case(user, case, next_due, today) for case, next_due in page.items]
    return page


@route(
    "/cases",
    method="POST",
    summary=_l("Open a case"),
    description=_l(
        "Groups findings at one site that are in no case yet. A monitor opens it for their own "
        "organisation; a coordinator for the organisation that filed the findings."
    ),
    args=OpenCaseArgs,
    response=CaseDetailSchema,
    status=201,
)
@roles(*STAFF)
def open_case(args: dict[str, Any]) -> Any:
    user = _me()
    _require(can_open_case(user))
    case = _run(
        operations.open_case,
        user,
        args["site_id"],
        args["finding_ids"],
        monitor_organisation_id=args.get("monitor_organisation_id"),
        lead_coordinator_id=args.get("lead_coordinator_id"),
    )
    return _case_detail(case), 201


@route(
    "/cases/<int:case_id>",
    summary=_l("A case"),
    description=_l(
        "With the affiliates and suppliers its site concerns today (as far as you may know them), "
        "its findings, corrective actions and closures, and the state changes you may make."
    ),
    response=CaseDetailSchema,
)
@roles(*CASE_ROLES)
def get_case(case_id: int) -> Shown:
    return _case_detail(_case(case_id))


@route(
    "/cases/<int:case_id>/transitions",
    method="POST",
    summary=_l("Move a case to its next state"),
    description=_l(
        "start_dialogue, start_remediation (needs a corrective action), start_verification (every "
        "action reported implemented) or resume_remediation (with a reason)."
    ),
    args=TransitionCaseArgs,
    response=CaseDetailSchema,
)
@roles(*STAFF)
def transition_case(case_id: int, args: dict[str, Any]) -> Shown:
    case = _case(case_id)
    _run(operations.transition_case, _me(), case, args["name"], args.get("reason"))
    return _case_detail(case)


def _closure_data(args: dict[str, Any]) -> operations.ClosureData:
    remedies = [
        operations.RemedyData(
            kind=r["kind"],
            amount=r.get("amount"),
            currency=r.get("currency"),
            workers_covered=r.get("workers_covered"),
            description=r.get("description"),
        )
        for r in args["remedies"]
    ]
    return operations.ClosureData(
        outcome=args["outcome"],
        note=args.get("note"),
        remedies=remedies,
        workers_consulted=args["workers_consulted"],
    )


@route(
    "/cases/<int:case_id>/closure",
    method="POST",
    summary=_l("Close a case"),
    description=_l(
        "For the case's monitors, once every corrective action is closed: the outcome and the "
        "remedy workers got; for priority findings, your confirmation that the affected workers "
        "were consulted."
    ),
    args=CloseCaseArgs,
    response=CaseDetailSchema,
)
@roles(UserRole.monitor)
def close_case(case_id: int, args: dict[str, Any]) -> Shown:
    user = _me()
    case = _case(case_id)
    _require(can_close_case(user, case))
    _run(operations.close_case, user, case, _closure_data(args))
    return _case_detail(case)


@route(
    "/cases/<int:case_id>/reopen",
    method="POST",
    summary=_l("Reopen a closed case"),
    args=ReopenCaseArgs,
    response=CaseDetailSchema,
)
@roles(*STAFF)
def reopen_case(case_id: int, args: dict[str, Any]) -> Shown:
    user = _me()
    case = _case(case_id)
    _require(can_reopen_case(user, case))
    _run(operations.reopen_case, user, case, args["reason"])
    return _case_detail(case)


@route(
    "/cases/<int:case_id>/lead",
    method="PUT",
    summary=_l("Set the lead coordinator of a case"),
    args=SetLeadArgs,
    response=CaseDetailSchema,
)
@roles(UserRole.coordinator)
def set_lead(case_id: int, args: dict[str, Any]) -> Shown:
    user = _me()
    case = _case(case_id)
    _require(can_set_lead(user, case))
    _run(
        operations.set_lead,
        user,
        case,
        args["coordinator_id"],
        rename={"lead_coordinator_id": "coordinator_id"},
    )
    return _case_detail(case)


@route(
    "/cases/<int:case_id>/findings",
    method="POST",
    summary=_l("Add findings to a case"),
    description=_l("Findings at the case's site that are in no case yet."),
    args=AddFindingsArgs,
    response=CaseDetailSchema,
)
@roles(*STAFF)
def add_findings(case_id: int, args: dict[str, Any]) -> Shown:
    user = _me()
    case = _case(case_id)
    _require(can_add_findings(user, case))
    _run(operations.add_findings, user, case, args["finding_ids"])
    return _case_detail(case)


@route(
    "/cases/<int:case_id>/timeline",
    summary=_l("A case's timeline"),
    description=_l("Oldest first: the messages and events you may read, and the deadlines ahead."),
    response=TimelineItemSchema(many=True),
)
@roles(*CASE_ROLES)
def get_timeline(case_id: int) -> list[Any]:
    case = _case(case_id)
    return [show_timeline_item(item) for item in timeline(_me(), case, _today())]


# --- dialogue -------------------------------------------------------------------------------------


@route(
    "/cases/<int:case_id>/messages",
    summary=_l("A case's messages"),
    description=_l("Newest first; the messages you may read."),
    args=ListMessagesArgs,
    response=MessageSchema,
    paginated=True,
)
@roles(*CASE_ROLES)
def list_messages(case_id: int, args: dict[str, Any]) -> Page:
    case = _case(case_id)
    query = visible_messages(_me(), case).options(selectinload(CaseMessage.supplier))
    order = [CaseMessage.created_dt.desc(), CaseMessage.id.desc()]
    return paginate(query, order, args.get("after"), args.get("limit"))


def _post_message(case_id: int, *, multipart_only: bool) -> Any:
    user = _me()
    case = _case(case_id)
    _require(bool(message_visibilities(user, case)))
    args, uploaded = _form_input(PostMessageArgs, PostMessageWithFilesArgs, multipart_only=multipart_only)
    message = _run(
        operations.post_message,
        user,
        case,
        args["visibility"],
        args["body"],
        supplier_id=args.get("supplier_id"),
        files=uploaded,
    )
    return message, 201


@route(
    "/cases/<int:case_id>/messages",
    method="POST",
    summary=_l("Post a message"),
    description=_l(
        "A JSON body; or multipart/form-data with the same fields and files in parts named "
        "`files` (see /messages/with-files). Suppliers post `parties` messages to their own "
        "organisation; affiliates `buyers` or `parties`."
    ),
    args=PostMessageArgs,
    response=MessageSchema,
    status=201,
    raw_body=True,
)
@roles(*CASE_ROLES)
def post_message(case_id: int) -> Any:
    return _post_message(case_id, multipart_only=False)


@route(
    "/cases/<int:case_id>/messages/with-files",
    method="POST",
    summary=_l("Post a message with files"),
    description=_l(
        "multipart/form-data: the message's fields and its files in parts named `files`. Files "
        "are encrypted; their type is recognised from the content."
    ),
    args=PostMessageWithFilesArgs,
    response=MessageSchema,
    status=201,
    raw_body=True,
)
@roles(*CASE_ROLES)
def post_message_with_files(case_id: int) -> Any:
    return _post_message(case_id, multipart_only=True)


@route(
    "/cases/<int:case_id>/files/<int:file_id>",
    summary=_l("Download a file of a case"),
    description=_l("Sent as an attachment, decrypted; files of messages you may not read answer 404."),
)
@roles(*CASE_ROLES)
def download_case_file(case_id: int, file_id: int) -> Response:
    case = _case(case_id)
    case_file = db.session.scalar(select(CaseFile).where(CaseFile.id == file_id, CaseFile.case_id == case.id))
    if case_file is None or not can_read_file(_me(), case_file):
        abort(404)
    return _download(case_file)


# --- corrective actions ---------------------------------------------------------------------------


@route(
    "/actions",
    summary=_l("List corrective actions"),
    description=_l(
        "Newest first. Suppliers see the requests addressed to their organisation, with what is "
        "due next and when; the others the actions of the cases they see."
    ),
    args=ListActionsArgs,
    response=ActionSummarySchema,
    paginated=True,
)
@roles(*CASE_ROLES)
def list_actions(args: dict[str, Any]) -> Page:
    user, today = _me(), _today()
    query = visible_actions(user).options(
        selectinload(CorrectiveAction.case),
        selectinload(CorrectiveAction.finding).selectinload(Finding.report_links),
    )
    for name in ("state", "case_id"):
        if name in args:
            query = query.where(getattr(CorrectiveAction, name) == args[name])
    if args.get("overdue") is True:
        query = query.where(deadlines.overdue_clause(today))
    elif args.get("overdue") is False:
        due = deadlines.due_date_column()
        query = query.where(or_(due.is_(None), due >= today))
    page = paginate(
        query,
        [CorrectiveAction.requested_dt.desc(), CorrectiveAction.id.desc()],
        args.get("after"),
        args.get("limit"),
    )
    page.items = [show_action(user, a, today) for a in page.items]
    return page


@route(
    "/cases/<int:case_id>/actions",
    method="POST",
    summary=_l("Request a corrective action"),
    description=_l(
        "From a supplier the case's site concerns, about one of its findings. Deadlines left out "
        "follow from the finding's severity."
    ),
    args=RequestActionArgs,
    response=ActionSchema,
    status=201,
)
@roles(UserRole.coordinator)
def request_action(case_id: int, args: dict[str, Any]) -> Any:
    user = _me()
    case = _case(case_id)
    _require(can_request_action(user, case))
    data = operations.RequestData(
        finding_id=args["finding_id"],
        supplier_id=args["supplier_id"],
        request=args["request"],
        plan_due_date=args.get("plan_due_date"),
        closure_due_date=args.get("closure_due_date"),
    )
    action = _run(operations.request_action, user, case, data)
    return _action_detail(action), 201


@route(
    "/actions/<int:action_id>",
    summary=_l("A corrective action"),
    description=_l("With the plans, the implementation and its evidence, and the verification."),
    response=ActionSchema,
)
@roles(*CASE_ROLES)
def get_action(action_id: int) -> Shown:
    return _action_detail(_action(action_id))


@route(
    "/actions/<int:action_id>/plan",
    method="POST",
    summary=_l("Submit a corrective-action plan"),
    description=_l("For the supplier addressed; again after a rejection."),
    args=SubmitPlanArgs,
    response=ActionSchema,
    status=201,
)
@roles(UserRole.supplier)
def submit_plan(action_id: int, args: dict[str, Any]) -> Any:
    action = _action(action_id)
    data = operations.PlanData(
        root_cause=args["root_cause"],
        corrective=args["corrective"],
        preventive=args["preventive"],
        target_date=args["target_date"],
    )
    _run(operations.submit_plan, _me(), action, data)
    return _action_detail(action), 201


@route(
    "/actions/<int:action_id>/decision",
    method="POST",
    summary=_l("Accept or reject a plan"),
    description=_l("A rejection needs a reason; the supplier then submits a new plan."),
    args=DecideOnPlanArgs,
    response=ActionSchema,
)
@roles(*STAFF)
def decide_on_plan(action_id: int, args: dict[str, Any]) -> Shown:
    action = _action(action_id)
    if args["accept"]:
        _run(operations.accept_plan, _me(), action)
    else:
        _run(operations.reject_plan, _me(), action, args["reason"])
    return _action_detail(action)


@route(
    "/actions/<int:action_id>/implementation",
    method="POST",
    summary=_l("Report a corrective action implemented"),
    description=_l(
        "For the supplier addressed: multipart/form-data with a description and evidence files "
        "in parts named `files` (a JSON body with the description alone is accepted too)."
    ),
    args=ReportImplementationWithFilesArgs,
    response=ActionSchema,
    raw_body=True,
)
@roles(UserRole.supplier)
def report_implemented(action_id: int) -> Shown:
    action = _action(action_id)
    args, uploaded = _form_input(ReportImplementationArgs, ReportImplementationWithFilesArgs)
    _run(operations.report_implemented, _me(), action, args["description"], uploaded)
    return _action_detail(action)


@route(
    "/actions/<int:action_id>/verification",
    method="POST",
    summary=_l("Verify a corrective action"),
    description=_l("For the case's monitors; not verified needs a note saying why."),
    args=VerifyActionArgs,
    response=ActionSchema,
)
@roles(UserRole.monitor)
def verify_action(action_id: int, args: dict[str, Any]) -> Shown:
    action = _action(action_id)
    _run(operations.verify_action, _me(), action, args["verified"], args.get("note"))
    return _action_detail(action)


@route(
    "/actions/<int:action_id>/close",
    method="POST",
    summary=_l("Close a corrective action"),
    description=_l("Once verified or not verified."),
    response=ActionSchema,
)
@roles(*STAFF)
def close_action(action_id: int) -> Shown:
    action = _action(action_id)
    _run(operations.close_action, _me(), action)
    return _action_detail(action)


@route(
    "/actions/<int:action_id>/deadlines",
    method="PUT",
    summary=_l("Change the deadlines of a corrective action"),
    description=_l("Within the bounds set for the finding's severity; with a reason."),
    args=ChangeDeadlinesArgs,
    response=ActionSchema,
)
@roles(UserRole.coordinator)
def change_deadlines(action_id: int, args: dict[str, Any]) -> Shown:
    user = _me()
    action = _action(action_id)
    _require(can_change_deadlines(user, action))
    _run(
        operations.change_deadlines,
        user,
        action,
        args["plan_due_date"],
        args["closure_due_date"],
        args["reason"],
    )
    return _action_detail(action)


@route(
    "/actions/<int:action_id>/files/<int:file_id>",
    summary=_l("Download an evidence file of a corrective action"),
    description=_l("Sent as an attachment, decrypted."),
)
@roles(*CASE_ROLES)
def download_action_file(action_id: int, file_id: int) -> Response:
    action = _action(action_id)
    case_file = db.session.scalar(
        select(CaseFile).where(CaseFile.id == file_id, CaseFile.action_id == action.id)
    )
    if case_file is None or not can_read_file(_me(), case_file):
        abort(404)
    return _download(case_file)
