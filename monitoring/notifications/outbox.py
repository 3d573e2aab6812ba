"""Queue notifications in the same transaction as the change they tell of, and read them back.

``notify`` only adds rows; nothing is sent here. The jobs runner (:mod:`.delivery`) mails the
rows after the transaction that created them committed, so a rolled-back change tells nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.notifications.models import MailState, Notification, NotificationKind
from monitoring.notifications.permissions import can_mark_read
from monitoring.notifications.permissions import (
    visible_notifications as visible_notifications,  # for callers of old
)


class CaseRow(Protocol):
    """A case a notification is about (any row with an id; cases own the model)."""

    @property
    def id(self) -> int: ...


class ActionRow(Protocol):
    """A corrective action a notification is about, and the case that holds it."""

    @property
    def id(self) -> int: ...

    @property
    def case_id(self) -> int: ...


logger = logging.getLogger(__name__)

_SCALARS = (str, int, float, bool, type(None))


def _check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Keep params to plain JSON metadata (ids, references, states, ISO dates)."""
    clean: dict[str, Any] = {}
    for key, value in params.items():
        if not isinstance(key, str):
            raise TypeError(f"notification parameter names must be strings, not {key!r}")
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "value") and isinstance(value.value, str):  # an enum member
            value = value.value
        if not isinstance(value, _SCALARS):
            raise TypeError(f"notification parameter {key} must be a plain value, not {type(value).__name__}")
        clean[key] = value
    return clean


def _recipients(users: Iterable[User]) -> list[User]:
    """Distinct active users of active organisations, in the order given."""
    seen: set[int] = set()
    result = []
    for user in users:
        if user is None or user.id in seen:
            continue
        seen.add(user.id)
        if user.is_active and user.organisation.is_active:
            result.append(user)
    return result


def user_dedupe_key(dedupe_key: str, user: User | int) -> str:
    """The per-recipient key stored on the row."""
    return f"{dedupe_key}:{user if isinstance(user, int) else user.id}"


def notify(
    users: Iterable[User],
    kind: NotificationKind | str,
    *,
    case: CaseRow | None = None,
    action: ActionRow | None = None,
    params: Mapping[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> list[Notification]:
    """Queue one notification per distinct active user; return the rows created.

    With ``dedupe_key`` a user who already has a notification under that key gets nothing new,
    which makes reminders and overdue notices idempotent. Never commits.
    """
    kind = NotificationKind(kind)
    recipients = _recipients(users)
    if not recipients:
        return []
    clean = _check_params(params or {})
    case_id = case.id if case is not None else (action.case_id if action is not None else None)
    action_id = action.id if action is not None else None
    rows = [
        {
            "user_id": user.id,
            "kind": kind,
            "case_id": case_id,
            "action_id": action_id,
            "params": dict(clean),
            "dedupe_key": user_dedupe_key(dedupe_key, user) if dedupe_key else None,
            "created_dt": utcnow(),
            "mail_state": MailState.pending,
            "mail_attempts": 0,
        }
        for user in recipients
    ]
    session = db.session
    if dedupe_key is None:
        created = [Notification(**row) for row in rows]
        session.add_all(created)
        session.flush()
        return created

    # Skip keys this transaction can already see; then insert the rest so that a concurrent
    # transaction inserting the same key makes ours skip it instead of failing the whole change.
    session.flush()
    keys = [row["dedupe_key"] for row in rows]
    existing = set(session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(keys))))
    rows = [row for row in rows if row["dedupe_key"] not in existing]
    if not rows:
        return []
    ids = [_insert_unless_exists(row) for row in rows]
    ids = [i for i in ids if i is not None]
    if not ids:
        return []
    return list(
        session.scalars(select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id))
    )


def _insert_unless_exists(row: dict[str, Any]) -> int | None:
    """Insert one row; None when its dedupe key exists already (the unique constraint decides)."""
    session = db.session
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(Notification).on_conflict_do_nothing(index_elements=["dedupe_key"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(Notification).on_conflict_do_nothing(index_elements=["dedupe_key"])
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        stmt = insert(Notification)
    return session.execute(stmt.values(**row).returning(Notification.id)).scalar_one_or_none()


# --- reading -----------------------------------------------------------------------------------


def unread_count(user: User) -> int:
    """How many of the user's notifications are unread (one query)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_dt.is_(None))
        )
        or 0
    )


def mark_read(user: User, notification: Notification) -> bool:
    """Mark one of the user's notifications read; False when it was read already. Never commits."""
    if not can_mark_read(user, notification):
        raise PermissionError("a user may only mark their own notifications read")
    if notification.read_dt is not None:
        return False
    notification.read_dt = utcnow()
    db.session.flush()
    return True


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; return how many. Never commits."""
    db.session.flush()
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_dt.is_(None))
        .values(read_dt=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
