"""One commit per request, in one place.

Every route is declared with ``@public``, ``@roles`` or ``@authenticated``
(:mod:`monitoring.core.auth`), and that declaration wraps the view in :func:`one_transaction`:
when the view returns a success (a status below 400) the request's writes are committed once;
when it raises, or answers with an error status, everything it wrote is rolled back. Handlers,
services and operations never commit or roll back themselves (``make lint`` checks that).

Two escapes, each named for what it is for:

- :func:`attempt` runs one operation inside a savepoint. When the operation refuses
  (:class:`~monitoring.core.operations.OperationError`) its partial writes are undone at once,
  so a page can render the form again, from the state before the attempt, next to the reason.
- :func:`keep_failed_attempt` commits at once what was recorded of a failed attempt (a failed
  login, a throttled request), which must survive the error answer that follows.

Command-line commands and background jobs are requests of their own: they commit in their
own module, once per command or per item (:func:`command`).

What cannot be rolled back, such as deleting a stored file, waits for the commit
(:func:`on_commit`): if the transaction rolls back instead, the file is still there for the rows
that still name it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Response
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from monitoring.core.db import db

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# session.info key: the actions waiting for the commit, each with the transactions it depends on.
_ON_COMMIT = "monitoring.on_commit"


def status_of(result: Any) -> int:
    """The HTTP status a view's return value will have (200 unless it says otherwise)."""
    if isinstance(result, Response):
        return result.status_code
    if isinstance(result, tuple) and len(result) >= 2 and isinstance(result[1], int):
        return result[1]
    return 200


def one_transaction(view: Callable[P, T]) -> Callable[P, T]:
    """Commit once when the view succeeds; roll back when it raises or answers an error."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            result = view(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        if status_of(result) < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return result

    return wrapper


def attempt(operation: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run one operation in a savepoint: if it refuses, nothing it wrote remains.

    The refusal (``OperationError``) propagates to the handler, which shows it. Objects the
    operation changed are expired, so they read as they were before the attempt.
    """
    with db.session.begin_nested():
        return operation(*args, **kwargs)


def keep_failed_attempt() -> None:
    """Commit now what was recorded of a failed attempt, before the error answer rolls back.

    For the records that must outlive the refusal they document: failed logins, throttle
    counters, the audit entry of a refused sign-in. Call it right after recording them.
    """
    db.session.commit()


def keep_bookkeeping() -> None:
    """Commit what an ``after_request`` hook recorded once the request's transaction had ended.

    For bookkeeping outside any view, such as when an API token was last used.
    """
    db.session.commit()


def command(func: Callable[P, T]) -> Callable[P, T]:
    """Run a command-line command in one transaction: commit when it returns, else roll back."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            result = func(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return wrapper


def on_commit(action: Callable[[], None]) -> None:
    """Run ``action`` once the current transaction commits, after the data is durable.

    For what a rollback could not undo (deleting or shredding a stored file). If the
    transaction, or the savepoint the action was registered in (:func:`attempt`), rolls back,
    the action is forgotten. An action that raises is logged; the commit stands. Outside a
    transaction the action runs at once.
    """
    session = db.session()
    innermost = session.get_nested_transaction() or session.get_transaction()
    if innermost is None:
        action()
        return
    chain: list[SessionTransaction] = []
    at: SessionTransaction | None = innermost
    while at is not None:
        chain.append(at)
        at = at.parent
    session.info.setdefault(_ON_COMMIT, []).append((chain, action))


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    for _chain, action in session.info.pop(_ON_COMMIT, []):
        try:
            action()
        except Exception:  # the data is committed; what failed here is logged for the operator
            logger.exception("An action after the commit failed")


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    waiting = session.info.get(_ON_COMMIT)
    if waiting:
        kept = [
            (chain, action) for chain, action in waiting if all(t is not previous_transaction for t in chain)
        ]
        session.info[_ON_COMMIT] = kept


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    # A session closed without a commit or rollback (its transaction discarded) forgets them too.
    if transaction.parent is None:
        session.info.pop(_ON_COMMIT, None)
