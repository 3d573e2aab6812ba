"""The notifications a user reads, for the page and the API alike: the list, one by id, texts."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import Select

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.core.pagination import Page
from monitoring.notifications import render
from monitoring.notifications.models import Notification
from monitoring.notifications.permissions import visible_notifications
from monitoring.notifications.subjects import load_related

# Newest first; the id is unique, so pages neither skip nor repeat a row.
LIST_ORDER = [Notification.id.desc()]


def list_query(user: User, args: dict[str, Any]) -> Select[Notification]:
    """The user's notifications, only unread (``unread`` true) or only read ones (false)."""
    query = visible_notifications(user)
    if "unread" in args:
        read = Notification.read_dt.is_(None) if args["unread"] else Notification.read_dt.is_not(None)
        query = query.where(read)
    return query


def load_notification(user: User, notification_id: int) -> Notification:
    """One of the user's own notifications; anyone else's is missing (404)."""
    notification = db.session.scalar(visible_notifications(user).where(Notification.id == notification_id))
    if notification is None:
        abort(404)
    return notification


def texts(page: Page) -> list[tuple[Notification, str, str]]:
    """Each notification of a page with its line and its page (the subjects loaded at once)."""
    related = load_related(page.items)
    return [(n, render.line(n, related), render.target_path(n)) for n in page.items]
