"""Notifications API: a user's own notifications, the unread count and marking read."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_babel import lazy_gettext as _l

from monitoring.core.api import paginate, route
from monitoring.core.auth import authenticated, current_member
from monitoring.notifications import outbox, services
from monitoring.notifications.models import Notification
from monitoring.notifications.schemas import (
    ListNotificationsArgs,
    NotificationSchema,
    ReadAllSchema,
    UnreadCountSchema,
)
from monitoring.notifications.subjects import load_related


@route(
    "/notifications",
    summary=_l("List my notifications, newest first"),
    args=ListNotificationsArgs,
    response=NotificationSchema,
    paginated=True,
)
@authenticated
def list_notifications(args: dict[str, Any]) -> Response:
    page = paginate(
        services.list_query(current_member(), args), services.LIST_ORDER, args.get("after"), args.get("limit")
    )
    # The texts mention the cases and actions: load them for the whole page at once.
    schema = NotificationSchema(related=load_related(page.items))
    return jsonify({"items": schema.dump(page.items, many=True), "next": page.next_cursor})


@route(
    "/notifications/unread-count",
    summary=_l("How many of my notifications are unread"),
    response=UnreadCountSchema,
)
@authenticated
def unread_notification_count() -> dict[str, int]:
    return {"unread": outbox.unread_count(current_member())}


@route(
    "/notifications/<int:notification_id>/read",
    method="POST",
    summary=_l("Mark one of my notifications read"),
    response=NotificationSchema,
)
@authenticated
def read_notification(notification_id: int) -> Notification:
    notification = services.load_notification(current_member(), notification_id)
    outbox.mark_read(current_member(), notification)
    return notification


@route(
    "/notifications/read-all",
    method="POST",
    summary=_l("Mark all my notifications read"),
    response=ReadAllSchema,
)
@authenticated
def read_all_notifications() -> dict[str, int]:
    return {"marked": outbox.mark_all_read(current_member())}
