"""Pages every user reaches: the start page, the language switcher, a health check."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from monitoring.core import hooks
from monitoring.core.auth import authenticated, public, safe_next
from monitoring.core.db import db
from monitoring.core.i18n import available_locales

logger = logging.getLogger(__name__)

bp = Blueprint("core", __name__)


@bp.route("/")
@authenticated
def index() -> Any:
    return render_template("core/index.html")


@bp.route("/language", methods=["POST"])
@public
def set_language() -> Any:
    locale = request.form.get("locale", "")
    if locale in available_locales():
        if current_user.is_authenticated:
            hooks.locale_chosen.send(user=current_user._get_current_object(), locale=locale)
        else:
            session["locale"] = locale
    return redirect(safe_next(request.form.get("next")) or url_for("core.index"))


@bp.route("/healthz")
@public
def health() -> Any:
    """``{"status": "ok"}``, or 503 with ``{"status": "unavailable"}`` when the database is down."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        logger.error("health check: the database cannot be reached (%s)", type(exc).__name__)
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok")
