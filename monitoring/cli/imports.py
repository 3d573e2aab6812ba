"""``flask import …``: the features' importers (facility lists, disclosures, survey exports)."""

from __future__ import annotations

from flask.cli import AppGroup

import_cli = AppGroup("import", help="Import files: facility lists, disclosures, survey exports.")
