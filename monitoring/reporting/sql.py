"""Dialect-neutral SQL helpers for the figures: durations in seconds and the calendar day of a time.

SQLite keeps UTC datetimes as text (see ``core.types.UTCDateTime``); PostgreSQL as timestamps with
a time zone. Each helper compiles to the right expression for both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement


class seconds_between(FunctionElement[float]):
    """Seconds from the first datetime to the second (NULL when either is NULL)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"

    def __init__(self, start: Any, end: Any) -> None:
        super().__init__(start, end)


@compiles(seconds_between)
def _seconds_default(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


class utc_day(FunctionElement[Any]):
    """The UTC calendar day of a datetime, comparable with a Date column."""

    type = Date()
    inherit_cache = True
    name = "utc_day"

    def __init__(self, moment: Any) -> None:
        super().__init__(moment)


@compiles(utc_day)
def _day_default(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(({moment} AT TIME ZONE 'UTC') AS DATE)"


@compiles(utc_day, "sqlite")
def _day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date({moment})"
