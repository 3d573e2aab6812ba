"""How accounts plug into core's access control: the user loaders and the second-factor gate.

Core declares who may use a route (:mod:`monitoring.core.auth`) and knows no feature; the app
factory calls :func:`init_accounts_auth` to tell it how a session or a bearer token names a
user, where a user who still owes the second factor goes, and what the language switch keeps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, g
from flask import Request as FlaskRequest
from sqlalchemy import bindparam, or_, select, update
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


@dataclass(frozen=True)
class TokenInUse:
    """The bearer token of this request, as ``g.api_token``: what the request needs of it (when
    it was last used; the private key it carries, see :mod:`monitoring.accounts.key_unlock`)."""

    id: int
    user_id: int
    token_hash: str
    last_used_dt: datetime | None
    private_key_wrapped: bytes | None


# Every API request runs it, so it is built once: SQLAlchemy computes a statement's cache key
# once per statement object. The user comes with their organisation (joined, as always); of
# the token only its columns, not a second object for the session to track. Nothing of it is
# kept between requests: a revoked token, a deactivated user or organisation is refused on
# the next request, in every process.
_TOKEN_USER = (
    select(
        User,
        ApiToken.id,
        ApiToken.last_used_dt,
        ApiToken.private_key_wrapped,
    )
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_dt.is_(None))
)


def load_user_from_token(req: FlaskRequest) -> User | None:
    """The user of an API request's bearer token, if the token and the account are active."""
    if not auth.is_api_request():
        return None
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    token_hash = auth.hash_token(token.strip())
    row = db.session.execute(_TOKEN_USER, {"token_hash": token_hash}).first()
    if row is None:
        return None
    user, token_id, last_used_dt, private_key_wrapped = row
    if not user.is_active or not user.organisation.is_active:
        return None
    g.api_token = TokenInUse(token_id, user.id, token_hash, last_used_dt, private_key_wrapped)
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
