"""API of two-factor sign-in: one's own status, and an administrator's view of it.

The API itself asks for no codes: it authenticates with bearer tokens, and a token can only be
made from a session that passed the second factor (or by an operator with ``flask users
token create``), so a token stands for both factors. A token cannot change them: setting up
and resetting two-factor sign-in are declared ``password_confirmed`` and answer 403 here, so a
stolen token cannot switch on a second factor of the thief's for an account that has none,
nor remove one. They are done on the web pages, in a session where the password was just typed.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import fields, validate

from monitoring.accounts import two_factor
from monitoring.accounts.models import User, UserRole
from monitoring.accounts.permissions import can_manage_accounts, visible_users
from monitoring.core.api import route
from monitoring.core.auth import authenticated, roles
from monitoring.core.db import db
from monitoring.core.errors import ApiError
from monitoring.core.schemas import BaseSchema

TOKENS_NOTE = _l(
    "The API asks for no two-factor codes: a bearer token can only be made from a session that "
    "passed two-factor sign-in, so it stands for both factors."
)
WEB_ONLY_NOTE = _l(
    "Always refused with a 403 when called with an API token: two-factor sign-in is set up and "
    "reset only on the web pages, in a session where the password was just typed, so that a "
    "stolen token cannot change how its owner signs in."
)

# --- schemas ------------------------------------------------------------------------------------


class TwoFactorStatusSchema(BaseSchema):
    """Whether a user's two-factor sign-in is on and needed."""

    user_id = fields.Integer(dump_only=True)
    enabled = fields.Boolean(dump_only=True)
    enabled_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    enrolment_pending = fields.Boolean(
        dump_only=True, metadata={"description": _l("A key was made but not yet confirmed with a code.")}
    )
    required = fields.Boolean(
        dump_only=True, metadata={"description": _l("Whether every login must give a code.")}
    )
    demo_relaxed = fields.Boolean(
        dump_only=True,
        metadata={"description": _l("A demo account for which the demo switched two-factor sign-in off.")},
    )


class TwoFactorEnrolmentSchema(BaseSchema):
    """A new key for an authenticator app, to be confirmed with its first code."""

    secret = fields.String(
        dump_only=True,
        metadata={"description": _l("The key in base32, for typing into an authenticator app.")},
    )
    otpauth_uri = fields.String(
        dump_only=True, metadata={"description": _l("The otpauth:// address, usually shown as a QR code.")}
    )
    status = fields.Nested(TwoFactorStatusSchema, dump_only=True)


class ConfirmTwoFactorArgs(BaseSchema):
    code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=20, error=_l("Give between 1 and 20 characters.")),
        metadata={"description": _l("The six-digit code the authenticator app shows now.")},
    )


def status_of(user: User) -> dict[str, Any]:
    return {
        "user_id": user.id,
        "enabled": two_factor.is_enrolled(user),
        "enabled_dt": user.totp_enabled_dt,
        "enrolment_pending": two_factor.enrolment_pending(user),
        "required": two_factor.two_factor_required(user),
        "demo_relaxed": two_factor.demo_relaxed(user),
    }


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


# --- one's own ----------------------------------------------------------------------------------


@route(
    "/me/two-factor",
    summary=_l("Your two-factor sign-in"),
    description=TOKENS_NOTE,
    response=TwoFactorStatusSchema,
)
@authenticated(password_change_exempt=True)
def get_two_factor() -> dict[str, Any]:
    return status_of(_me())


@route(
    "/me/two-factor/enrolment",
    method="POST",
    summary=_l("Start setting up two-factor sign-in"),
    description=WEB_ONLY_NOTE,
    response=TwoFactorEnrolmentSchema,
    status=201,
)
@authenticated(password_change_exempt=True, password_confirmed=True)
def begin_two_factor_enrolment() -> dict[str, Any]:
    user = _me()
    enrolment = two_factor.begin_enrolment(user)
    db.session.commit()
    return {"secret": enrolment.secret, "otpauth_uri": enrolment.uri, "status": status_of(user)}


@route(
    "/me/two-factor/enrolment/confirm",
    method="POST",
    summary=_l("Confirm two-factor sign-in with a code"),
    description=WEB_ONLY_NOTE,
    args=ConfirmTwoFactorArgs,
    response=TwoFactorStatusSchema,
)
@authenticated(password_change_exempt=True, password_confirmed=True)
def confirm_two_factor_enrolment(args: dict[str, Any]) -> dict[str, Any]:
    user = _me()
    result = two_factor.confirm_enrolment(user, args["code"])
    db.session.commit()  # failures are counted and audited too
    if result.throttled:
        raise ApiError(429, _("Too many wrong codes. Please wait a few minutes and try again."))
    if not result.ok:
        message = _("This code is not correct, or it was already used. Try the next one.")
        raise ApiError(422, message, {"code": [message]})
    return status_of(user)


# --- administrators -----------------------------------------------------------------------------


def _load_user(user_id: int) -> tuple[User, User]:
    actor = _me()
    if not can_manage_accounts(actor):
        abort(404)
    user = db.session.scalar(visible_users(actor).where(User.id == user_id))
    if user is None:
        abort(404)
    return actor, user


@route(
    "/users/<int:user_id>/two-factor",
    summary=_l("A user's two-factor sign-in"),
    response=TwoFactorStatusSchema,
    tag="admin",
)
@roles(UserRole.admin)
def get_user_two_factor(user_id: int) -> dict[str, Any]:
    _actor, user = _load_user(user_id)
    return status_of(user)


@route(
    "/users/<int:user_id>/two-factor/reset",
    method="POST",
    summary=_l("Reset a user's two-factor sign-in"),
    description=WEB_ONLY_NOTE,
    response=TwoFactorStatusSchema,
    tag="admin",
)
@roles(UserRole.admin, password_confirmed=True)
def reset_user_two_factor(user_id: int) -> dict[str, Any]:
    actor, user = _load_user(user_id)
    two_factor.reset_two_factor(actor, user)
    db.session.commit()
    return status_of(user)
