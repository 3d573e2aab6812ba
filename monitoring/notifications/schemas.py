"""Schemas of the notifications API."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import fields

from monitoring.core.schemas import BaseSchema, Integer, PageArgs
from monitoring.notifications import render
from monitoring.notifications.models import MailState, NotificationKind
from monitoring.notifications.subjects import Related


class ListNotificationsArgs(PageArgs):
    unread = fields.Boolean(
        metadata={"description": _l("Only unread notifications (true) or only read ones (false).")}
    )


class NotificationSchema(BaseSchema):
    """A notification as its recipient sees it; ``text`` is rendered in the request's language."""

    id = Integer(dump_only=True)
    kind = fields.Enum(NotificationKind, by_value=True, dump_only=True)
    title = fields.Method("_title", dump_only=True, metadata={"description": _l("The kind, in words.")})
    text = fields.Method(
        "_text", dump_only=True, metadata={"description": _l("One line saying what happened.")}
    )
    case_id = Integer(dump_only=True, allow_none=True)
    action_id = Integer(dump_only=True, allow_none=True)
    url = fields.Method("_url", dump_only=True, metadata={"description": _l("The page it is about.")})
    params = fields.Dict(
        keys=fields.String(),
        dump_only=True,
        metadata={"description": _l("Metadata it was made with: references, states, dates.")},
    )
    created_dt = fields.AwareDateTime(dump_only=True)
    read_dt = fields.AwareDateTime(dump_only=True, allow_none=True)
    mail_state = fields.Enum(MailState, by_value=True, dump_only=True)

    def __init__(self, *args: Any, related: Related | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.related = related

    def _title(self, notification: Any) -> str:
        return str(notification.kind.title)

    def _text(self, notification: Any) -> str:
        return render.line(notification, self.related)

    def _url(self, notification: Any) -> str:
        return render.target_path(notification)


class UnreadCountSchema(BaseSchema):
    unread = Integer(dump_only=True, metadata={"description": _l("How many notifications are unread.")})


class ReadAllSchema(BaseSchema):
    marked = Integer(dump_only=True, metadata={"description": _l("How many were marked read now.")})
