"""Plumbing of the JSON API: route declarations, input parsing, pagination and OpenAPI.

A route is declared once with :func:`route`, under an access declaration from
:mod:`monitoring.core.auth`::

    @route("/organisations", method="POST", summary=_l("Create an organisation"),
           args=CreateOrganisationArgs, response=OrganisationSchema, status=201)
    @roles(UserRole.admin)
    def create_organisation(args: dict) -> Organisation:
        ...

The declaration registers the Flask view on the ``api`` blueprint and records what the
OpenAPI document needs. The wrapper parses the input through the ``Args`` schema (JSON body,
or the query string for GET) and passes it as ``args``; it dumps what the handler returns
with the response schema (a :class:`~monitoring.core.pagination.Page` for paginated
routes, ``(obj, status)`` to change the status, or a ready ``Response``). An
``OperationError`` becomes a 422 naming the field.

A route that takes a file declares ``raw_body=True``: the wrapper leaves the body unread (so
the view can refuse an over-large one before reading it, see :mod:`monitoring.core.uploads`)
and the view parses its input itself; ``args``, if given, only documents the body, in the
schema's ``content_type`` (e.g. ``multipart/form-data``). A route whose body is the file itself
declares ``raw_body="application/octet-stream"`` (documented as binary) and ``query=`` for the
schema of its query parameters. A route that may answer 429 declares ``throttled=True``.

Text the database cannot store is refused before any schema sees it: a JSON string (or a query
or path parameter) with a NUL character or an unpaired UTF-16 surrogate (``"\\ud800"``, which
JSON allows and UTF-8 cannot encode) is a 400 naming the field.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from marshmallow import Schema, ValidationError
from sqlalchemy import Select

from monitoring.core.auth import Access, access_of, public
from monitoring.core.converters import MAX_INT
from monitoring.core.db import db
from monitoring.core.errors import MESSAGES, ApiError
from monitoring.core.operations import OperationError
from monitoring.core.pagination import InvalidCursor, Page
from monitoring.core.pagination import paginate as paginate_query
from monitoring.core.roles import UserRole
from monitoring.core.schemas import EmptyArgs, ErrorSchema, PageArgs, dump

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

API_PREFIX = "/api/v1"
OPENAPI_VERSION = "3.1.0"

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)


@dataclass(frozen=True)
class ApiRoute:
    """What the OpenAPI document says about one route."""

    rule: str  # relative to API_PREFIX, in Flask syntax
    method: str
    endpoint: str
    summary: Any
    description: Any
    args: type[Schema] | None
    response: type[Schema] | Schema | None
    status: int
    paginated: bool
    access: Access
    tag: str
    query: type[Schema] | None = None
    body_type: str | None = None  # a raw body's media type, documented as binary
    throttled: bool = False
    also: tuple[int, ...] = ()  # other success statuses with the same body (202: waits for consent)
    produces: tuple[str, ...] = ()  # media types of a file answer (an export), documented as binary

    @property
    def path(self) -> str:
        return API_PREFIX + self.rule


# Every declared route, in declaration order.
routes: list[ApiRoute] = []


def route(
    rule: str,
    *,
    method: str = "GET",
    summary: Any,
    description: Any = None,
    args: type[Schema] | None = None,
    response: type[Schema] | Schema | None = None,
    status: int = 200,
    paginated: bool = False,
    tag: str | None = None,
    raw_body: bool | str = False,
    query: type[Schema] | None = None,
    throttled: bool = False,
    also: tuple[int, ...] = (),
    produces: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Register an API view on the ``api`` blueprint and record it for the OpenAPI document.

    Place it above the access declaration (``@roles``, ``@authenticated`` or ``@public``).
    With ``raw_body`` the view reads the request itself and gets no ``args``; a media type as
    ``raw_body`` documents the body as a file of that type. ``query`` only documents the query
    parameters of such a view; ``throttled`` documents its 429. ``produces`` names the media
    types of a view that answers a file (an export) instead of JSON.
    """
    method = method.upper()
    if paginated and not (args and issubclass(args, PageArgs)):
        raise ValueError(f"paginated route {rule} needs args derived from PageArgs")
    if raw_body and method in ("GET", "HEAD"):
        raise ValueError(f"{method} {rule} has no body to leave unread")

    def decorator(view: F) -> F:
        if any(r.rule == rule and r.method == method for r in routes):
            raise RuntimeError(f"{method} {rule} is declared twice")
        access = access_of(view)
        if access is None:
            raise RuntimeError(
                f"{view.__name__}: declare access (@roles, @authenticated or @public) below @route"
            )
        schema_cls = args or EmptyArgs
        response_schema = response() if isinstance(response, type) else response

        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            refuse_unstorable_text(kwargs)
            if not raw_body:
                parsed = parse_args(schema_cls)
                if args is not None:
                    kwargs["args"] = parsed
            try:
                result = view(**kwargs)
            except OperationError as exc:
                raise operation_error(exc) from exc
            return make_response(result, response_schema, status, paginated)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        routes.append(
            ApiRoute(
                rule=rule,
                method=method,
                endpoint=f"{bp.name}.{view.__name__}",
                summary=summary,
                description=description,
                args=args,
                response=response,
                status=status,
                paginated=paginated,
                access=access,
                tag=tag or _feature_of(view),
                query=query,
                body_type=raw_body if isinstance(raw_body, str) else None,
                throttled=throttled,
                also=also,
                produces=produces,
            )
        )
        return wrapper  # type: ignore[return-value]

    return decorator


