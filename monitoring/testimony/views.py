"""HTML pages for monitors: intake, reports, conversation, evidence."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("testimony", __name__, url_prefix="/testimony")
