"""Languages and time zones: selection, lazy strings, the language list, the formats of dates and numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock_time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import flask_babel
from babel import Locale, negotiate_locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.dates import get_datetime_format, get_time_format, parse_pattern
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, get_locale, get_translations
from flask_babel import gettext as _  # noqa: F401 - re-exported for features
from flask_babel import lazy_gettext as _l  # noqa: F401
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from monitoring.config import LOCALES, WORKER_LOCALES
from monitoring.core.time_zones import is_time_zone

babel = Babel()

# Browser tags that should land on a catalog whose name differs (used only when that catalog is
# offered): Chinese in simplified script, Norwegian, Filipino and Indonesian under their old tags.
ALIASES = {
    "zh": "zh_Hans",
    "zh_cn": "zh_Hans",
    "zh_sg": "zh_Hans",
    "zh_hans_cn": "zh_Hans",
    "no": "nb",
    "nn": "nb",
    "tl": "fil",
    "in": "id",
}


# Blueprints whose pages are for workers without an account, offered in WORKER_LOCALES.
WORKER_BLUEPRINTS = frozenset({"report"})


def is_worker_page() -> bool:
    return has_request_context() and request.blueprint in WORKER_BLUEPRINTS


def staff_locales() -> tuple[str, ...]:
    """The languages of the whole interface (``LOCALES``): what an account's language may be."""
    return tuple(current_app.config.get("LOCALES", LOCALES))


def available_locales() -> tuple[str, ...]:
    if is_worker_page():
        return tuple(current_app.config.get("WORKER_LOCALES", WORKER_LOCALES))
    return staff_locales()


def negotiate(accept: list[str], available: tuple[str, ...]) -> str | None:
    """Pick the best catalog for a list of browser language tags, most preferred first."""
    preferred = [tag.replace("-", "_") for tag in accept]
    return negotiate_locale(preferred, list(available), sep="_", aliases=ALIASES)


def select_locale() -> Locale:
    """The reader's locale, one ``Locale`` object per language for the whole process.

    Flask-Babel would parse a new one on every request; the same object lets the caches below
    (dates, numbers, titles) find it by identity, and Babel loads its data once.
    """
    return _locale(_select_locale_code())


@lru_cache(maxsize=64)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def _select_locale_code() -> str:
    if not has_request_context():  # the command line, jobs
        return current_app.config["DEFAULT_LOCALE"]
    available = available_locales()
    if is_worker_page():
        # Worker pages carry the language in ?lang= on every link (see testimony.public).
        asked = request.args.get("lang")
        if asked in available:
            return asked
    elif current_user and current_user.is_authenticated and current_user.locale in available:
        return current_user.locale
    chosen = session.get("locale") if session is not None else None
    if chosen in available:
        return chosen
    accept = [value for value, _q in request.accept_languages] if request else []
    return negotiate(accept, available) or current_app.config["DEFAULT_LOCALE"]


# A zone forced for a while (an e-mail rendered for its recipient), over the reader's own.
_forced_zone: ContextVar[str | None] = ContextVar("forced_zone", default=None)


def select_timezone() -> str | None:
    """The reader's time zone: the signed-in user's; None (UTC) for workers and the command line."""
    forced = _forced_zone.get()
    if forced is not None:
        return forced
    if not has_request_context() or is_worker_page():
        return None
    if current_user and current_user.is_authenticated:
        zone = getattr(current_user, "time_zone_name", None)
        if is_time_zone(zone):
            return str(zone)
    return None


@contextmanager
def force_timezone(zone: str | None) -> Iterator[None]:
    """Show times in ``zone`` inside the block (like Flask-Babel's ``force_locale``)."""
    token = _forced_zone.set(zone if is_time_zone(zone) else None)
    flask_babel.refresh()
    try:
        yield
    finally:
        _forced_zone.reset(token)
        flask_babel.refresh()


def time_zone_label() -> str:
    """The name of the zone times are shown in now, e.g. ``Asia/Bangkok`` or ``UTC``."""
    zone = flask_babel.get_timezone()
    return str(getattr(zone, "zone", None) or zone or "UTC")


def language_choices() -> list[tuple[str, str]]:
    """Each available locale with its own name for itself."""
    return list(_own_names(available_locales()))


