"""Base marshmallow schemas: input ``<Action>Args`` and output ``<Thing>Schema``.

marshmallow 4 has no schema context: per-request data (the current user, a role) is passed
explicitly, e.g. as a constructor argument or by choosing the schema in the handler.
"""

from __future__ import annotations

from datetime import UTC

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from monitoring.core.pagination import MAX_PAGE_SIZE


class BaseSchema(Schema):
    """Refuse fields we do not know, so a typo is an error rather than silently ignored."""

    class Meta:
        unknown = RAISE


class EmptyArgs(BaseSchema):
    """No input at all (used when a route declares no args)."""


class PageArgs(BaseSchema):
    """``limit`` and ``after`` of a keyset-paginated list."""

    limit = fields.Integer(
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
    code = fields.Integer(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": _l("Messages per input field, when the input was refused.")},
    )


class ErrorSchema(BaseSchema):
    """The body of every API error."""

    error = fields.Nested(ErrorDetailSchema, required=True)
