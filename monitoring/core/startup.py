"""Checks made before an app server serves: does this configuration work with this database?

``wsgi.py`` runs :func:`check_serving` when a server (gunicorn, the browser tests' server)
imports it, not for ``flask`` commands, which must be able to create what is checked here
(``flask keys init``, ``flask db upgrade``, ``flask i18n compile``). A refusal is a
:class:`~monitoring.config.ConfigError` whose message says what to do.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from monitoring.config import ROOT, ConfigError
from monitoring.core import crypto
from monitoring.core.crypto import DecryptionError, KeyringError

logger = logging.getLogger(__name__)


def check_serving(app: Flask) -> None:
    """Refuse to serve with a missing or wrong keyring, an unmigrated database or (in
    production) uncompiled translations; warn when the database cannot be reached."""
    from monitoring.core.db import db
    from monitoring.core.keyring import current_keyring

    with app.app_context():
        try:
            keyring = current_keyring()
        except KeyringError as exc:
            raise ConfigError(str(exc)) from None
        stale = stale_catalogs(ROOT / "translations")
        if stale:
            message = (
                f"the translations are not compiled ({', '.join(stale)}): workers and staff would be "
                "served English; run `flask --app wsgi i18n compile`"
            )
            if app.config["ENV"] == "production":
                raise ConfigError(message)
            logger.warning(message)
        try:
            with db.engine.connect() as connection:
                check_revision(connection, app.config["DATABASE_URL"])
            check_keyring_opens_database(keyring, app.config)
        except SQLAlchemyError as exc:
            # A database that is down now may be up in a minute; /healthz tells the load balancer.
            logger.warning("cannot check the database before serving: %s", type(exc).__name__)
        finally:
            db.session.remove()


def stale_catalogs(directory: Path) -> list[str]:
    """The catalogs (``<locale>/LC_MESSAGES/messages.po``) without an up-to-date ``.mo``."""
    stale = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(po.parent.parent.name)
    return stale


def check_revision(connection: object, database_url: str) -> None:
    """Refuse a database that is not at the migrations' head(s)."""
    from monitoring.core.migrate import alembic_config

    current = set(MigrationContext.configure(connection).get_current_heads())  # type: ignore[arg-type]
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    if not current:
        raise ConfigError("the database has no tables yet: run `flask --app wsgi db upgrade` first")
    if current != heads:
        raise ConfigError(
            f"the database is at migration {', '.join(sorted(current))} but this release needs "
            f"{', '.join(sorted(heads))}: run `flask --app wsgi db upgrade` (or go back to the release "
            "that matches the database)"
        )


def check_keyring_opens_database(keyring: crypto.Keyring, config: dict[str, object]) -> None:
    """Decrypt the oldest and the newest value of every protected column.

    A wrong keyring (another installation's, or a lost one replaced by a new one) would otherwise
    show only later, as a server error at every two-factor login.
    """
    from monitoring.core.db import db
    from monitoring.core.keyring import protected_columns

    where = "MONITORING_KEYRING" if config.get("KEYRING") else str(config.get("KEYRING_FILE"))
    for entry in protected_columns():
        column = getattr(entry.model, entry.column)
        for order in (entry.model.id.asc(), entry.model.id.desc()):
            row = db.session.execute(
                select(entry.model.id, column).where(column.is_not(None)).order_by(order).limit(1)
            ).first()
            if row is None:
                break
            row_id, blob = row
            try:
                keyring.decrypt(blob, table=entry.table, column=entry.column, row=row_id)
            except DecryptionError:
                key_id = _key_id(blob)
                raise ConfigError(
                    f"the keyring ({where}) cannot open {entry.table}.{entry.column} row {row_id} "
                    f"(key {key_id}): it is not the keyring this database was written with; restore the "
                    "right keyring (`flask --app wsgi keys verify` checks every value)"
                ) from None


def _key_id(blob: bytes) -> str:
    try:
        return crypto.key_id_of(blob)
    except DecryptionError:
        return "unknown"
