"""Alembic, driven from the application's configuration."""

from __future__ import annotations

from alembic.config import Config

from monitoring.config import ROOT

MIGRATIONS = ROOT / "migrations"
FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for this project and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("timezone", "UTC")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config
