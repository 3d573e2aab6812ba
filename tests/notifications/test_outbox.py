"""The outbox: one row per distinct active user, idempotent with a dedupe key, own rows only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from monitoring.accounts.models import User, UserRole
from monitoring.core.db import db
from monitoring.notifications import outbox
from monitoring.notifications.models import MailState, Notification, NotificationKind


def _count(user_id: int | None = None) -> int:
    query = select(func.count()).select_from(Notification)
    if user_id is not None:
        query = query.where(Notification.user_id == user_id)
    return db.session.scalar(query) or 0


def test_notify_one_row_per_distinct_active_user(app: Flask, create_user: Callable[..., User]) -> None:
    first, second = create_user(UserRole.coordinator), create_user(UserRole.coordinator)
    inactive = create_user(UserRole.coordinator)
    with app.app_context():
        a, b, c = (db.session.get(User, u.id) for u in (first, second, inactive))
        c.is_active = False
        rows = outbox.notify(
            [a, b, a, c], NotificationKind.message_posted, params={"reference": "C-2026-0001"}
        )
        db.session.commit()
        assert sorted(n.user_id for n in rows) == sorted([a.id, b.id])
        assert all(n.mail_state is MailState.pending and n.read_dt is None for n in rows)
        assert rows[0].params == {"reference": "C-2026-0001"}
        assert _count(c.id) == 0


def test_notify_with_dedupe_key_skips_existing(app: Flask, create_user: Callable[..., User]) -> None:
    user, other = create_user(UserRole.supplier), create_user(UserRole.supplier)
    with app.app_context():
        u = db.session.get(User, user.id)
        first = outbox.notify(
            [u], NotificationKind.deadline_reminder, dedupe_key="reminder:1:plan:2026-01-10"
        )
        db.session.commit()
        o = db.session.get(User, other.id)
        again = outbox.notify(
            [u, o], NotificationKind.deadline_reminder, dedupe_key="reminder:1:plan:2026-01-10"
        )
        db.session.commit()
        assert len(first) == 1 and [n.user_id for n in again] == [o.id]
        assert first[0].dedupe_key == f"reminder:1:plan:2026-01-10:{u.id}"
        assert (
            outbox.notify([u, o], NotificationKind.deadline_reminder, dedupe_key="reminder:1:plan:2026-01-10")
            == []
        )
        assert _count(u.id) == 1 and _count(o.id) == 1


def test_params_must_be_metadata(app: Flask, create_user: Callable[..., User]) -> None:
    user = create_user(UserRole.supplier)
    with app.app_context():
        u = db.session.get(User, user.id)
        with pytest.raises(TypeError):
            outbox.notify([u], NotificationKind.message_posted, params={"body": ["a", "list"]})


def test_unread_count_mark_read_and_mark_all(app: Flask, create_user: Callable[..., User]) -> None:
    user, other = create_user(UserRole.monitor), create_user(UserRole.monitor)
    with app.app_context():
        u, o = db.session.get(User, user.id), db.session.get(User, other.id)
        rows = [outbox.notify([u, o], NotificationKind.case_opened)[0] for _ in range(3)]
        db.session.commit()
        assert outbox.unread_count(u) == 3 and outbox.unread_count(o) == 3
        assert outbox.mark_read(u, rows[0]) is True
        assert outbox.mark_read(u, rows[0]) is False
        assert outbox.unread_count(u) == 2
        assert outbox.mark_all_read(u) == 2
        db.session.commit()
        assert outbox.unread_count(u) == 0 and outbox.unread_count(o) == 3
        theirs = db.session.scalars(select(Notification).where(Notification.user_id == o.id)).first()
        with pytest.raises(PermissionError):
            outbox.mark_read(u, theirs)
        visible = db.session.scalars(outbox.visible_notifications(u)).all()
        assert {n.user_id for n in visible} == {u.id} and len(visible) == 3


def test_unique_key_is_the_backstop_without_breaking_the_transaction(
    app: Flask, create_user: Callable[..., User]
) -> None:
    """A row a concurrent transaction inserted after our check is skipped, and our change goes on."""
    user = create_user(UserRole.supplier)
    with app.app_context():
        u = db.session.get(User, user.id)
        (first,) = outbox.notify(
            [u], NotificationKind.deadline_overdue, dedupe_key="overdue:7:plan:2026-01-10"
        )
        row = {
            "user_id": u.id,
            "kind": NotificationKind.deadline_overdue,
            "case_id": None,
            "action_id": None,
            "params": {},
            "dedupe_key": first.dedupe_key,
            "created_dt": first.created_dt,
            "mail_state": MailState.pending,
            "mail_attempts": 0,
        }
        assert outbox._insert_unless_exists(row) is None
        # The transaction is still usable (on PostgreSQL a failed INSERT would abort it).
        assert _count(u.id) == 1
        db.session.commit()