def _feature_of(view: Callable[..., Any]) -> str:
    """The feature a view belongs to (``monitoring.<feature>.api``), used as its OpenAPI tag."""
    parts = view.__module__.split(".")
    return parts[1] if len(parts) > 2 else parts[-1]


# --- input --------------------------------------------------------------------------------------


def request_data() -> dict[str, Any]:
    """The raw input: the query string for GET, else the JSON body (empty body: {})."""
    if request.method in ("GET", "HEAD"):
        return refuse_unstorable_text(request.args.to_dict(flat=True))
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    data = request.get_json(force=True, silent=True)
    if data is None:
        raise ApiError(400, _("The request body is not valid JSON."))
    if not isinstance(data, dict):
        raise ApiError(422, _("The request body must be a JSON object."))
    # NUL and lone surrogates reach a JSON string only as \u escapes: no escape, nothing to check.
    return refuse_unstorable_text(data) if b"\\u" in raw else data


def unstorable_text(value: Any, path: str = "") -> str | None:
    """The path of the first text in ``value`` that no database stores, or None.

    That is a NUL character (PostgreSQL refuses it) or an unpaired UTF-16 surrogate such as
    ``"\\ud800"`` (JSON allows it; UTF-8, hence every column and every cipher, cannot encode it).
    """
    if isinstance(value, str):
        return None if "\x00" not in value and _encodable(value) else path
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and unstorable_text(key) is not None:
            return where
        found = unstorable_text(item, where)
        if found is not None:
            return found
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def refuse_unstorable_text(data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data``, or refuse it (400 naming the field) if a text in it cannot be stored."""
    field = unstorable_text(data)
    if field is not None:
        message = _(
            "This text contains a character that cannot be stored: a NUL character or an "
            "unpaired surrogate such as \\ud800."
        )
        raise ApiError(400, message, {field: [message]})
    return data


def parse_args(schema: type[Schema] | Schema, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Load the request's input (or ``data``) through ``schema``; a 422 lists the field errors."""
    instance = schema() if isinstance(schema, type) else schema
    try:
        return instance.load(request_data() if data is None else data)
    except ValidationError as exc:
        raise ApiError(422, str(MESSAGES[422]), translate_errors(exc.messages)) from exc


def operation_error(exc: OperationError, rename: dict[str, str] | None = None) -> ApiError:
    """Turn an operation's refusal into a 422 naming the (API) field."""
    message = str(exc.message)
    field = (rename or {}).get(exc.field or "", exc.field)
    return ApiError(422, message, {field: [message]} if field else None)


_EXACT_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Unknown field.": _l("This field is not allowed here."),
    "Field may not be null.": _l("This field may not be empty."),
    "Invalid input type.": _l("This value has the wrong type."),
    "Invalid type.": _l("This value has the wrong type."),
    "Invalid value.": _l("This value is not valid."),
    "Not a valid string.": _l("Not a valid text."),
    "Not a valid integer.": _l("Not a valid whole number."),
    "Not a valid number.": _l("Not a valid number."),
    "Number too large.": _l("This number is too large."),
    "Not a valid boolean.": _l("Not a valid true or false value."),
    "Not a valid datetime.": _l("Not a valid date and time (use ISO 8601, e.g. 2025-01-31T12:00:00Z)."),
    "Not a valid date.": _l("Not a valid date (use ISO 8601, e.g. 2025-01-31)."),
    "Not a valid email address.": _l("Not a valid e-mail address."),
    "Not a valid list.": _l("Not a valid list."),
    "Not a valid mapping type.": _l("Not a valid object."),
}

