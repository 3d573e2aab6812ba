"""API of one's own account: who am I, and personal API tokens."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Response, abort, g
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError

from monitoring.accounts import operations
from monitoring.accounts.models import ApiToken, User
from monitoring.accounts.permissions import can_revoke_token, visible_tokens
from monitoring.accounts.schemas import (
    ApiTokenSchema,
    CreateTokenArgs,
    ListTokensArgs,
    MeSchema,
    NewApiTokenSchema,
)
from monitoring.core.api import bp, paginate, route
from monitoring.core.auth import authenticated
from monitoring.core.db import db
from monitoring.core.pagination import Page
from monitoring.core.types import utcnow

logger = logging.getLogger(__name__)

# Record a token's use at most this often, so reads do not all turn into writes.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


@route("/me", summary=_l("Your account"), response=MeSchema)
@authenticated(password_change_exempt=True)
def get_me() -> User:
    return _me()


@route(
    "/me/tokens",
    summary=_l("Your API tokens"),
    args=ListTokensArgs,
    response=ApiTokenSchema,
    paginated=True,
)
@authenticated(password_change_exempt=True)
def list_tokens(args: dict[str, Any]) -> Page:
    return paginate(visible_tokens(_me()), [ApiToken.id.desc()], args.get("after"), args.get("limit"))


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
    token, secret = operations.create_token(_me(), args["name"])
    db.session.commit()
    return {"token": token, "secret": secret}


@route(
    "/me/tokens/<int:token_id>",
    method="DELETE",
    summary=_l("Revoke an API token"),
    response=ApiTokenSchema,
)
@authenticated(password_change_exempt=True)
def revoke_token(token_id: int) -> ApiToken:
    user = _me()
    token = db.session.scalar(visible_tokens(user).where(ApiToken.id == token_id))
    if token is None or not can_revoke_token(user, token):
        abort(404)
    operations.revoke_token(user, token)
    db.session.commit()
    return token


@bp.after_request
def record_token_use(response: Response) -> Response:
    """Note when a token was last used, at most every few minutes."""
    token = g.get("api_token")
    last_used = token.last_used_dt if token is not None else None
    token_id = token.id if token is not None else None
    # Whatever a handler left uncommitted is discarded: handlers commit their own work.
    db.session.rollback()
    now = utcnow()
    if token_id is None or (last_used is not None and now - last_used < TOKEN_TOUCH_INTERVAL):
        return response
    try:
        db.session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(ApiToken.last_used_dt.is_(None), ApiToken.last_used_dt < now - TOKEN_TOUCH_INTERVAL),
            )
            .values(last_used_dt=now)
        )
        db.session.commit()
    except SQLAlchemyError:
        # Losing this timestamp is better than failing a request that has succeeded.
        db.session.rollback()
        logger.warning("could not record the use of API token %s", token_id, exc_info=True)
    return response
