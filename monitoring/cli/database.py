"""``flask db …``: database migrations (Alembic)."""

from __future__ import annotations

import click
from alembic import command as alembic
from alembic.config import Config
from flask import current_app
from flask.cli import AppGroup

db_cli = AppGroup("db", help="Database migrations (Alembic).")


def _alembic() -> Config:
    from monitoring.core.migrate import alembic_config

    return alembic_config(current_app.config["DATABASE_URL"])


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    alembic.upgrade(_alembic(), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. -1 or base)."""
    alembic.downgrade(_alembic(), revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Create a migration from the difference between the models and the database."""
    alembic.revision(_alembic(), message=message, autogenerate=True)


@db_cli.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    alembic.current(_alembic(), verbose=True)


@db_cli.command("check")
def db_check() -> None:
    """Fail if the models differ from what the migrations produce."""
    alembic.check(_alembic())
