"""Who sees which notifications: each user their own, nobody anyone else's."""

from __future__ import annotations

from sqlalchemy import Select, select

from monitoring.accounts.models import User
from monitoring.notifications.models import Notification


def visible_notifications(user: User) -> Select[Notification]:
    """The user's own notifications; nobody sees anyone else's."""
    return select(Notification).where(Notification.user_id == user.id)


def can_mark_read(user: User, notification: Notification) -> bool:
    """Only its recipient marks a notification read."""
    return notification.user_id == user.id
