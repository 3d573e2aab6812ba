"""``flask i18n …``: extract, update and compile the translation catalogs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from monitoring.config import ROOT

i18n_cli = AppGroup("i18n", help="Extract, update and compile translations.")

BABEL_CFG = ROOT / "babel.cfg"
POT = ROOT / "translations" / "messages.pot"
WORKER_BABEL_CFG = ROOT / "babel-worker.cfg"
WORKER_POT = ROOT / "translations" / "worker.pot"


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True)  # noqa: S603


def _extract(config: Path, output: Path) -> None:
    _pybabel(
        "extract",
        "-F",
        str(config),
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "-k",
        "pgettext:1c,2",
        "-k",
        "lazy_pgettext:1c,2",
        "--no-location",
        "--sort-output",
        "--omit-header",
        "-o",
        str(output),
        str(ROOT),  # the configs' patterns are relative to the project root
    )


@i18n_cli.command("extract")
def i18n_extract() -> None:
    """Extract the strings into messages.pot (everything) and worker.pot (worker pages)."""
    _extract(BABEL_CFG, POT)
    _extract(WORKER_BABEL_CFG, WORKER_POT)


@i18n_cli.command("update")
def i18n_update() -> None:
    """Merge the templates into every catalog, creating missing ones; English copies the source.

    Interface languages get every message; worker-only languages get the worker pages' messages.
    Each catalog keeps its header: its ``Plural-Forms`` says how many forms its plurals have, and
    without it Babel falls back to CLDR's count (three for Spanish) and the catalog reads as
    incomplete.
    """
    from monitoring.config import LOCALES, WORKER_ONLY_LOCALES

    for template, locales in ((POT, LOCALES), (WORKER_POT, WORKER_ONLY_LOCALES)):
        for locale in locales:
            po = ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po"
            if po.exists():
                _pybabel(
                    "update",
                    "-i",
                    str(template),
                    "-d",
                    str(ROOT / "translations"),
                    "-l",
                    locale,
                    "--no-fuzzy-matching",
                    "--ignore-pot-creation-date",
                )
            else:
                _pybabel("init", "-i", str(template), "-d", str(ROOT / "translations"), "-l", locale)
                _house_header(po, locale)
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
            forms = message.string
            if not isinstance(forms, tuple | list) or not all(forms):
                message.string = message.id
        elif not message.string:
            message.string = message.id
    with path.open("wb") as fh:
        write_po(fh, catalog, sort_output=True, no_location=True)


@i18n_cli.command("compile")
@click.option("--force", is_flag=True, help="Also compile catalogs whose .mo is newer than the .po.")
def i18n_compile(force: bool) -> None:
    """Compile the catalogs to .mo files (fuzzy and untranslated messages are left out)."""
    from monitoring.core.i18n import compile_catalogs

    for result in compile_catalogs(ROOT / "translations", force=force):
        state = "compiled" if result.written else "up to date"
        click.echo(f"{result.locale}: {result.translated} of {result.total} messages translated, {state}")


@i18n_cli.command("init")
@click.argument("locale")
def i18n_init(locale: str) -> None:
    """Start a catalog for a new LOCALE."""
    _pybabel("init", "-i", str(POT), "-d", str(ROOT / "translations"), "-l", locale)
    _house_header(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po", locale)


def _house_header(path: Path, locale: str) -> None:
    """Replace the placeholders ``pybabel init`` writes (PROJECT, FIRST AUTHOR ...) by ours.

    The plural forms stay those Babel derives from CLDR for the locale, so the header and what
    Babel expects agree.
    """
    from babel.messages.pofile import read_po, write_po

    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    catalog.project = "monitoring"
    catalog.version = "0.1"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "the monitoring contributors"
    catalog.language_team = locale
    catalog.header_comment = (
        f"# {locale} translations of the monitoring interface.\n"
        "# Distributed under the same licence as the monitoring project\n"
        "# (AGPL-3.0-or-later)."
    )
    with path.open("wb") as fh:
        write_po(fh, catalog, sort_output=True, no_location=True)
