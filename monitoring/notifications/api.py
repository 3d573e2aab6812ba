"""Notifications API: a user's own notifications, the unread count and marking read."""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, jsonify
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from monitoring.accounts.models import User
from monitoring.core.api import paginate, route
from monitoring.core.auth import authenticated
from monitoring.core.db import db
from monitoring.notifications import outbox, render
from monitoring.notifications.models import Notification
from monitoring.notifications.schemas import (
    ListNotificationsArgs,
    NotificationSchema,
    ReadAllSchema,
    UnreadCountSchema,
)

logger = logging.getLogger(__name__)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _load(user: User, notification_id: int) -> Notification:
    notification = db.session.scalar(
        outbox.visible_notifications(user).where(Notification.id == notification_id)
    )
    if notification is None:
        abort(404)
    return notification


@route(
    "/notifications",
    summary=_l("List my notifications, newest first"),
    args=ListNotificationsArgs,
    response=NotificationSchema,
    paginated=True,
)
@authenticated
def list_notifications(args: dict[str, Any]) -> Any:
    query = outbox.visible_notifications(_me())
    if "unread" in args:
        query = query.where(
            Notification.read_dt.is_(None) if args["unread"] else Notification.read_dt.is_not(None)
        )
    page = paginate(query, [Notification.id.desc()], args.get("after"), args.get("limit"))
    # The texts mention the cases and actions: load them for the whole page at once.
    schema = NotificationSchema(related=render.load_related(page.items))
    return jsonify({"items": schema.dump(page.items, many=True), "next": page.next_cursor})


@route(
    "/notifications/unread-count",
    summary=_l("How many of my notifications are unread"),
    response=UnreadCountSchema,
)
@authenticated
def unread_notification_count() -> Any:
    return {"unread": outbox.unread_count(_me())}


@route(
    "/notifications/<int:notification_id>/read",
    method="POST",
    summary=_l("Mark one of my notifications read"),
    response=NotificationSchema,
)
@authenticated
def read_notification(notification_id: int) -> Notification:
    user = _me()
    notification = _load(user, notification_id)
    outbox.mark_read(user, notification)
    db.session.commit()
    return notification


@route(
    "/notifications/read-all",
    method="POST",
    summary=_l("Mark all my notifications read"),
    response=ReadAllSchema,
)
@authenticated
def read_all_notifications() -> Any:
    marked = outbox.mark_all_read(_me())
    db.session.commit()
    return {"marked": marked}
