"""JSON API of corrective actions: the request, the plans, the evidence and the verification.

Shaped for the user asking by :mod:`monitoring.cases.services_shown`, like the action pages.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import lazy_gettext as _l

from monitoring.cases import operations, permissions, services
from monitoring.cases import services_lists as lists
from monitoring.cases import services_shown as views
from monitoring.cases.api import CASE_ROLES, STAFF, form_input, me, page_of
from monitoring.cases.models import CorrectiveAction
from monitoring.cases.output_schemas import (
    ActionSchema,
    ActionSummarySchema,
)
from monitoring.cases.schemas import (
    ChangeDeadlinesArgs,
    DecideOnPlanArgs,
    ListActionsArgs,
    ReportImplementationArgs,
    ReportImplementationWithFilesArgs,
    RequestActionArgs,
    SubmitPlanArgs,
    VerifyActionArgs,
)
from monitoring.core.api import route
from monitoring.core.auth import roles
from monitoring.core.pagination import Page
from monitoring.core.roles import UserRole


def detail(action: CorrectiveAction) -> views.Shown:
    return views.action_detail(me(), action, services.today())


@route(
    "/actions",
    summary=_l("List corrective actions"),
    description=_l(
        "Newest first. Suppliers see the requests addressed to their organisation, with what is "
        "due next and when; the others the actions of the cases they see. With "
        "awaiting_decision=true: the plans waiting for your decision, oldest first."
    ),
    args=ListActionsArgs,
    response=ActionSummarySchema,
    paginated=True,
)
@roles(*CASE_ROLES)
def list_actions(args: dict[str, Any]) -> Page:
    today = services.today()
    page = page_of(lists.list_actions(me(), args, today), args)
    page.items = [views.show_action(me(), a, today) for a in page.items]
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
    case = services.load_case(me(), case_id)
    services.require(permissions.can_request_action(me(), case))
    return detail(operations.request_action(me(), case, services.request_data(args))), 201


@route(
    "/actions/<int:action_id>",
    summary=_l("A corrective action"),
    description=_l("With the plans, the implementation and its evidence, and the verification."),
    response=ActionSchema,
)
@roles(*CASE_ROLES)
def get_action(action_id: int) -> views.Shown:
    return detail(services.load_action(me(), action_id))


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
    action = services.load_action(me(), action_id)
    operations.submit_plan(me(), action, services.plan_data(args))
    return detail(action), 201


@route(
    "/actions/<int:action_id>/decision",
    method="POST",
    summary=_l("Accept or reject a plan"),
    description=_l("A rejection needs a reason; the supplier then submits a new plan."),
    args=DecideOnPlanArgs,
    response=ActionSchema,
)
@roles(*STAFF)
def decide_on_plan(action_id: int, args: dict[str, Any]) -> views.Shown:
    action = services.load_action(me(), action_id)
    services.decide_on_plan(me(), action, args)
    return detail(action)


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
def report_implemented(action_id: int) -> views.Shown:
    action = services.load_action(me(), action_id)
    args, uploaded = form_input(ReportImplementationArgs, ReportImplementationWithFilesArgs)
    operations.report_implemented(me(), action, args["description"], uploaded)
    return detail(action)


@route(
    "/actions/<int:action_id>/verification",
    method="POST",
    summary=_l("Verify a corrective action"),
    description=_l("For the case's monitors; not verified needs a note saying why."),
    args=VerifyActionArgs,
    response=ActionSchema,
)
@roles(UserRole.monitor)
def verify_action(action_id: int, args: dict[str, Any]) -> views.Shown:
    action = services.load_action(me(), action_id)
    operations.verify_action(me(), action, args["verified"], args.get("note"))
    return detail(action)


@route(
    "/actions/<int:action_id>/close",
    method="POST",
    summary=_l("Close a corrective action"),
    description=_l("Once verified or not verified."),
    response=ActionSchema,
)
@roles(*STAFF)
def close_action(action_id: int) -> views.Shown:
    action = services.load_action(me(), action_id)
    operations.close_action(me(), action)
    return detail(action)


@route(
    "/actions/<int:action_id>/deadlines",
    method="PUT",
    summary=_l("Change the deadlines of a corrective action"),
    description=_l("Within the bounds set for the finding's severity; with a reason."),
    args=ChangeDeadlinesArgs,
    response=ActionSchema,
)
@roles(UserRole.coordinator)
def change_deadlines(action_id: int, args: dict[str, Any]) -> views.Shown:
    action = services.load_action(me(), action_id)
    services.require(permissions.can_change_deadlines(me(), action))
    services.change_deadlines(me(), action, args)
    return detail(action)


@route(
    "/actions/<int:action_id>/files/<int:file_id>",
    summary=_l("Download an evidence file of a corrective action"),
    description=_l("Sent as an attachment, decrypted."),
)
@roles(*CASE_ROLES)
def download_action_file(action_id: int, file_id: int) -> Response:
    return services.download(me(), file_id, action=services.load_action(me(), action_id))