_PATTERN_MESSAGES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Must be one of: (.*)\.$"), lambda m: _("Must be one of: %(choices)s.", choices=m[1])),
    (
        re.compile(r"^Longer than maximum length (\d+)\.$"),
        lambda m: _("At most %(num)s characters.", num=m[1]),
    ),
    (
        re.compile(r"^Shorter than minimum length (\d+)\.$"),
        lambda m: _("At least %(num)s characters.", num=m[1]),
    ),
    (
        re.compile(r"^Length must be between (\d+) and (\d+)\.$"),
        lambda m: _("Between %(min)s and %(max)s characters.", min=m[1], max=m[2]),
    ),
    (re.compile(r"^Not a valid .+\.$"), lambda m: _("This value is not valid.")),
]


def translate_message(message: Any) -> str:
    """Show a marshmallow message in the user's language (ours are lazy strings already)."""
    if not isinstance(message, str):
        return str(message)
    if message in _EXACT_MESSAGES:
        return str(_EXACT_MESSAGES[message])
    for pattern, make in _PATTERN_MESSAGES:
        match = pattern.match(message)
        if match:
            return make(match)
    return message


def translate_errors(messages: Any) -> Any:
    """Translate every message in marshmallow's nested ``{field: [messages]}`` structure."""
    if isinstance(messages, dict):
        return {str(key): translate_errors(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [translate_errors(m) for m in messages]
    return translate_message(messages)


# --- output -------------------------------------------------------------------------------------


class Dumped(list[Any]):
    """A page's items that its handler has already put in the form its response schema dumps
    (a list read as plain columns and written out as it is read); a test of the handler compares
    them with the schema's own dump."""


def make_response(result: Any, schema: Schema | None, status: int, paginated: bool) -> Any:
    """Dump a handler's result with the route's response schema."""
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    if status == 204:
        return Response(status=204)
    if schema is None:
        raise RuntimeError(f"{request.endpoint} returned data but declares no response schema")
    if paginated:
        if not isinstance(result, Page):
            raise RuntimeError(f"{request.endpoint} is paginated but did not return a Page")
        items = result.items if isinstance(result.items, Dumped) else dump(schema, result.items, many=True)
        body: Any = {"items": items, "next": result.next_cursor}
    else:
        body = dump(schema, result)
    response = jsonify(body)
    response.status_code = status
    return response


def paginate(query: Select[Any], order_columns: Sequence[Any], after: str | None, limit: int | None) -> Page:
    """One page of ``query`` for an API list; a bad ``after`` cursor is a 422 on that field."""
    try:
        return paginate_query(db.session, query, key_columns=order_columns, after=after, limit=limit)
    except InvalidCursor as exc:
        raise cursor_refused(exc) from exc


def cursor_refused(exc: InvalidCursor) -> ApiError:
    """A bad ``after`` cursor: a 422 on that field."""
    message = str(exc.description)
    return ApiError(422, message, {"after": [message]})


# --- OpenAPI ------------------------------------------------------------------------------------

_RULE_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}

_ERROR_RESPONSES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    413: "TooLarge",
    422: "InvalidInput",
    429: "TooManyRequests",
}


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """Turn a Flask rule into an OpenAPI path and its path parameters."""
    parameters = []
    for match in _RULE_VARIABLE.finditer(rule):
        schema = _CONVERTER_SCHEMAS.get(match["converter"] or "", {"type": "string"})
        parameters.append({"name": match["name"], "in": "path", "required": True, "schema": dict(schema)})
    return _RULE_VARIABLE.sub(lambda m: "{" + m["name"] + "}", rule), parameters


def _has_required(schema: type[Schema]) -> bool:
    return any(f.required for f in schema().fields.values())


