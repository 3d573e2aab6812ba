"""Languages: locale selection, lazy strings and the language list."""

from __future__ import annotations

from babel import Locale, negotiate_locale
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_babel import gettext as _  # noqa: F401 - re-exported for features
from flask_babel import lazy_gettext as _l  # noqa: F401
from flask_login import current_user

from monitoring.config import LOCALES, WORKER_LOCALES

babel = Babel()

# Browser tags that should land on a catalog whose name differs.
ALIASES = {"zh": "zh_Hans", "zh_cn": "zh_Hans", "zh_sg": "zh_Hans", "zh_hans_cn": "zh_Hans"}


# Blueprints whose pages are for workers without an account, offered in WORKER_LOCALES.
WORKER_BLUEPRINTS = frozenset({"report"})


def is_worker_page() -> bool:
    return has_request_context() and request.blueprint in WORKER_BLUEPRINTS


def available_locales() -> tuple[str, ...]:
    if is_worker_page():
        return tuple(current_app.config.get("WORKER_LOCALES", WORKER_LOCALES))
    return tuple(current_app.config.get("LOCALES", LOCALES))


def negotiate(accept: list[str], available: tuple[str, ...]) -> str | None:
    """Pick the best catalog for a list of browser language tags, most preferred first."""
    preferred = [tag.replace("-", "_") for tag in accept]
    return negotiate_locale(preferred, list(available), sep="_", aliases=ALIASES)


def select_locale() -> str:
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


def language_choices() -> list[tuple[str, str]]:
    """Each available locale with its own name for itself."""
    return [(code, Locale.parse(code).get_display_name(code).capitalize()) for code in available_locales()]


def html_lang() -> str:
    return str(get_locale() or "en").replace("_", "-")


def init_i18n(app: Flask) -> None:
    app.config.setdefault("LOCALES", LOCALES)
    babel.init_app(app, locale_selector=select_locale, default_timezone="UTC")
    app.jinja_env.globals.update(
        language_choices=language_choices, html_lang=html_lang, get_locale=get_locale
    )
