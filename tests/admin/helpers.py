"""Helpers for the administration tests."""

from __future__ import annotations

import html
import re
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from monitoring.core.db import db

_TOKEN = re.compile(r'<code class="token">([^<]+)</code>')
_NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


def count(app: Flask, model: Any, *conditions: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def shown_secret(page: str) -> str | None:
    """The password or token a page shows once, if any."""
    match = _TOKEN.search(page)
    return html.unescape(match.group(1)) if match else None


def next_link(page: str) -> str | None:
    match = _NEXT.search(page)
    return html.unescape(match.group(1)) if match else None
