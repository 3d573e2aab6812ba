"""``flask import facilities`` and ``flask import disclosures``."""

from __future__ import annotations

from monitoring.cli import import_cli  # noqa: F401
