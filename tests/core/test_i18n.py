"""Every catalog is complete; the locale follows the user, then the browser, then English."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask_babel import force_locale
from flask_babel import gettext as _

from monitoring.config import LOCALES, ROOT, WORKER_ONLY_LOCALES
from monitoring.core.i18n import negotiate
from tests.conftest import post_form

KEYWORDS = {
    "_": None,
    "gettext": None,
    "_l": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2),
}
METHOD_MAP = [("monitoring/**.py", "python"), ("monitoring/templates/**.html", "jinja2")]


def _worker_method_map() -> list[tuple[str, str]]:
    """The worker pages' sources, as listed in babel-worker.cfg."""
    sections = re.findall(r"^\[(\w+): ([^\]]+)\]", (ROOT / "babel-worker.cfg").read_text(), re.MULTILINE)
    return [(pattern.strip(), method) for method, pattern in sections]


def _source_messages(method_map: list[tuple[str, str]] = METHOD_MAP) -> set:
    """Extract the messages from the source now, so a new string without translation fails."""
    messages = set()
    jinja = {"extensions": "jinja2.ext.i18n"}
    options = {pattern: jinja for pattern, method in method_map if method == "jinja2"}
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, keywords=KEYWORDS, options_map=options
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            messages.add((msgid, context))
    return messages


SOURCE = _source_messages()
WORKER_SOURCE = _source_messages(_worker_method_map())


def test_extraction_finds_messages():
    assert ("Log in", None) in SOURCE
    assert len(SOURCE) > 50


def test_worker_pages_have_their_own_messages():
    assert WORKER_SOURCE < SOURCE
    assert ("Skip to main content", None) in WORKER_SOURCE


@pytest.mark.parametrize(
    ("locale", "source"),
    [*((code, "all") for code in LOCALES), *((code, "worker") for code in WORKER_ONLY_LOCALES)],
)
def test_catalog_is_complete(locale, source):
    """Interface languages translate everything; worker-only languages the worker pages."""
    messages = SOURCE if source == "all" else WORKER_SOURCE
    path = Path(ROOT, "translations", locale, "LC_MESSAGES", "messages.po")
    assert path.exists(), f"no catalog for {locale}"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    missing, fuzzy = [], []
    for msgid, context in messages:
        message = catalog.get(msgid, context=context)
        strings = message.string if message else None
        if not message or not (all(strings) if isinstance(strings, tuple) else strings):
            missing.append(msgid)
        elif message.fuzzy:
            fuzzy.append(msgid)
    assert missing == [], f"{locale}: {len(missing)} untranslated, e.g. {missing[:5]}"
    assert fuzzy == [], f"{locale}: fuzzy: {fuzzy[:5]}"
    problems = [(m.id, errors) for m, errors in catalog.check()]
    assert problems == [], f"{locale}: placeholders differ: {problems[:5]}"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (["zh-CN", "en"], "zh_Hans"),
        (["zh"], "zh_Hans"),
        (["th-TH"], "th"),
        (["sv-SE", "en"], "sv"),
        (["es-MX"], "es"),
        (["fr", "de"], "de"),
        (["de-AT", "en"], "de"),
        (["cs-CZ"], "cs"),
        (["no", "en"], "nb"),
        (["nb-NO"], "nb"),
        (["fr", "pt-BR"], None),
    ],
)
def test_browser_language_negotiation(accept, expected):
    assert negotiate(accept, LOCALES) == expected


def test_pages_follow_the_browser_language(app):
    response = app.test_client().get("/login", headers={"Accept-Language": "es-ES,es;q=0.9"})
    with app.test_request_context(), force_locale("es"):
        title = _("Log in")
    assert title != "Log in"
    assert title in response.get_data(as_text=True)
    assert 'lang="es"' in response.get_data(as_text=True)


def test_error_pages_are_translated(app):
    response = app.test_client().get("/nowhere", headers={"Accept-Language": "th"})
    assert response.status_code == 404
    with app.test_request_context(), force_locale("th"):
        title = _("Not found")
    assert title != "Not found" and title in response.get_data(as_text=True)


