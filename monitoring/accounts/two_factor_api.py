"""API of two-factor sign-in: one's own status, and an administrator's view of it.

The API itself asks for no codes: it authenticates with bearer tokens, and a token can only be
made from a session that passed the second factor (or by an operator with ``flask users
token create``), so a token stands for both factors. A token cannot change them: setting up
and resetting two-factor sign-in are declared ``password_confirmed`` and answer 403 here, so a
stolen token cannot switch on a second factor of the thief's for an account that has none,
nor remove one. They are done on the web pages, in a session where the password was just typed.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask_babel import lazy_gettext as _l

from monitoring.accounts import services
from monitoring.accounts.models import UserRole
from monitoring.accounts.schemas import ConfirmTwoFactorArgs, TwoFactorEnrolmentSchema, TwoFactorStatusSchema
from monitoring.core.api import route
from monitoring.core.auth import TOKEN_REFUSED, authenticated, current_member, roles
from monitoring.core.errors import ApiError

TOKENS_NOTE = _l(
    "The API asks for no two-factor codes: a bearer token can only be made from a session that "
    "passed two-factor sign-in, so it stands for both factors."
)
WEB_ONLY_NOTE = _l(
    "Always refused with a 403 when called with an API token: two-factor sign-in is set up and "
    "reset only on the web pages, in a session where the password was just typed, so that a "
    "stolen token cannot change how its owner signs in."
)


def _web_only() -> NoReturn:
    """Refuse: these routes are ``password_confirmed``, which no bearer token is (see the module)."""
    raise ApiError(403, str(TOKEN_REFUSED))


@route(
    "/me/two-factor",
    summary=_l("Your two-factor sign-in"),
    description=TOKENS_NOTE,
    response=TwoFactorStatusSchema,
)
@authenticated(password_change_exempt=True)
def get_two_factor() -> dict[str, Any]:
    return services.two_factor_status(current_member())


@route(
    "/me/two-factor/enrolment",
    method="POST",
    summary=_l("Start setting up two-factor sign-in"),
    description=WEB_ONLY_NOTE,
    response=TwoFactorEnrolmentSchema,
    status=201,
)
@authenticated(password_change_exempt=True, password_confirmed=True)
def begin_two_factor_enrolment() -> NoReturn:
    _web_only()


@route(
    "/me/two-factor/enrolment/confirm",
    method="POST",
    summary=_l("Confirm two-factor sign-in with a code"),
    description=WEB_ONLY_NOTE,
    args=ConfirmTwoFactorArgs,
    response=TwoFactorStatusSchema,
)
@authenticated(password_change_exempt=True, password_confirmed=True)
def confirm_two_factor_enrolment(args: dict[str, Any]) -> NoReturn:
    _web_only()


@route(
    "/users/<int:user_id>/two-factor",
    summary=_l("A user's two-factor sign-in"),
    response=TwoFactorStatusSchema,
    tag="admin",
)
@roles(UserRole.admin)
def get_user_two_factor(user_id: int) -> dict[str, Any]:
    return services.two_factor_status(services.load_managed_user(current_member(), user_id))


@route(
    "/users/<int:user_id>/two-factor/reset",
    method="POST",
    summary=_l("Reset a user's two-factor sign-in"),
    description=WEB_ONLY_NOTE,
    response=TwoFactorStatusSchema,
    tag="admin",
)
@roles(UserRole.admin, password_confirmed=True)
def reset_user_two_factor(user_id: int) -> NoReturn:
    _web_only()
