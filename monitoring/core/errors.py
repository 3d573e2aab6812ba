"""Error pages and JSON errors, in the user's language."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from monitoring.core.db import db

logger = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request could not be understood. Please check what you sent and try again."),
    401: _l("You need to log in to use this."),
    403: _l("This request was refused."),
    404: _l("This page does not exist, or you do not have access to it."),
    405: _l("This action is not available here."),
    413: _l("What you sent is too large."),
    422: _l("Some of what you sent is not valid."),
    429: _l("Too many attempts. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. Nothing was saved. Please try again later."),
}

TITLES = {
    400: _l("Bad request"),
    401: _l("Login required"),
    403: _l("Refused"),
    404: _l("Not found"),
    405: _l("Not allowed"),
    413: _l("Too large"),
    422: _l("Invalid input"),
    429: _l("Too many attempts"),
    500: _l("Server error"),
}


class ApiError(HTTPException):
    """An API error with a machine-readable body (e.g. field errors)."""

    def __init__(self, code: int, message: str, errors: Any = None) -> None:
        super().__init__(description=message)
        self.code = code
        self.errors = errors


def field_errors(errors: Any, path: str = "") -> dict[str, list[str]]:
    """Messages per input field as ``{field: [message, ...]}``, as the OpenAPI document says.

    marshmallow nests the messages of nested objects and list items (``{"site": {"name": [...]}}``,
    ``{"ids": {0: [...]}}``): their keys are joined with dots (``site.name``, ``ids.0``). A lone
    message, or a list of them, belongs to the input as a whole (``_schema``, as in marshmallow).
    """
    flat: dict[str, list[str]] = {}

    def add(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                add(item, f"{where}.{key}" if where else str(key))
        elif isinstance(value, list | tuple):
            for item in value:
                add(item, where)
        else:
            flat.setdefault(where or "_schema", []).append(str(value))

    add(errors, path)
    return flat


def error_response(code: int, message: str | None = None, errors: Any = None) -> Any:
    message = str(message or MESSAGES.get(code, MESSAGES[500]))
    if request.path.startswith("/api/"):
        body: dict[str, Any] = {"error": {"code": code, "message": message}}
        if errors is not None:
            body["error"]["errors"] = field_errors(errors)
        response = jsonify(body)
        response.status_code = code
        if code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    if request.path.startswith("/static/"):
        # Static files have no session (so no CSRF token for the page's language form): a
        # missing stylesheet gets a plain answer instead of an error page that cannot render.
        return Response(message, status=code, mimetype="text/plain")
    title = TITLES.get(code, TITLES[500])
    return render_template("errors/error.html", code=code, title=title, message=message), code


def init_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        db.session.rollback()
        return error_response(
            400, str(_l("The form expired or was sent from elsewhere. Please reload the page and try again."))
        )

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Any:
        db.session.rollback()
        return error_response(exc.code or 400, exc.description, exc.errors)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        db.session.rollback()
        code = exc.code or 500
        # Only our own messages reach the user; werkzeug's English defaults do not.
        custom = exc.description if getattr(exc, "_monitoring_message", False) else None
        response = make_response(error_response(code, custom))
        # Keep what the exception says in its headers: Allow (405), Retry-After (429, 503).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        db.session.rollback()
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(InternalServerError.code)
