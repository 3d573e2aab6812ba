"""``flask import survey``: a KoboToolbox CSV export becomes sealed reports.

The file is checked whole first; a refused file prints its problems as a table (line, column,
problem) and exits with status 1 without writing anything. Otherwise the rows are sealed with
a progress bar and committed once (the command is one transaction: the application's CLI
wraps it). See :mod:`monitoring.testimony.survey` for the layout.

The application's CLI adds the command to its ``import`` group with :func:`register`; this
module imports nothing of it (testimony is below the application).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import func, select

from monitoring.accounts.models import Organisation, User
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.testimony import survey

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _fail(message: str) -> click.ClickException:
    return click.ClickException(message)


def _print_refusal(exc: survey.SurveyRefused) -> None:
    click.echo(
        f"the file was refused; nothing was imported ({len(exc.errors) + exc.more} problems)", err=True
    )
    lines = [str(e.line) if e.line is not None else "-" for e in exc.errors]
    width = max([len("line"), *(len(line) for line in lines)])
    column_width = max([len("column"), *(len(e.column or "-") for e in exc.errors)])
    click.echo(f"{'line':>{width}}  {'column':<{column_width}}  problem", err=True)
    for line, error in zip(lines, exc.errors, strict=True):
        click.echo(f"{line:>{width}}  {error.column or '-':<{column_width}}  {error.message}", err=True)
    if exc.more:
        click.echo(f"... and {exc.more} more", err=True)


@click.command("survey")
@with_appcontext
@click.argument("path", metavar="FILE", type=FILE)
@click.option("--organisation", "organisation_name", required=True, help="The monitor organisation.")
@click.option("--user", "email", required=True, help="E-mail address of the monitor who imports.")
@click.option("--site", "site_ref", default="", help="Open Supply Hub id or number of the site of every row.")
@click.option("--language", default="", help="Language of rows without a `language` answer (default: en).")
def import_survey(path: Path, organisation_name: str, email: str, site_ref: str, language: str) -> None:
    """Seal every row of a KoboToolbox CSV export (XML values and headers) as a report."""
    organisation = db.session.scalar(
        select(Organisation).where(
            func.lower(Organisation.name) == " ".join(organisation_name.split()).lower()
        )
    )
    if organisation is None:
        raise _fail(f"no organisation named {organisation_name!r}")
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise _fail(f"no user with the e-mail address {email!r}")
    site = survey.find_site(site_ref) if site_ref else None
    if site_ref and site is None:
        raise _fail(f"no site with the Open Supply Hub id or number {site_ref!r}")
    # Outside a request there is no user to choose a language: messages use the default one.
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        try:
            survey.check_can_import(user, organisation)
            rows = survey.parse_survey(path.read_bytes(), site=site, default_language=language or "en")
            with click.progressbar(length=len(rows), label="Sealing reports", file=sys.stderr) as bar:
                result = survey.import_rows(user, organisation, rows, site=site, progress=bar.update)
        except survey.SurveyRefused as exc:
            _print_refusal(exc)
            sys.exit(1)
        except OperationError as exc:
            raise _fail(str(exc.message)) from exc
    click.echo(
        f"imported {result.rows} reports (survey import {result.id}) for {organisation.name}; "
        f"{result.skipped} answers imported before were skipped"
    )


def register(import_group: click.Group) -> None:
    """Add testimony's commands to the application's ``flask import`` group."""
    import_group.add_command(import_survey)
