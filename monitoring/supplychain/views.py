"""HTML pages of the supply-chain registry."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("supplychain", __name__)
