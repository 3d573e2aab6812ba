"""Administration API (admins only): organisations, users and the audit log."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort
from flask_babel import lazy_gettext as _l

from monitoring.accounts import operations
from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.accounts.permissions import can_manage_accounts, can_view_audit_log, can_view_coverage_health
from monitoring.accounts.schemas import (
    CreateOrganisationArgs,
    CreateUserArgs,
    ListOrganisationsArgs,
    ListUsersArgs,
    OrganisationSchema,
    UserSchema,
    UserWithPasswordSchema,
)
from monitoring.accounts.services import load_managed_organisation, load_managed_user
from monitoring.admin import services
from monitoring.admin.schemas import AuditEntrySchema, ListAuditArgs
from monitoring.core.api import operation_error, paginate, route
from monitoring.core.auth import current_member, roles
from monitoring.core.operations import OperationError
from monitoring.core.pagination import Page
from monitoring.testimony.keyless import KeylessRoute
from monitoring.testimony.schemas import KeylessRouteSchema

logger = logging.getLogger(__name__)


def _actor() -> User:
    user: User = current_member()
    if not can_manage_accounts(user):
        abort(404)
    return user


# --- organisations ------------------------------------------------------------------------------


@route(
    "/organisations",
    summary=_l("List organisations"),
    args=ListOrganisationsArgs,
    response=OrganisationSchema,
    paginated=True,
)
@roles(UserRole.admin)
def list_organisations(args: dict[str, Any]) -> Page:
    query = services.organisation_list(_actor(), args)
    return paginate(query, services.ORGANISATION_ORDER, args.get("after"), args.get("limit"))


@route(
    "/organisations",
    method="POST",
    summary=_l("Create an organisation"),
    args=CreateOrganisationArgs,
    response=OrganisationSchema,
    status=201,
)
@roles(UserRole.admin)
def create_organisation(args: dict[str, Any]) -> Organisation:
    return operations.create_organisation(_actor(), args["name"], args["kind"], args.get("country"))


@route("/organisations/<int:organisation_id>", summary=_l("An organisation"), response=OrganisationSchema)
@roles(UserRole.admin)
def get_organisation(organisation_id: int) -> Organisation:
    return load_managed_organisation(_actor(), organisation_id)


def _set_organisation_active(organisation_id: int, active: bool) -> Organisation:
    actor = _actor()
    org = load_managed_organisation(actor, organisation_id)
    operations.set_organisation_active(actor, org, active)
    return org


@route(
    "/organisations/<int:organisation_id>/deactivate",
    method="POST",
    summary=_l("Deactivate an organisation"),
    description=_l("Its users can no longer log in or use the API; their sessions end."),
    response=OrganisationSchema,
)
@roles(UserRole.admin)
def deactivate_organisation(organisation_id: int) -> Organisation:
    return _set_organisation_active(organisation_id, False)


@route(
    "/organisations/<int:organisation_id>/activate",
    method="POST",
    summary=_l("Reactivate an organisation"),
    response=OrganisationSchema,
)
@roles(UserRole.admin)
def activate_organisation(organisation_id: int) -> Organisation:
    return _set_organisation_active(organisation_id, True)


# --- users --------------------------------------------------------------------------------------


@route("/users", summary=_l("List users"), args=ListUsersArgs, response=UserSchema, paginated=True)
@roles(UserRole.admin)
def list_users(args: dict[str, Any]) -> Page:
    return paginate(
        services.user_list(_actor(), args), services.USER_ORDER, args.get("after"), args.get("limit")
    )


@route(
    "/users",
    method="POST",
    summary=_l("Create a user"),
    description=_l(
        "Without a password, a temporary one is generated and returned once. "
        "The user must change it at first login."
    ),
    args=CreateUserArgs,
    response=UserWithPasswordSchema,
    status=201,
)
@roles(UserRole.admin)
def create_user(args: dict[str, Any]) -> dict[str, Any]:
    try:
        user, temporary = services.create_user(_actor(), args)
    except OperationError as exc:
        raise operation_error(exc, rename={"organisation": "organisation_id"}) from exc
    return {"user": user, "temporary_password": temporary}


@route("/users/<int:user_id>", summary=_l("A user"), response=UserSchema)
@roles(UserRole.admin)
def get_user(user_id: int) -> User:
    return load_managed_user(_actor(), user_id)


def _set_user_active(user_id: int, active: bool) -> User:
    actor = _actor()
    user = load_managed_user(actor, user_id)
    operations.set_user_active(actor, user, active)
    return user


@route(
    "/users/<int:user_id>/deactivate",
    method="POST",
    summary=_l("Deactivate a user"),
    description=_l("The user's sessions end and API tokens are revoked."),
    response=UserSchema,
)
@roles(UserRole.admin)
def deactivate_user(user_id: int) -> User:
    return _set_user_active(user_id, False)


@route("/users/<int:user_id>/activate", method="POST", summary=_l("Reactivate a user"), response=UserSchema)
@roles(UserRole.admin)
def activate_user(user_id: int) -> User:
    return _set_user_active(user_id, True)


@route(
    "/users/<int:user_id>/reset-password",
    method="POST",
    summary=_l("Reset a user's password"),
    description=_l(
        "A temporary password is generated and returned once; the user's sessions end "
        "and they must change it at next login."
    ),
    response=UserWithPasswordSchema,
)
@roles(UserRole.admin)
def reset_password(user_id: int) -> dict[str, Any]:
    actor = _actor()
    user = load_managed_user(actor, user_id)
    return {"user": user, "temporary_password": operations.reset_password(actor, user)}


# --- audit log ----------------------------------------------------------------------------------


@route(
    "/audit",
    summary=_l("The audit log, newest first"),
    args=ListAuditArgs,
    response=AuditEntrySchema,
    paginated=True,
)
@roles(UserRole.admin)
def list_audit(args: dict[str, Any]) -> Page:
    if not can_view_audit_log(current_member()):
        abort(404)
    return paginate(services.audit_list(args), services.AUDIT_ORDER, args.get("after"), args.get("limit"))


# --- health: routes that cannot receive reports ---------------------------------------------


@route(
    "/coverage-health",
    summary=_l("Countries whose worker reports cannot be received"),
    description=_l(
        "Every route (a country, or the route of every other country) whose monitoring organisation "
        "has no usable key or is deactivated: workers there are told that reports cannot be received "
        "yet. For administrators and coordinators."
    ),
    response=KeylessRouteSchema(many=True),
)
@roles(UserRole.admin, UserRole.coordinator)
def coverage_health() -> list[KeylessRoute]:
    if not can_view_coverage_health(current_member()):
        abort(404)
    return services.coverage_health()
