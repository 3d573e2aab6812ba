"""Rendering the anonymous worker pages: the worker's language, and pages never cached.

The language is chosen with ``?lang=`` (carried on every link and form action, so no cookie
is needed for it) or negotiated from the browser; see :mod:`.public` for the pages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from babel import Locale
from flask import Response, make_response, render_template, request, url_for
from flask_babel import force_locale

from monitoring.config import WORKER_LOCALES
from monitoring.core.i18n import negotiate

F = TypeVar("F", bound=Callable[..., Any])


# --- language --------------------------------------------------------------------------------


def worker_locale() -> str:
    """The worker's language: ``?lang=``, else the browser's preference, else English."""
    chosen = request.args.get("lang", "")
    if chosen in WORKER_LOCALES:
        return chosen
    accept = [value for value, _quality in request.accept_languages]
    return negotiate(accept, WORKER_LOCALES) or "en"


def _language_links(endpoint: str, args: dict[str, Any]) -> list[tuple[str, str, str]]:
    links = []
    for code in WORKER_LOCALES:
        name = Locale.parse(code).get_display_name(code) or code
        links.append((code, name[:1].upper() + name[1:], url_for(endpoint, **{**args, "lang": code})))
    return links


def render(
    template: str,
    *,
    status: int = 200,
    languages_for: tuple[str, dict[str, Any]] | None = None,
    **context: Any,
) -> Response:
    """Render a worker page in the worker's language, never to be cached.

    ``languages_for`` is the page (endpoint, arguments) the language links lead to; by
    default the page itself, for GET pages. ``languages_for=("", {})`` shows no chooser.
    """
    lang = worker_locale()
    if languages_for is None:
        # The page itself, fetched again (a POST answer's links lead to the same page's GET).
        rule = request.url_rule
        if rule is not None and request.endpoint and "GET" in (rule.methods or ()):
            args = {**(request.view_args or {}), **request.args.to_dict(flat=True)}
            languages_for = (request.endpoint, args)
        else:
            languages_for = ("report.start", {})
    with force_locale(lang):
        endpoint, args = languages_for
        languages = _language_links(endpoint, args) if endpoint else []
        html = render_template(template, lang=lang, languages=languages, **context)
    response = make_response(html, status)
    return response


def worker_page(view: F) -> F:
    """Run the view in the worker's language."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with force_locale(worker_locale()):
            return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
