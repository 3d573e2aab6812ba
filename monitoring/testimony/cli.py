"""``flask import survey``: a KoboToolbox CSV export becomes sealed reports."""

from __future__ import annotations

from monitoring.cli import import_cli  # noqa: F401
