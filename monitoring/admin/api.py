"""Administration API (admins only): organisations, users and the audit log."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from monitoring.accounts import operations
from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.accounts.permissions import (
    can_manage_accounts,
    can_view_audit_log,
    visible_organisations,
    visible_users,
)
from monitoring.accounts.schemas import (
    CreateOrganisationArgs,
    CreateUserArgs,
    ListOrganisationsArgs,
    ListUsersArgs,
    OrganisationSchema,
    UserSchema,
    UserWithPasswordSchema,
)
from monitoring.admin.schemas import AuditEntrySchema, ListAuditArgs
from monitoring.core.api import operation_error, paginate, route
from monitoring.core.audit import AuditEntry
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.errors import ApiError
from monitoring.core.operations import OperationError
from monitoring.core.pagination import Page

logger = logging.getLogger(__name__)


def _actor() -> User:
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    if not can_manage_accounts(user):
        abort(404)
    return user


def _load_organisation(actor: User, organisation_id: int) -> Organisation:
    org = db.session.scalar(visible_organisations(actor).where(Organisation.id == organisation_id))
    if org is None:
        abort(404)
    return org


def _load_user(actor: User, user_id: int) -> User:
    user = db.session.scalar(visible_users(actor).where(User.id == user_id))
    if user is None:
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
    query = visible_organisations(_actor())
    if "kind" in args:
        query = query.where(Organisation.kind == args["kind"])
    if "is_active" in args:
        query = query.where(Organisation.is_active.is_(args["is_active"]))
    return paginate(query, [Organisation.name, Organisation.id], args.get("after"), args.get("limit"))


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
    org = operations.create_organisation(_actor(), args["name"], args["kind"], args.get("country"))
    db.session.commit()
    return org


@route("/organisations/<int:organisation_id>", summary=_l("An organisation"), response=OrganisationSchema)
@roles(UserRole.admin)
def get_organisation(organisation_id: int) -> Organisation:
    return _load_organisation(_actor(), organisation_id)


def _set_organisation_active(organisation_id: int, active: bool) -> Organisation:
    actor = _actor()
    org = _load_organisation(actor, organisation_id)
    operations.set_organisation_active(actor, org, active)
    db.session.commit()
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
    query = visible_users(_actor())
    if "organisation_id" in args:
        query = query.where(User.organisation_id == args["organisation_id"])
    if "role" in args:
        query = query.where(User.role == args["role"])
    if "is_active" in args:
        query = query.where(User.is_active.is_(args["is_active"]))
    return paginate(query, [User.email, User.id], args.get("after"), args.get("limit"))


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
    actor = _actor()
    org = db.session.scalar(visible_organisations(actor).where(Organisation.id == args["organisation_id"]))
    if org is None:
        message = _("There is no such organisation.")
        raise ApiError(422, message, {"organisation_id": [message]})
    temporary = None if "password" in args else operations.temporary_password()
    try:
        user = operations.create_user(
            actor,
            email=args["email"],
            name=args["name"],
            role=args["role"],
            organisation=org,
            password=args.get("password") or temporary or "",
            locale=args.get("locale"),
            must_change_password=True,
        )
    except OperationError as exc:
        raise operation_error(exc, rename={"organisation": "organisation_id"}) from exc
    db.session.commit()
    return {"user": user, "temporary_password": temporary}


@route("/users/<int:user_id>", summary=_l("A user"), response=UserSchema)
@roles(UserRole.admin)
def get_user(user_id: int) -> User:
    return _load_user(_actor(), user_id)


def _set_user_active(user_id: int, active: bool) -> User:
    actor = _actor()
    user = _load_user(actor, user_id)
    operations.set_user_active(actor, user, active)
    db.session.commit()
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
    user = _load_user(actor, user_id)
    temporary = operations.reset_password(actor, user)
    db.session.commit()
    return {"user": user, "temporary_password": temporary}


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
    actor: User = current_user._get_current_object()  # type: ignore[attr-defined]
    if not can_view_audit_log(actor):
        abort(404)
    query = select(AuditEntry)
    for name in ("action", "actor_id", "object_type", "object_id"):
        if name in args:
            query = query.where(getattr(AuditEntry, name) == args[name])
    if "since" in args:
        query = query.where(AuditEntry.created_dt >= args["since"])
    if "until" in args:
        query = query.where(AuditEntry.created_dt <= args["until"])
    return paginate(
        query, [AuditEntry.created_dt.desc(), AuditEntry.id.desc()], args.get("after"), args.get("limit")
    )
