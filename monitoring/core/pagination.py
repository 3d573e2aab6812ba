"""Keyset pagination shared by HTML pages and the JSON API.

A page is read with ONE query: the keys of the last row seen (the cursor) become a WHERE
condition and ``limit + 1`` rows are fetched to learn whether another page follows. The
cursor is opaque to clients: the urlsafe base64 of a JSON list of key values.

The key columns must not be NULL and must end with a unique column (usually the id), so
the order is total and no row is skipped or repeated between pages.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, literal, or_, tuple_
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression
from sqlalchemy.types import TypeDecorator
from werkzeug.exceptions import BadRequest

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


class InvalidCursor(BadRequest):
    """The ``after`` cursor was not made by us for this list (HTTP 400)."""

    _monitoring_message = True  # the error handlers show this description to the user

    def __init__(self) -> None:
        # Lazy: translated when the error page or the JSON body is rendered.
        message = _l("This link to a page of results is not valid. Please start from the first page.")
        super().__init__(description=message)


@dataclass
class Page:
    """One page of results and the cursor of the next page (None on the last page)."""

    items: list[Any]
    next_cursor: str | None
    limit: int = field(default=DEFAULT_PAGE_SIZE)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


@dataclass(frozen=True)
class _Key:
    expr: ColumnElement[Any]
    descending: bool


def _keys(key_columns: Sequence[Any]) -> list[_Key]:
    keys = []
    for column in key_columns:
        if isinstance(column, UnaryExpression) and column.modifier in (operators.desc_op, operators.asc_op):
            keys.append(_Key(column.element, column.modifier is operators.desc_op))
        else:
            keys.append(
                _Key(column.__clause_element__() if hasattr(column, "__clause_element__") else column, False)
            )
    if not keys:
        raise ValueError("paginate() needs at least one key column")
    return keys


def page_size(limit: int | None) -> int:
    """Clamp a requested page size; None gives the configured default."""
    if limit is None:
        limit = (
            current_app.config.get("PAGE_SIZE", DEFAULT_PAGE_SIZE) if has_app_context() else DEFAULT_PAGE_SIZE
        )
    return max(1, min(int(limit), MAX_PAGE_SIZE))


def _python_type(expr: ColumnElement[Any]) -> Any:
    type_ = expr.type
    while isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    try:
        kind = type_.python_type
    except NotImplementedError:
        return None
    return None if kind is object else kind


def _encode_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _of_type(raw: Any, kinds: type | tuple[type, ...], what: str) -> Any:
    """``raw`` when it is one of ``kinds`` (a boolean never counts as a number)."""
    if not isinstance(raw, kinds) or (isinstance(raw, bool) and bool not in _as_tuple(kinds)):
        raise ValueError(what)
    return raw


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _decode_decimal(raw: Any) -> Decimal:
    value = Decimal(_of_type(raw, (str, int), "not a decimal"))
    # Finite and of a size a NUMERIC column can hold, so the database never overflows.
    if not value.is_finite() or abs(value.adjusted()) > 30:
        raise ValueError("not a usable decimal")
    return value


# How a cursor value is read back for each Python type of a key column (JSON has no dates).
_DECODERS: dict[type, Callable[[Any], Any]] = {
    datetime: lambda raw: datetime.fromisoformat(_of_type(raw, str, "not a datetime")),
    date: lambda raw: date.fromisoformat(_of_type(raw, str, "not a date")),
    bool: lambda raw: _of_type(raw, bool, "not a boolean"),
    int: lambda raw: _of_type(raw, int, "not an integer"),
    float: lambda raw: float(_of_type(raw, (int, float), "not a number")),
    str: lambda raw: _of_type(raw, str, "not a string"),
    Decimal: _decode_decimal,
}


def _decode_value(raw: Any, expr: ColumnElement[Any]) -> Any:
    kind = _python_type(expr)
    try:
        if raw is None:
            raise ValueError("NULL key")
        if kind is None:
            if isinstance(raw, dict | list):
                raise ValueError("not a scalar")
            return raw
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            return kind(raw)
        decoder = _DECODERS.get(kind)
        return decoder(raw) if decoder is not None else kind(raw)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise InvalidCursor() from exc


def encode_cursor(values: Sequence[Any]) -> str:
    """Turn key values into an opaque cursor."""
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, key_columns: Sequence[Any]) -> list[Any]:
    """Read a cursor back into key values of the right types; raise InvalidCursor if it is bad."""
    keys = _keys(key_columns)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidCursor() from exc
    if not isinstance(raw, list) or len(raw) != len(keys):
        raise InvalidCursor()
    return [_decode_value(value, key.expr) for value, key in zip(raw, keys, strict=True)]


def _after_condition(keys: list[_Key], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order given by ``keys``."""
    binds = [literal(v, type_=k.expr.type) for k, v in zip(keys, values, strict=True)]
    if len(keys) > 1 and all(k.descending == keys[0].descending for k in keys):
        # One row-value comparison, which both SQLite and PostgreSQL can serve from an index.
        left = tuple_(*(k.expr for k in keys))
        right = tuple_(*binds)
        return left < right if keys[0].descending else left > right
    # (a > x) OR (a = x AND b < y) OR ...: works for any mix of directions.
    clauses: list[ColumnElement[bool]] = []
    for i, key in enumerate(keys):
        equal = [keys[j].expr == binds[j] for j in range(i)]
        step = key.expr < binds[i] if key.descending else key.expr > binds[i]
        clauses.append(and_(*equal, step))
    return clauses[0] if len(clauses) == 1 else or_(*clauses)