@lru_cache(maxsize=8)
def _own_names(codes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # On every page, and Babel reads each locale's data to name it.
    return tuple((code, (Locale.parse(code).get_display_name(code) or code).capitalize()) for code in codes)


def html_lang() -> str:
    return str(get_locale() or "en").replace("_", "-")


def html_dir() -> str:
    """The page's writing direction, ``rtl`` for Urdu and the other right-to-left scripts."""
    locale = current_locale()
    return _direction(locale) if locale is not None else "ltr"


@lru_cache(maxsize=256)
def _direction(locale: Locale) -> str:
    return "rtl" if locale.text_direction == "rtl" else "ltr"


# --- messages in templates -------------------------------------------------------------------
# A list page asks for a few hundred messages. Flask-Babel finds the catalog anew for each (the
# context, the domain, the locale and its name: a dozen lookups through ``g``), and Jinja's i18n
# extension adds two context calls around it; these look the catalog up once per locale.


def current_locale() -> Locale | None:
    """Flask-Babel's ``get_locale()``, read straight from its per-context choice once made."""
    try:
        locale = g._flask_babel.babel_locale
    except (AttributeError, RuntimeError):  # not chosen yet, or no app context
        return get_locale()
    return locale if locale is not None else get_locale()  # None: to be chosen again


def current_translations() -> NullTranslations:
    """Flask-Babel's ``get_translations()`` for the current locale, remembered for the context."""
    locale = current_locale()
    try:
        remembered, translations = g._monitoring_translations
    except AttributeError:
        remembered = translations = None
    except RuntimeError:  # no app context: Flask-Babel's untranslated messages
        return get_translations()
    if remembered is not locale or translations is None:
        translations = get_translations()
        g._monitoring_translations = (locale, translations)
    return translations


def _formatted(eval_ctx: EvalContext, message: str, variables: dict[str, Any]) -> str:
    # As Jinja's newstyle gettext (which Flask-Babel installs): a message is always a format
    # string; under autoescape it is trusted (our catalogs) and its variables are escaped.
    if eval_ctx.autoescape:
        return Markup(message) % variables  # noqa: S704
    return message % variables


@pass_eval_context
def _jinja_gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
    return _formatted(eval_ctx, current_translations().ugettext(string), variables)


@pass_eval_context
def _jinja_ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _formatted(eval_ctx, current_translations().ungettext(singular, plural, num), variables)


@pass_eval_context
def _jinja_pgettext(eval_ctx: EvalContext, context: str, string: str, /, **variables: Any) -> str:
    variables.setdefault("context", context)
    return _formatted(eval_ctx, current_translations().upgettext(context, string), variables)


@pass_eval_context
def _jinja_npgettext(
    eval_ctx: EvalContext, context: str, singular: str, plural: str, num: int, /, **variables: Any
) -> str:
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    return _formatted(eval_ctx, current_translations().unpgettext(context, singular, plural, num), variables)


# --- formats ----------------------------------------------------------------------------------
# One way to show a date and one to show a number on every page, in the reader's language: the
# templates use the ``date`` and ``number`` filters, never Flask-Babel's own format filters.


def format_when(value: date | datetime | None, *, time: bool = False) -> str:
    """A date in the locale's medium form; a datetime adds its short time with ``time=True``.

    A datetime is shown in the reader's time zone (the day of a UTC timestamp may differ from
    it), and its time is labelled with the zone: "Dec 7, 2026, 2:05 PM (Asia/Bangkok)". Worker
    pages show dates only.
    """
    if value is None:
        return ""
    locale = current_locale()
    if locale is None:  # no app context: Babel's own default locale
        return _format_when_slowly(value, time=time)
    shown = flask_babel.to_user_timezone(value) if isinstance(value, datetime) else value
    day = _format_day(shown.date() if isinstance(shown, datetime) else shown, locale)
    if not time or not isinstance(shown, datetime) or is_worker_page():
        return day
    if _clock_by_minute(locale):
        clock = _format_clock(shown.hour, shown.minute, locale)
    else:
        clock = flask_babel.format_time(value, "short")
    joined = _datetime_pattern(locale).replace("{0}", clock).replace("{1}", day)
    return f"{joined} ({time_zone_label()})"


def _format_when_slowly(value: date | datetime, *, time: bool) -> str:
    day = flask_babel.format_date(value, "medium")
    if not time or not isinstance(value, datetime) or is_worker_page():
        return day
    clock = flask_babel.format_time(value, "short")
    joined = _datetime_pattern(Locale.parse("en")).replace("{0}", clock).replace("{1}", day)
    return f"{joined} ({time_zone_label()})"


@lru_cache(maxsize=8192)
def _format_day(day: date, locale: Locale) -> str:
    # Babel finds the locale's pattern and parses it on every call; a page shows a few days, often.
    return babel_format_date(day, "medium", locale=locale)


@lru_cache(maxsize=256)
def _clock_by_minute(locale: Locale) -> bool:
    """Whether the locale's short time shows only the hour, the minute and the time of day."""
    fields = re.findall(r"%\((\w+)\)", str(parse_pattern(get_time_format("short", locale=locale)).format))
    return {name[0] for name in fields} <= set("hHkKmaBb")


@lru_cache(maxsize=8192)
def _format_clock(hour: int, minute: int, locale: Locale) -> str:
    return babel_format_time(clock_time(hour, minute), "short", locale=locale)


@lru_cache(maxsize=256)
def _datetime_pattern(locale: Locale) -> str:
    # The locale's own way of joining a date and a time ("{1}, {0}", "{1} {0}", "{1}'T'{0}"...).
    return str(get_datetime_format("medium", locale=locale)).replace("'", "")


def format_number(value: int | float | Decimal | None) -> str:
    """A count or amount with the locale's digit grouping ("1,200", "1.200", "1 200")."""
    if value is None:
        return ""
    if type(value) is int:  # counts: the same few numbers on every page, each formatted once
        return _format_int(value, current_locale() or Locale.parse("en"))
    return flask_babel.format_decimal(value)


@lru_cache(maxsize=8192)
def _format_int(value: int, locale: Locale) -> str:
    # Babel parses the locale's pattern on every call: a tenth of a millisecond a number.
    return format_decimal(value, locale=locale)


@dataclass(frozen=True)
class Compiled:
    locale: str
    translated: int
    total: int
    written: bool  # False when the .mo was newer than its .po


def compile_catalogs(directory: Path, *, force: bool = False) -> list[Compiled]:
    """Compile each ``<locale>/LC_MESSAGES/messages.po`` below ``directory`` to its ``.mo``.

    Each catalog's header names its plural rule, which goes into the ``.mo``; this compiles every
    catalog and leaves out only fuzzy or untranslated messages. A ``.mo`` newer than its ``.po`` is kept
    unless ``force``.
    """
    results = []
    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        locale = po.parent.parent.name
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        messages = [m for m in catalog if m.id]
        translated = sum(1 for m in messages if not m.fuzzy and all(_strings(m.string)))
        mo = po.with_suffix(".mo")
        stale = force or not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime
        if stale:
            with mo.open("wb") as fh:
                write_mo(fh, catalog)
        results.append(Compiled(locale, translated, len(messages), stale))
    return results


def _strings(value: object) -> tuple[object, ...]:
    return value if isinstance(value, tuple) else (value,)


def init_i18n(app: Flask) -> None:
    app.config.setdefault("LOCALES", LOCALES)
    babel.init_app(
        app, locale_selector=select_locale, timezone_selector=select_timezone, default_timezone="UTC"
    )
    app.jinja_env.globals.update(
        language_choices=language_choices,
        html_lang=html_lang,
        html_dir=html_dir,
        get_locale=current_locale,
        time_zone_label=time_zone_label,
        # Over Flask-Babel's (Jinja's i18n extension): the same messages, the catalog looked up once.
        _=_jinja_gettext,
        gettext=_jinja_gettext,
        ngettext=_jinja_ngettext,
        pgettext=_jinja_pgettext,
        npgettext=_jinja_npgettext,
    )
    app.jinja_env.filters.update(date=format_when, number=format_number)


def main() -> int:
    """``python -m monitoring.core.i18n``: compile every catalog without an app or its settings.

    Installs and upgrades compile before the configuration exists; ``flask i18n compile`` does the
    same from a configured app.
    """
    from monitoring.config import ROOT

    for result in compile_catalogs(ROOT / "translations"):
        state = "compiled" if result.written else "up to date"
        print(f"{result.locale}: {result.translated} of {result.total} messages translated, {state}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
