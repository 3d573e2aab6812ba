"""``flask`` command groups for operators: db, i18n, audit, jobs (features add their own)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from alembic import command as alembic
from flask import Flask, current_app
from flask.cli import AppGroup

from monitoring.config import ROOT
from monitoring.core.db import db

db_cli = AppGroup("db", help="Database migrations (Alembic).")
i18n_cli = AppGroup("i18n", help="Extract, update and compile translations.")
audit_cli = AppGroup("audit", help="The audit log.")
jobs_cli = AppGroup("jobs", help="Background jobs, meant for cron or a systemd timer.")
# Features add their importers to this group (``flask import facilities``, ``flask import survey``...).
import_cli = AppGroup("import", help="Import files: facility lists, disclosures, survey exports.")


def _alembic():
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


# --- translations ---------------------------------------------------------------------------

BABEL_CFG = ROOT / "babel.cfg"
POT = ROOT / "translations" / "messages.pot"


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True)  # noqa: S603


@i18n_cli.command("extract")
def i18n_extract() -> None:
    """Extract every translatable string into translations/messages.pot."""
    _pybabel(
        "extract",
        "-F",
        str(BABEL_CFG),
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "-k",
        "pgettext:1c,2",
        "--no-location",
        "--sort-output",
        "--omit-header",
        "-o",
        str(POT),
        str(ROOT),  # babel.cfg's patterns are relative to the project root
    )


@i18n_cli.command("update")
def i18n_update() -> None:
    """Merge messages.pot into every catalog, creating missing ones; English copies the source."""
    from monitoring.config import LOCALES

    for locale in LOCALES:
        po = ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            _pybabel(
                "update",
                "-i",
                str(POT),
                "-d",
                str(ROOT / "translations"),
                "-l",
                locale,
                "--no-fuzzy-matching",
                "--omit-header",
            )
        else:
            _pybabel("init", "-i", str(POT), "-d", str(ROOT / "translations"), "-l", locale)
    _fill_source_catalog(ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po")


def _fill_source_catalog(path: Path) -> None:
    """The source strings are English: the English catalog translates each to itself."""
    from babel.messages.pofile import read_po, write_po

    with path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):  # plural: singular and plural forms
            if not all(message.string):
                message.string = message.id
        elif not message.string:
            message.string = message.id
    with path.open("wb") as fh:
        write_po(fh, catalog, omit_header=True, sort_output=True, no_location=True)


@i18n_cli.command("compile")
def i18n_compile() -> None:
    """Compile the catalogs to .mo files."""
    _pybabel("compile", "-d", str(ROOT / "translations"), "--statistics")


@i18n_cli.command("init")
@click.argument("locale")
def i18n_init(locale: str) -> None:
    """Start a catalog for a new LOCALE."""
    _pybabel("init", "-i", str(POT), "-d", str(ROOT / "translations"), "-l", locale)


# --- audit ----------------------------------------------------------------------------------


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the hash chain; name the first broken entry."""
    from monitoring.core.audit import verify_chain

    result = verify_chain(str(current_app.config["AUDIT_KEY"]).encode())
    if result.ok:
        click.echo(f"audit log intact: {result.checked} entries verified")
        return
    click.echo(
        f"audit log BROKEN at entry {result.broken_id}: {result.reason} "
        f"({result.checked} entries before it verified)",
        err=True,
    )
    sys.exit(1)


# --- jobs -----------------------------------------------------------------------------------


@jobs_cli.command("run")
def jobs_run() -> None:
    """Run every due job once: purge expired sessions and old login attempts."""
    from monitoring.accounts.operations import purge_login_attempts
    from monitoring.core.sessions import purge_expired_sessions

    sessions = purge_expired_sessions(current_app)
    attempts = purge_login_attempts()
    db.session.commit()
    click.echo(f"purged {sessions} expired sessions and {attempts} old login attempts")


def register_cli(app: Flask) -> None:
    # Importing a feature's cli module adds its commands to the shared groups.
    import monitoring.supplychain.cli
    import monitoring.testimony.cli  # noqa: F401

    for group in (db_cli, i18n_cli, audit_cli, jobs_cli, import_cli):
        app.cli.add_command(group)
    from monitoring.accounts.cli import users_cli
    from monitoring.demo import demo_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
