"""JSON API of findings, cases, the dialogue and the code of labour standards.

Administrators get 404 on every route here, as does everyone for an object they may not see
(see :mod:`monitoring.cases.permissions`). Every answer is shaped for the user asking by
:mod:`monitoring.cases.services_shown`, as the pages are: suppliers never get a finding's
summary, only monitors of the finding's organisation get the links to worker reports, and
affiliates and suppliers see counts of workers below 5 as suppressed. Corrective actions are
in :mod:`monitoring.cases.action_api`.

Routes that take files (a message with attachments, an implementation with evidence) read a
``multipart/form-data`` body whose size is checked before it is read; their files are parts
named ``files``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from monitoring.accounts.models import User, UserRole
from monitoring.cases import files, operations, permissions, services
from monitoring.cases import services_lists as lists
from monitoring.cases import services_shown as views
from monitoring.cases.models import CaseMessage
from monitoring.cases.output_schemas import (
    CaseDetailSchema,
    CaseSchema,
    FindingSchema,
    MessageSchema,
    StandardSchema,
    TimelineItemSchema,
    case_list_items,
)
from monitoring.cases.schemas import (
    MULTIPART,
    AddFindingsArgs,
    CloseCaseArgs,
    FileFindingArgs,
    ListCasesArgs,
    ListFindingsArgs,
    ListMessagesArgs,
    OpenCaseArgs,
    PostMessageArgs,
    PostMessageWithFilesArgs,
    ReopenCaseArgs,
    SetLeadArgs,
    TransitionCaseArgs,
    UpdateFindingArgs,
)
from monitoring.cases.standards import STANDARDS
from monitoring.cases.timeline import timeline
from monitoring.core import uploads
from monitoring.core.api import Dumped, cursor_refused, operation_error, paginate, parse_args, route
from monitoring.core.auth import roles
from monitoring.core.errors import ApiError
from monitoring.core.operations import OperationError
from monitoring.core.pagination import InvalidCursor, Page

logger = logging.getLogger(__name__)

CASE_ROLES = permissions.CASE_ROLES
STAFF = (UserRole.coordinator, UserRole.monitor)


def me() -> User:
    user: User = current_user._get_current_object()
    return user


def page_of(listing: lists.Listing, args: dict[str, Any]) -> Page:
    return paginate(listing.query, listing.order, args.get("after"), args.get("limit"))


def form_input(
    json_schema: type[Schema], multipart_schema: type[Schema], *, multipart_only: bool = False
) -> tuple[dict[str, Any], list[files.Upload]]:
    """Read a JSON body, or a ``multipart/form-data`` one with files whose size is checked first."""
    if request.mimetype != MULTIPART:
        if multipart_only:
            message = _("Send the files as multipart/form-data, each in a part named “files”.")
            raise ApiError(400, message, {"files": [message]})
        return parse_args(json_schema), []
    if not uploads.accept_body(files.request_body_limit()):
        raise ApiError(413, files.too_large_message())
    raw: dict[str, Any] = request.form.to_dict(flat=True)
    for name in request.files:
        if name != "files":
            raw[name] = request.files[name]  # refused as an unknown field
    parts = [f for f in request.files.getlist("files") if isinstance(f, FileStorage) and f.filename]
    if parts:
        raw["files"] = parts
    args = parse_args(multipart_schema, raw)
    return args, [files.Upload.from_storage(part) for part in args.pop("files", [])]


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
def list_standards() -> list[views.Shown]:
    return [views.show_standard(s) for s in STANDARDS]


# --- findings -------------------------------------------------------------------------------------


@route(
    "/findings",
    summary=_l("List findings"),
    description=_l(
        "Newest first. Monitors see their organisation's findings, coordinators every finding, "
        "affiliates those of their cases, suppliers those addressed to them."
    ),
    args=ListFindingsArgs,
    response=FindingSchema,
    paginated=True,
)
@roles(*CASE_ROLES)
def list_findings(args: dict[str, Any]) -> Page:
    user = me()
    page = page_of(lists.list_findings(user, args), args)
    page.items = [views.show_finding(user, f) for f in page.items]
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
    services.require(permissions.can_file_finding(me()))
    return views.show_finding(me(), operations.file_finding(me(), services.finding_data(args))), 201


@route("/findings/<int:finding_id>", summary=_l("A finding"), response=FindingSchema)
@roles(*CASE_ROLES)
def get_finding(finding_id: int) -> views.Shown:
    return views.show_finding(me(), services.load_finding(me(), finding_id))


@route(
    "/findings/<int:finding_id>",
    method="PATCH",
    summary=_l("Change a finding"),
    description=_l("Fields left out keep their value. A finding of a closed case cannot change."),
    args=UpdateFindingArgs,
    response=FindingSchema,
)
@roles(UserRole.monitor)
def update_finding(finding_id: int, args: dict[str, Any]) -> views.Shown:
    finding = services.load_finding(me(), finding_id)
    services.require(permissions.can_edit_finding(me(), finding))
    operations.update_finding(me(), finding, services.finding_data(args, finding))
    return views.show_finding(me(), finding)


# --- cases ----------------------------------------------------------------------------------------


def case_detail(case_id: int) -> views.Shown:
    return views.case_detail(me(), services.load_case(me(), case_id), services.today())


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
    today, user = services.today(), me()
    try:
        page = lists.case_brief_page(user, args, today)
    except InvalidCursor as exc:
        raise cursor_refused(exc) from exc
    page.items = Dumped(case_list_items(page.items, today, people=permissions.sees_people(user)))
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
    services.require(permissions.can_open_case(me()))
    case = services.open_case(me(), args)
    return views.case_detail(me(), case, services.today()), 201


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
def get_case(case_id: int) -> views.Shown:
    return case_detail(case_id)


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
def transition_case(case_id: int, args: dict[str, Any]) -> views.Shown:
    operations.transition_case(me(), services.load_case(me(), case_id), args["name"], args.get("reason"))
    return case_detail(case_id)


@route(
    "/cases/<int:case_id>/closure",
    method="POST",
    summary=_l("Close a case"),
    description=_l(
        "For the case's monitors, once every corrective action is closed: the outcome and the "
        "remedy workers got; for priority findings, your confirmation that the affected workers "
        "were consulted. A priority case closes as resolved only when workers answered a validation "
        "question, or with no_validation_reason: why they could not be asked."
    ),
    args=CloseCaseArgs,
    response=CaseDetailSchema,
)
@roles(UserRole.monitor)
def close_case(case_id: int, args: dict[str, Any]) -> views.Shown:
    case = services.load_case(me(), case_id)
    services.require(permissions.can_close_case(me(), case))
    operations.close_case(me(), case, services.closure_data(args))
    return case_detail(case_id)


@route(
    "/cases/<int:case_id>/reopen",
    method="POST",
    summary=_l("Reopen a closed case"),
    args=ReopenCaseArgs,
    response=CaseDetailSchema,
)
@roles(*STAFF)
def reopen_case(case_id: int, args: dict[str, Any]) -> views.Shown:
    case = services.load_case(me(), case_id)
    services.require(permissions.can_reopen_case(me(), case))
    operations.reopen_case(me(), case, args["reason"])
    return case_detail(case_id)


@route(
    "/cases/<int:case_id>/lead",
    method="PUT",
    summary=_l("Set the lead coordinator of a case"),
    args=SetLeadArgs,
    response=CaseDetailSchema,
)
@roles(UserRole.coordinator)
def set_lead(case_id: int, args: dict[str, Any]) -> views.Shown:
    case = services.load_case(me(), case_id)
    services.require(permissions.can_set_lead(me(), case))
    try:
        operations.set_lead(me(), case, args["coordinator_id"])
    except OperationError as exc:
        raise operation_error(exc, {"lead_coordinator_id": "coordinator_id"}) from exc
    return case_detail(case_id)


@route(
    "/cases/<int:case_id>/findings",
    method="POST",
    summary=_l("Add findings to a case"),
    description=_l("Findings at the case's site that are in no case yet."),
    args=AddFindingsArgs,
    response=CaseDetailSchema,
)
@roles(*STAFF)
def add_findings(case_id: int, args: dict[str, Any]) -> views.Shown:
    case = services.load_case(me(), case_id)
    services.require(permissions.can_add_findings(me(), case))
    operations.add_findings(me(), case, args["finding_ids"])
    return case_detail(case_id)


@route(
    "/cases/<int:case_id>/timeline",
    summary=_l("A case's timeline"),
    description=_l("Oldest first: the messages and events you may read, and the deadlines ahead."),
    response=TimelineItemSchema(many=True),
)
@roles(*CASE_ROLES)
def get_timeline(case_id: int) -> list[views.Shown]:
    items = timeline(me(), services.load_case(me(), case_id), services.today())
    return [views.show_timeline_item(item) for item in items]


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
    case = services.load_case(me(), case_id)
    query = permissions.visible_messages(me(), case).options(selectinload(CaseMessage.supplier))
    return paginate(
        query, [CaseMessage.created_dt.desc(), CaseMessage.id.desc()], args.get("after"), args.get("limit")
    )


def _post_message(case_id: int, *, multipart_only: bool) -> Any:
    case = services.load_case(me(), case_id)
    services.require(bool(permissions.message_visibilities(me(), case)))
    args, uploaded = form_input(PostMessageArgs, PostMessageWithFilesArgs, multipart_only=multipart_only)
    return services.post_message(me(), case, args, uploaded), 201


@route(
    "/cases/<int:case_id>/messages",
    method="POST",
    summary=_l("Post a message"),
    description=_l(
        "A JSON body; or multipart/form-data with the same fields and files in parts named "
        "`files` (see /messages/with-files). Suppliers post `parties` messages to their own "
        "organisation; affiliates `buyers` or `parties`. A `parties` message may leave out "
        "`supplier_id` when the case has one supplier."
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
    return services.download(me(), file_id, case=services.load_case(me(), case_id))


from monitoring.cases import action_api, outcome_api  # noqa: E402,F401  (their routes join the API's)
