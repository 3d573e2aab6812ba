"""``flask users …``: manage organisations and users from the shell."""

from flask.cli import AppGroup

users_cli = AppGroup("users", help="Organisations, users and API tokens.")
