"""HTML pages for imports and for reviewing likely duplicate sites."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("supplychain_tools", __name__)
