"""Notification pages: the list, marking read, and the unread badge in the menu."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user

from monitoring.core.auth import authenticated, current_member
from monitoring.core.db import db
from monitoring.core.pagination import paginate
from monitoring.notifications import outbox, render, services

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


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
    unread_only = request.args.get("unread") == "1"
    query = services.list_query(current_member(), {"unread": True} if unread_only else {})
    page = paginate(db.session(), query, key_columns=services.LIST_ORDER, after=request.args.get("after"))
    return render_template(
        "notifications/index.html",
        page=page,
        rows=services.texts(page),
        filters={"unread": "1"} if unread_only else {},
        unread_only=unread_only,
        first_page=not request.args.get("after"),
    )


@bp.route("/<int:notification_id>/read", methods=["POST"])
@authenticated
def read(notification_id: int) -> Any:
    notification = services.load_notification(current_member(), notification_id)
    outbox.mark_read(current_member(), notification)
    if request.form.get("stay") == "1":
        return redirect(url_for(".index"))
    return redirect(render.target_path(notification))


@bp.route("/read-all", methods=["POST"])
@authenticated
def read_all() -> Any:
    count = outbox.mark_all_read(current_member())
    flash(
        ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", count), "success"
    )
    return redirect(url_for(".index"))
