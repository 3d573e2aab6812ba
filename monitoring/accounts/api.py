"""API of one's own account: who am I, and personal API tokens."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.accounts import operations, services
from monitoring.accounts.models import ApiToken
from monitoring.accounts.permissions import visible_tokens
from monitoring.accounts.schemas import (
    ApiTokenSchema,
    CreateTokenArgs,
    ListTokensArgs,
    MeSchema,
    NewApiTokenSchema,
    UpdateAccountArgs,
)
from monitoring.core.api import paginate, route
from monitoring.core.auth import authenticated, current_member
from monitoring.core.pagination import Page


@route("/me", summary=_l("Your account"), response=MeSchema)
@authenticated(password_change_exempt=True)
def get_me() -> services.AccountView:
    return services.account_view(current_member())


@route(
    "/me",
    method="PATCH",
    summary=_l("Change your settings"),
    description=_l("Your language and time zone; a field left out stays as it is."),
    args=UpdateAccountArgs,
    response=MeSchema,
)
@authenticated(password_change_exempt=True)
def update_me(args: dict[str, Any]) -> services.AccountView:
    user = current_member()
    services.update_account(user, args)
    return services.account_view(user)


@route(
    "/me/tokens", summary=_l("Your API tokens"), args=ListTokensArgs, response=ApiTokenSchema, paginated=True
)
@authenticated(password_change_exempt=True)
def list_tokens(args: dict[str, Any]) -> Page:
    return paginate(
        visible_tokens(current_member()), services.TOKEN_ORDER, args.get("after"), args.get("limit")
    )


@route(
    "/me/tokens",
    method="POST",
    summary=_l("Create an API token"),
    description=_l("The token's secret is in the answer, once; only its hash is stored."),
    args=CreateTokenArgs,
    response=NewApiTokenSchema,
    status=201,
)
@authenticated(password_change_exempt=True)
def create_token(args: dict[str, Any]) -> dict[str, Any]:
    token, secret = operations.create_token(current_member(), args["name"])
    return {"token": token, "secret": secret}


@route(
    "/me/tokens/<int:token_id>", method="DELETE", summary=_l("Revoke an API token"), response=ApiTokenSchema
)
@authenticated(password_change_exempt=True)
def revoke_token(token_id: int) -> ApiToken:
    user = current_member()
    token = services.load_token(user, token_id)
    operations.revoke_token(user, token)
    return token