def _ordered_page(
    session: Session | scoped_session[Any],
    query: Select[Any],
    keys: list[_Key],
    key_columns: Sequence[Any],
    after: str | None,
    size: int,
) -> tuple[list[Any], bool]:
    """``query`` ordered by ``keys``, after the cursor: up to ``size`` rows, and whether more follow.

    One more row than the page is fetched to learn whether another page follows; it is cut off.
    """
    ordered = query.order_by(None).order_by(*(k.expr.desc() if k.descending else k.expr.asc() for k in keys))
    if after:
        ordered = ordered.where(_after_condition(keys, decode_cursor(after, key_columns)))
    rows = list(session.execute(ordered.limit(size + 1)).all())
    return rows[:size], len(rows) > size


def paginate(
    session: Session | scoped_session[Any],
    query: Select[Any],
    *,
    key_columns: Sequence[Any],
    after: str | None = None,
    limit: int | None = None,
) -> Page:
    """Return one page of ``query`` ordered by ``key_columns``, starting after the cursor.

    ``key_columns`` are columns or ``column.desc()``; the last must be unique (the id).
    Any ORDER BY on ``query`` is replaced. Runs exactly one query. A query of one entity
    (``select(User)``) gives entities; a query of several columns gives rows.
    """
    keys = _keys(key_columns)
    size = page_size(limit)
    single = len(query.column_descriptions) == 1
    width = len(query.column_descriptions)
    paged = query.add_columns(*(k.expr for k in keys))
    rows, more = _ordered_page(session, paged, keys, key_columns, after, size)
    items = [row[0] if single else tuple(row[:width]) for row in rows]
    next_cursor = encode_cursor(list(rows[-1][width:])) if more and rows else None
    return Page(items=items, next_cursor=next_cursor, limit=size)


def paginate_keys_first(
    session: Session | scoped_session[Any],
    query: Select[Any],
    *,
    key_columns: Sequence[Any],
    after: str | None = None,
    limit: int | None = None,
) -> Page:
    """:func:`paginate` in two queries, for a query of one entity ordered by expressions.

    The first sorts only the key columns (small rows, however wide the entity's are: sealed
    columns, eager joins); the second loads the page's entities by the last key column, which
    must be the entity's primary key column. Same order, pages and cursors as :func:`paginate`.
    """
    keys = _keys(key_columns)
    size = page_size(limit)
    keyed = query.with_only_columns(*(k.expr for k in keys))
    rows, more = _ordered_page(session, keyed, keys, key_columns, after, size)
    ids = [row[-1] for row in rows]
    by_id: dict[Any, Any] = {}
    if ids:
        id_column = keys[-1].expr
        loaded = session.execute(query.order_by(None).where(id_column.in_(ids))).unique().scalars()
        by_id = {getattr(item, str(id_column.key)): item for item in loaded}
    items = [by_id[i] for i in ids if i in by_id]
    next_cursor = encode_cursor(list(rows[-1])) if more and rows else None
    return Page(items=items, next_cursor=next_cursor, limit=size)
