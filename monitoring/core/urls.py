"""``url_for`` in templates: a list's fifty links to one endpoint built once, the id put in.

Werkzeug builds each URL by finding the endpoint's rules, checking each one's arguments and
converting the values: a few microseconds a link, a tenth of a list page's rendering. A link
with one whole-number argument (``url_for('cases.case', case_id=row.id)``) differs from the
next only in the number, so the first builds the URL's two sides for the request and the others
put their number between them; any other call is Flask's ``url_for``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from werkzeug.routing import BuildError

# Numbers whose URLs show the shape of an endpoint's URL around its argument: a converter that
# writes a number otherwise (padded, encoded) shows a different shape for one of them.
_PROBES = (7, 1234567891, 2000000003)


def url_for(endpoint: str, **values: Any) -> str:
    """Flask's ``url_for``, faster for one whole-number argument."""
    if len(values) == 1 and endpoint[:1] != ".":
        ((name, value),) = values.items()
        if type(value) is int and name[:1] != "_":
            shape = _shape(endpoint, name)
            if shape is not None:
                return f"{shape[0]}{value}{shape[1]}"
    return current_app.url_for(endpoint, **values)


def _shape(endpoint: str, name: str) -> tuple[str, str] | None:
    """The URL of ``endpoint`` before and after its argument ``name``, for this request."""
    try:
        shapes: dict[tuple[str, str], tuple[str, str] | None] = request.__dict__.setdefault("_url_shapes", {})
    except RuntimeError:  # no request (a command, a job): as Flask builds it
        return None
    key = (endpoint, name)
    if key not in shapes:
        shapes[key] = _probe(endpoint, name)
    return shapes[key]


def _probe(endpoint: str, name: str) -> tuple[str, str] | None:
    try:
        rules = list(current_app.url_map.iter_rules(endpoint))
    except KeyError:  # no such endpoint: Flask's BuildError
        return None
    if any(rule.defaults for rule in rules):  # a rule chosen for one number only
        return None
    found = set()
    for number in _PROBES:
        try:
            probe: dict[str, Any] = {name: number}
            url = current_app.url_for(endpoint, **probe)
        except BuildError:
            return None
        text = str(number)
        if url.count(text) != 1:
            return None
        before, after = url.split(text)
        found.add((before, after))
    return found.pop() if len(found) == 1 else None


def init_urls(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = url_for
