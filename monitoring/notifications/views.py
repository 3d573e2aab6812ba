"""Notification pages: the list, marking read, and the unread badge in the menu."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user

from monitoring.accounts.models import User
from monitoring.core.auth import authenticated
from monitoring.core.db import db
from monitoring.core.pagination import paginate
from monitoring.notifications import outbox, render
from monitoring.notifications.models import Notification

logger = logging.getLogger(__name__)

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def load_notification(user: User, notification_id: int) -> Notification:
    """One of the user's own notifications; anyone else's is missing (404)."""
    notification = db.session.scalar(
        outbox.visible_notifications(user).where(Notification.id == notification_id)
    )
    if notification is None:
        abort(404)
    return notification


@bp.app_context_processor
def notification_context() -> dict[str, Any]:
    def unread_notifications() -> int:
        # Counted once per request, and only when the menu shows it (second factor passed).
        if "unread_notifications" not in g:
            g.unread_notifications = outbox.unread_count(current_user) if current_user.is_authenticated else 0
        return int(g.unread_notifications)

    return {"unread_notifications": unread_notifications}


@bp.route("/")
@authenticated
def index() -> Any:
    user = _me()
    unread_only = request.args.get("unread") == "1"
    query = outbox.visible_notifications(user)
    if unread_only:
        query = query.where(Notification.read_dt.is_(None))
    page = paginate(
        db.session,
        query,
        key_columns=[Notification.id.desc()],
        after=request.args.get("after"),
    )
    related = render.load_related(page.items)
    rows = [(n, render.line(n, related), render.target_path(n)) for n in page.items]
    filters = {"unread": "1"} if unread_only else {}
    return render_template(
        "notifications/index.html",
        page=page,
        rows=rows,
        filters=filters,
        unread_only=unread_only,
        first_page=not request.args.get("after"),
    )


@bp.route("/<int:notification_id>/read", methods=["POST"])
@authenticated
def read(notification_id: int) -> Any:
    user = _me()
    notification = load_notification(user, notification_id)
    outbox.mark_read(user, notification)
    db.session.commit()
    if request.form.get("stay") == "1":
        return redirect(url_for(".index"))
    return redirect(render.target_path(notification))


@bp.route("/read-all", methods=["POST"])
@authenticated
def read_all() -> Any:
    count = outbox.mark_all_read(_me())
    db.session.commit()
    flash(
        ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", count), "success"
    )
    return redirect(url_for(".index"))