def _operation(item: ApiRoute, has_path_params: bool) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": item.endpoint.split(".", 1)[1],
        "summary": str(item.summary),
        "tags": [item.tag],
        "responses": {},
    }
    if item.description:
        operation["description"] = str(item.description)
    if item.access.public:
        operation["security"] = []
    else:
        operation["security"] = [{"bearerAuth": []}]
        operation["x-roles"] = sorted(item.access.roles or ())
    if item.access.password_confirmed:
        # Only a web session with a freshly typed password may do it: every bearer token gets 403.
        operation["x-password-confirmed"] = True
    operation.update(_inputs(item))
    # A 204 answer has a description and no content.
    success: dict[str, Any] = {"description": str(_("Success"))}
    if item.status != 204 and item.paginated:
        success["content"] = {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": item.response},
                        "next": {
                            "type": ["string", "null"],
                            "description": _("Pass it as `after` for the next page; null on the last page."),
                        },
                    },
                    "required": ["items", "next"],
                }
            }
        }
    elif item.produces:
        binary = {"schema": {"type": "string", "format": "binary"}}
        success["content"] = {media_type: binary for media_type in item.produces}
    elif item.status != 204 and item.response is not None:
        success["content"] = {"application/json": {"schema": item.response}}
    operation["responses"][str(item.status)] = success
    for code in item.also:
        operation["responses"][str(code)] = success
    errors = _error_codes(item, has_path_params)
    for code in sorted(errors):
        operation["responses"][str(code)] = _ERROR_RESPONSES[code]
    return operation


def _inputs(item: ApiRoute) -> dict[str, Any]:
    """The ``parameters`` (query) and ``requestBody`` of an operation."""
    inputs: dict[str, Any] = {}
    if item.args is not None:
        if item.method == "GET":
            inputs["parameters"] = [{"in": "query", "schema": item.args}]
        else:
            inputs["requestBody"] = {
                "required": _has_required(item.args),
                # An args schema may name another body type (file uploads: multipart/form-data).
                "content": {getattr(item.args, "content_type", "application/json"): {"schema": item.args}},
            }
    if item.query is not None:
        inputs["parameters"] = [{"in": "query", "schema": item.query}]
    if item.body_type is not None:
        inputs["requestBody"] = {
            "required": True,
            "content": {item.body_type: {"schema": {"type": "string", "format": "binary"}}},
        }
    return inputs


def _error_codes(item: ApiRoute, has_path_params: bool) -> list[int]:
    """The error statuses an operation may answer."""
    # 400: a body that is not JSON, or text no database stores (in a body, query or path).
    errors = [400, 422]
    if item.body_type is not None or _is_upload(item):
        errors.append(413)
    if item.throttled:
        errors.append(429)
    if not item.access.public:
        errors.append(401)
    if item.access.password_confirmed:
        errors.append(403)
    if has_path_params or (item.access.roles is not None and len(item.access.roles) < _all_roles()):
        errors.append(404)
    return errors


def _is_upload(item: ApiRoute) -> bool:
    return item.args is not None and getattr(item.args, "content_type", None) == "multipart/form-data"


def _all_roles() -> int:
    return len(UserRole)


def build_openapi() -> dict[str, Any]:
    """Build the OpenAPI document of every declared route, in the current language."""
    spec = APISpec(
        title="Monitoring API",
        version="1",
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        info={
            "description": str(
                _(
                    "Case management for worker-driven monitoring of electronics supply chains. "
                    "Authenticate with a personal API token: Authorization: Bearer <token>."
                )
            )
        },
        servers=[{"url": "/"}],
    )
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": str(_("A personal API token."))}
    )
    spec.components.schema("Error", schema=ErrorSchema)
    for code, name in _ERROR_RESPONSES.items():
        response: dict[str, Any] = {
            "description": str(MESSAGES[code]),
            "content": {"application/json": {"schema": "Error"}},
        }
        if code == 429:
            response["headers"] = {
                "Retry-After": {
                    "description": str(_("Seconds to wait before trying again.")),
                    "schema": {"type": "integer", "minimum": 0},
                }
            }
        spec.components.response(name, response)
    by_path: dict[str, dict[str, Any]] = {}
    path_parameters: dict[str, list[dict[str, Any]]] = {}
    for item in routes:
        path, parameters = openapi_path(item.path)
        path_parameters[path] = parameters
        by_path.setdefault(path, {})[item.method.lower()] = _operation(item, bool(parameters))
    for path, operations in by_path.items():
        spec.path(path=path, operations=operations, parameters=path_parameters[path] or None)
    return _plain(spec.to_dict())


def _plain(value: Any) -> Any:
    """Turn the lazy strings of schema metadata into text, so the document is plain JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, LazyString):
        return str(value)
    return value


@route("/openapi.json", summary=_l("This OpenAPI document"), tag="meta")
@public
def openapi_document() -> Any:
    cache: dict[str, Any] = current_app.extensions.setdefault("monitoring.openapi", {})
    locale = str(get_locale() or "en")
    if locale not in cache:
        cache[locale] = build_openapi()
    return jsonify(cache[locale])
