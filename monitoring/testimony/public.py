"""Anonymous worker pages at /report: no login, no client address stored."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("report", __name__, url_prefix="/report")