def test_anonymous_language_switch(app):
    client = app.test_client()
    response = post_form(client, "/language", {"locale": "sv", "next": "/login"}, form_page="/login")
    assert response.headers["Location"] == "/login"
    assert 'lang="sv"' in client.get("/login").get_data(as_text=True)


def test_user_setting_wins_over_the_browser(app, client_for, monitor):
    client = client_for(monitor)
    post_form(client, "/language", {"locale": "zh_Hans"}, form_page="/account")
    page = client.get("/account", headers={"Accept-Language": "th"}).get_data(as_text=True)
    assert 'lang="zh-Hans"' in page


def test_dates_are_formatted_per_locale(app):
    from datetime import UTC, datetime

    from flask_babel import format_date

    day = datetime(2026, 3, 5, tzinfo=UTC)
    with app.test_request_context(), force_locale("sv"):
        swedish = format_date(day, "long")
    with app.test_request_context(), force_locale("en"):
        english = format_date(day, "long")
    assert swedish == "5 mars 2026" and english == "March 5, 2026"


def test_catalogs_compile_to_working_mo_files(tmp_path: Path) -> None:
    """Our compile writes every catalog, and the catalogs are plain ones that `pybabel compile` takes."""
    import shutil
    import subprocess
    import sys

    from babel.support import Translations

    from monitoring.config import ROOT
    from monitoring.core.i18n import compile_catalogs

    source = ROOT / "translations" / "sv" / "LC_MESSAGES" / "messages.po"
    target = tmp_path / "sv" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(source, target / "messages.po")
    (result,) = compile_catalogs(tmp_path)
    assert result.locale == "sv" and result.written and result.translated == result.total > 0
    translations = Translations.load(str(tmp_path), ["sv"])
    assert translations.gettext("Log in") == "Logga in"
    assert translations.pgettext("case state", "Closed") == "Avslutat"
    # A second run keeps the .mo that is newer than its .po.
    assert not compile_catalogs(tmp_path)[0].written
    # pybabel compile skips a catalog whose header is missing or fuzzy; ours are neither.
    (target / "messages.mo").unlink()
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(tmp_path), "-l", "sv"],
        check=True,
        capture_output=True,
    )
    assert (target / "messages.mo").exists()


ALL_CATALOGS = [*LOCALES, *WORKER_ONLY_LOCALES]


@pytest.mark.parametrize("locale", ALL_CATALOGS)
def test_catalog_header_names_its_plural_rule(locale):
    """Without a Plural-Forms header Babel counts plurals by CLDR (3 for Spanish) and plurals go missing."""
    raw = Path(ROOT, "translations", locale, "LC_MESSAGES", "messages.po").read_text(encoding="utf-8")
    assert '"Plural-Forms: nplurals=' in raw.split("\n\n", 1)[0], f"{locale}: no Plural-Forms header"
    with Path(ROOT, "translations", locale, "LC_MESSAGES", "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    assert not catalog.fuzzy, f"{locale}: the header is marked fuzzy"
    for message in catalog:
        if isinstance(message.id, tuple):
            assert len(message.string) == catalog.num_plurals, f"{locale}: {message.id[0]}"


@pytest.mark.parametrize("locale", WORKER_ONLY_LOCALES)
def test_worker_catalog_header_is_the_locales_own(locale):
    """A worker-only catalog names its language and the plural rule `pybabel init` writes for it (CLDR's)."""
    from babel.messages.plurals import get_plural

    with Path(ROOT, "translations", locale, "LC_MESSAGES", "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    rule = get_plural(locale)
    assert catalog.mime_headers and dict(catalog.mime_headers)["Language"] == locale
    assert dict(catalog.mime_headers)["Plural-Forms"] == (
        f"nplurals={rule.num_plurals}; plural={rule.plural_expr};"
    ), locale


@pytest.mark.parametrize(
    ("count", "expected"), [(1, "Se agregó 1 hallazgo"), (2, "Se agregaron 2 hallazgos")]
)
def test_spanish_plurals_are_translated(app, count, expected):
    from flask_babel import ngettext

    with app.test_request_context(), force_locale("es"):
        text = ngettext(
            "%(num)d finding was added to the case.", "%(num)d findings were added to the case.", count
        )
    assert text.startswith(expected), text
