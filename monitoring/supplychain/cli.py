"""``flask import facilities`` and ``flask import disclosures``.

The application adds them to its ``flask import`` group with :func:`register`; this module
never imports the application's command line.

Both read the file with a progress bar (by bytes read, then by rows written), apply it whole
or not at all, and on a refused file print the problems as a table and exit with status 1
without writing anything.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import func, select

from monitoring.accounts.models import Organisation, OrganisationKind, User
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.supplychain import imports
from monitoring.supplychain.permissions import can_import_disclosures

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


class BarProgress(imports.Progress):
    """Click progress bars on standard error: reading the file, then writing its rows."""

    def __init__(self, size: int) -> None:
        self.bar: Any = None
        self._open(size, "Checking")

    def _open(self, length: int, label: str) -> None:
        self.close()
        self.bar = click.progressbar(length=length, label=label, file=sys.stderr)
        self.bar.__enter__()

    def read(self, nbytes: int) -> None:
        self.bar.update(nbytes)

    def start_applying(self, rows: int) -> None:
        self._open(rows, "Saving")

    def applied(self, rows: int) -> None:
        self.bar.update(rows)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _fail(message: str) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(message)


def _print_refusal(exc: imports.ImportRefused) -> None:
    click.echo(exc.message, err=True)
    width = max([len("line"), *(len(str(e.line)) for e in exc.errors)])
    column_width = max([len("column"), *(len(e.column or "-") for e in exc.errors)])
    click.echo(f"{'line':>{width}}  {'column':<{column_width}}  problem", err=True)
    for error in exc.errors:
        click.echo(f"{error.line:>{width}}  {error.column or '-':<{column_width}}  {error.message}", err=True)


def _run(path: Path, action: Any) -> Any:
    """Run an import with progress bars; on a refusal print the problems and exit with 1."""
    # Outside a request there is no user to choose a language: messages use the default one.
    with force_locale(current_app.config["DEFAULT_LOCALE"]), path.open("rb") as stream:
        progress = BarProgress(path.stat().st_size)
        try:
            result = action(stream, progress)
        except imports.ImportRefused as exc:
            progress.close()
            db.session.rollback()
            _print_refusal(exc)
            sys.exit(1)
        except OperationError as exc:
            progress.close()
            raise _fail(str(exc.message)) from exc
        progress.close()
    db.session.commit()
    return result


@click.command("facilities")
@with_appcontext
@click.argument("file", type=FILE)
def import_facilities(file: Path) -> None:
    """Import a facility list in Open Supply Hub's CSV layout (UTF-8), whole or not at all."""
    result = _run(
        file,
        lambda stream, progress: imports.import_facilities(
            None, stream, filename=file.name, progress=progress
        ),
    )
    click.echo(
        f"imported {file.name}: {result.rows} rows, {result.created} sites created, "
        f"{result.updated} updated, {result.unchanged} unchanged, "
        f"{result.skipped_closed} closed facilities skipped, "
        f"{result.duplicates_proposed} likely duplicates proposed, "
        f"{result.names_added} other names added, "
        f"{result.repeats_merged} repeated rows merged into the row they repeat"
    )


@click.command("disclosures")
@with_appcontext
@click.argument("file", type=FILE)
@click.option("--supplier", "supplier_name", required=True, help="Name of the supplier organisation.")
@click.option("--user", "email", required=True, help="E-mail of the user the disclosures are made by.")
def import_disclosures(file: Path, supplier_name: str, email: str) -> None:
    """Import a supplier's disclosures from a CSV file (UTF-8), whole or not at all.

    The user must be a member of the supplier or a coordinator.
    """
    name = " ".join(supplier_name.split())
    supplier = db.session.scalar(
        select(Organisation).where(
            func.lower(Organisation.name) == name.lower(), Organisation.kind == OrganisationKind.supplier
        )
    )
    if supplier is None:
        raise _fail(f"no supplier organisation named {name!r}")
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active:
        raise _fail(f"no active user with the e-mail address {email!r}")
    if not can_import_disclosures(user, supplier):
        raise _fail(
            f"{user.email} may not disclose for {supplier.name!r}: use a member of it or a coordinator"
        )
    result = _run(
        file,
        lambda stream, progress: imports.import_disclosures(
            user, supplier, stream, filename=file.name, progress=progress
        ),
    )
    click.echo(
        f"imported {file.name} for {supplier.name}: {result.rows} rows, "
        f"{result.created} disclosures created, {result.unchanged} already disclosed, "
        f"{result.sites_created} sites created, "
        f"{result.duplicates_proposed} likely duplicates proposed"
    )


def register(import_group: click.Group) -> None:
    """Add the registry's importers to the application's ``flask import`` group."""
    import_group.add_command(import_facilities)
    import_group.add_command(import_disclosures)
