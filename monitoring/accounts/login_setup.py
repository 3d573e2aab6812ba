"""How accounts plug into core's access control: the user loaders and the second-factor gate.

Core declares who may use a route (:mod:`monitoring.core.auth`) and knows no feature; the app
factory calls :func:`init_accounts_auth` to tell it how a session or a bearer token names a
user, where a user who still owes the second factor goes, and what the language switch keeps.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, Response, g
from flask import Request as FlaskRequest
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from monitoring.accounts import two_factor
from monitoring.accounts.models import ApiToken, User
from monitoring.accounts.operations import set_locale
from monitoring.core import auth, hooks
from monitoring.core.db import db
from monitoring.core.transactions import keep_bookkeeping
from monitoring.core.types import utcnow

logger = logging.getLogger(__name__)

# Record a token's use at most this often, so reads do not all turn into writes.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def load_user(user_id: str) -> User | None:
    """The user of a web session, if the account and its organisation are still active."""
    if auth.is_api_request():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or not user.organisation.is_active:
        return None
    return user


def load_user_from_token(req: FlaskRequest) -> User | None:
    """The user of an API request's bearer token, if the token and the account are active."""
    if not auth.is_api_request():
        return None
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    api_token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == auth.hash_token(token.strip()))
    )
    if api_token is None or not api_token.is_active:
        return None
    user = api_token.user
    if not user.is_active or not user.organisation.is_active:
        return None
    g.api_token = api_token
    return user


def second_factor_endpoint(user: Any) -> str | None:
    """The two-factor page a user who still owes the code must see first, else None."""
    if not two_factor.second_factor_pending(user):
        return None
    return "two_factor.verify" if two_factor.is_enrolled(user) else "two_factor.setup"


def keep_chosen_locale(user: User, locale: str) -> None:
    set_locale(user, locale)


def record_token_use(response: Response) -> Response:
    """Note when a token was last used, at most every few minutes, whatever the answer was.

    It runs after the request's own transaction ended, and is kept even when that one was
    rolled back (a failed request is a use of the token too).
    """
    token = g.get("api_token")
    now = utcnow()
    if token is None or (token.last_used_dt is not None and now - token.last_used_dt < TOKEN_TOUCH_INTERVAL):
        return response
    token_id = token.id
    try:
        db.session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(ApiToken.last_used_dt.is_(None), ApiToken.last_used_dt < now - TOKEN_TOUCH_INTERVAL),
            )
            .values(last_used_dt=now)
        )
        keep_bookkeeping()
    except SQLAlchemyError:
        # Losing this timestamp is better than failing a request that has succeeded; the
        # session is rolled back when the request ends.
        logger.warning("could not record the use of API token %s", token_id, exc_info=True)
    return response


def init_accounts_auth(app: Flask) -> None:
    """Register the loaders, the second-factor gate, the token-use record and the language receiver."""
    app.after_request(record_token_use)
    auth.login_manager.user_loader(load_user)
    auth.login_manager.request_loader(load_user_from_token)
    auth.second_factor_gate = second_factor_endpoint
    hooks.locale_chosen.connect(keep_chosen_locale)
