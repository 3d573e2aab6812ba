"""``flask demo load``: idempotent demonstration data."""

from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demonstration data.")
