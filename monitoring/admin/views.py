"""Administration pages (admins only)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from monitoring.accounts.models import UserRole
from monitoring.core.auth import roles

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@roles(UserRole.admin)
def users() -> Any:
    return render_template("core/index.html")


@bp.route("/organisations")
@roles(UserRole.admin)
def organisations() -> Any:
    return render_template("core/index.html")


@bp.route("/audit")
@roles(UserRole.admin)
def audit_log() -> Any:
    return render_template("core/index.html")
