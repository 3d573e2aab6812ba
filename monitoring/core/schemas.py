"""Base marshmallow schemas: input ``<Action>Args`` and output ``<Thing>Schema``.

marshmallow 4 has no schema context: per-request data (the current user, a role) is passed
explicitly, e.g. as a constructor argument or by choosing the schema in the handler.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from datetime import UTC
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, missing, utils, validate, validates_schema

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


# --- dumping fast ---------------------------------------------------------------------------------

# A field's plan: (output key, attribute read, the field, its serialiser of a value, or None to
# call the field's own ``serialize``). A schema's plan: its field plans, or None when the schema
# has dump hooks or its own attribute access (then marshmallow dumps it itself).
_FieldPlan = tuple[str, str, fields.Field, Any]
_PLAN = "_monitoring_dump_plan"


def _int_value(field: fields.Field) -> Any:
    def serialise(value: Any, attr: str, obj: Any) -> Any:
        if type(value) is int:
            return value
        return field._serialize(value, attr, obj)

    return serialise


def _str_value(field: fields.Field) -> Any:
    def serialise(value: Any, attr: str, obj: Any) -> Any:
        if type(value) is str:
            return value
        return field._serialize(value, attr, obj)

    return serialise


def _bool_value(field: fields.Field) -> Any:
    def serialise(value: Any, attr: str, obj: Any) -> Any:
        if type(value) is bool:
            return value
        return field._serialize(value, attr, obj)

    return serialise


def _nested_value(field: fields.Nested) -> Any:
    def serialise(value: Any, attr: str, obj: Any) -> Any:
        if value is None:
            return None
        schema = field.schema
        return dump(schema, value, many=bool(schema.many or field.many))

    return serialise


def _list_value(field: fields.List) -> Any:
    inner = _value_serialiser(field.inner)

    def serialise(value: Any, attr: str, obj: Any) -> Any:
        if value is None:
            return None
        return [inner(each, attr, obj) for each in value]

    return serialise


def _enum_value(field: fields.Enum) -> Any:
    members = field.enum

    def serialise(value: Any, attr: str, obj: Any) -> Any:
        if type(value) is members:
            return value.value  # by value, through a Raw field: the value itself
        return field._serialize(value, attr, obj)

    return serialise


def _iso_value(field: fields.Field) -> Any:
    kind = dt.datetime if isinstance(field, fields.DateTime) else dt.date

    def serialise(value: Any, attr: str, obj: Any) -> Any:
        if type(value) is kind:
            return value.isoformat()
        return field._serialize(value, attr, obj)

    return serialise


def _value_serialiser(field: fields.Field) -> Any:
    """How the field turns a value into JSON data: exactly its ``_serialize``, with shortcuts."""
    kind = type(field)
    if kind is fields.Enum and field.by_value is True:  # type: ignore[attr-defined]
        return _enum_value(field)  # type: ignore[arg-type]
    if kind in (fields.DateTime, fields.AwareDateTime, fields.Date) and field.format in ("iso", "iso8601"):  # type: ignore[attr-defined]
        return _iso_value(field)
    if kind is fields.Nested:
        return _nested_value(field)  # type: ignore[arg-type]
    if kind is fields.List:
        return _list_value(field)  # type: ignore[arg-type]
    if kind in (fields.Integer, Integer) and not field.as_string:  # type: ignore[attr-defined]
        return _int_value(field)
    if kind is fields.String:
        return _str_value(field)
    if kind is fields.Boolean:
        return _bool_value(field)
    return field._serialize


def _plan(schema: Schema) -> list[_FieldPlan] | None:
    plan = schema.__dict__.get(_PLAN, False)
    if plan is not False:
        return plan
    plan = None
    own_access = type(schema).get_attribute is not Schema.get_attribute
    if not (schema._hooks["pre_dump"] or schema._hooks["post_dump"] or own_access):
        plan = []
        for name, field in schema.dump_fields.items():
            attr = name if field.attribute is None else field.attribute
            key = name if field.data_key is None else field.data_key
            # A dotted attribute, or a field that reads no attribute: the field does it all.
            simple = (
                field._CHECK_ATTRIBUTE
                and "." not in attr
                and type(field).get_value is fields.Field.get_value
                and type(field).serialize is fields.Field.serialize
            )
            plan.append((key, attr, field, _value_serialiser(field) if simple else None))
    schema.__dict__[_PLAN] = plan
    return plan


def _dump_one(schema: Schema, plan: list[_FieldPlan], obj: Any) -> dict[str, Any]:
    result = schema.dict_class()
    if type(obj) is dict or hasattr(obj, "__getitem__"):

        def read(attr: str) -> Any:
            return utils.get_value(obj, attr, missing)
    else:

        def read(attr: str) -> Any:
            return getattr(obj, attr, missing)

    for key, attr, field, serialise in plan:
        if serialise is None:
            value = field.serialize(attr, obj, accessor=schema.get_attribute)
            if value is missing:
                continue
        else:
            value = read(attr)
            if value is missing:
                default = field.dump_default
                value = default() if callable(default) else default
                if value is missing:
                    continue
            value = serialise(value, attr, obj)
        result[key] = value
    return result


def dump(schema: Schema, obj: Any, *, many: bool | None = None) -> Any:
    """``schema.dump(obj, many=many)``, with the same result, several times faster.

    marshmallow's dump goes through several calls per field of every row (the accessor, the
    field's ``serialize``, ``get_value`` and a dotted-path split); an API list of 50 rows pays
    that a thousand times. The plan of each schema (which attribute, which key, which
    serialiser) is made once; schemas with dump hooks or their own attribute access, and
    fields that read no attribute or a dotted one, are left to marshmallow.
    """
    plan = _plan(schema)
    if plan is None:
        return schema.dump(obj, many=many)
    many = schema.many if many is None else bool(many)
    if many and obj is not None:
        return [_dump_one(schema, plan, item) for item in obj]
    return _dump_one(schema, plan, obj)  # as marshmallow does, None with many=True too
