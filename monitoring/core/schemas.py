"""Base marshmallow schemas: input ``<Action>Args`` and output ``<Thing>Schema``.

marshmallow 4 has no schema context: per-request data (the current user, a role) is passed
explicitly, e.g. as a constructor argument or by choosing the schema in the handler.
"""

from __future__ import annotations

import decimal
import re
from datetime import UTC
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from monitoring.core.converters import MAX_INT, MIN_INT
from monitoring.core.pagination import MAX_PAGE_SIZE

# How a decimal amount is written: digits, optionally a point and more digits (no exponent).
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_DECIMAL = re.compile(DECIMAL_PATTERN)


class Integer(fields.Integer):
    """A whole number that fits the database's integers (32 bits); a larger one is refused (422).

    Every schema uses it instead of marshmallow's unbounded ``fields.Integer``: an id or a count
    past 2^31 - 1 would otherwise reach PostgreSQL and fail there (a 500). A field's own
    ``validate=Range(...)`` still applies; the OpenAPI document shows the narrower bounds.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(
            validate.Range(
                min=MIN_INT,
                max=MAX_INT,
                error=_l("Must be between %(min)d and %(max)d.", min=MIN_INT, max=MAX_INT),
            )
        )


class DecimalString(fields.Decimal):
    """An exact decimal amount (money, a rate), returned as a string such as ``"1250.50"``.

    JSON numbers are binary floating point, so amounts go out as strings; in the OpenAPI document
    the field is a string with a decimal pattern. Input may be such a string or a JSON number; a
    string in another notation (an exponent, spaces) is refused.
    """

    def __init__(self, places: int, **kwargs: Any) -> None:
        metadata = {"pattern": DECIMAL_PATTERN, **kwargs.pop("metadata", {})}
        if kwargs.get("dump_only"):
            metadata.setdefault("type", "string")
        else:
            metadata.setdefault("type", ["string", "number"])
        super().__init__(places=places, as_string=True, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> decimal.Decimal:
        if isinstance(value, bool) or (isinstance(value, str) and not _DECIMAL.match(value)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class BaseSchema(Schema):
    """Refuse fields we do not know, so a typo is an error rather than silently ignored."""

    class Meta:
        unknown = RAISE


class EmptyArgs(BaseSchema):
    """No input at all (used when a route declares no args)."""


class PageArgs(BaseSchema):
    """``limit`` and ``after`` of a keyset-paginated list."""

    limit = Integer(
        validate=validate.Range(
            min=1,
            max=MAX_PAGE_SIZE,
            error=_l("Must be between %(min)d and %(max)d.", min=1, max=MAX_PAGE_SIZE),
        ),
        metadata={"description": _l("Page size, at most %(max)d.", max=MAX_PAGE_SIZE)},
    )
    after = fields.String(
        validate=validate.Length(max=1000),
        metadata={"description": _l("The `next` cursor of the previous page.")},
    )


class TimeRangeArgs(BaseSchema):
    """``since`` and ``until`` as ISO 8601 datetimes (UTC when no offset is given)."""

    since = fields.AwareDateTime(default_timezone=UTC)
    until = fields.AwareDateTime(default_timezone=UTC)

    @validates_schema
    def _check_range(self, data: dict, **kwargs: object) -> None:
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise ValidationError(_l("The end must not be before the start."), "until")


class ErrorDetailSchema(BaseSchema):
    code = Integer(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": _l("Messages per input field, when the input was refused.")},
    )


class ErrorSchema(BaseSchema):
    """The body of every API error."""

    error = fields.Nested(ErrorDetailSchema, required=True)
