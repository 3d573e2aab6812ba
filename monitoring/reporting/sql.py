"""Dialect-neutral SQL helpers for the figures and the exports: durations in seconds, the calendar day
of a time, and times and days as the text the exports write.

SQLite keeps UTC datetimes as text (see ``core.types.UTCDateTime``); PostgreSQL as timestamps with
a time zone. Each helper compiles to the right expression for both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Float, String
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


class utc_minutes(FunctionElement[str]):
    """A UTC datetime as the text ``YYYY-MM-DD HH:MM`` (what the exports write), made by the database."""

    type = String()
    inherit_cache = True
    name = "utc_minutes"

    def __init__(self, moment: Any) -> None:
        super().__init__(moment)


@compiles(utc_minutes)
def _minutes_default(element: utc_minutes, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"to_char(({moment} AT TIME ZONE 'UTC'), 'YYYY-MM-DD HH24:MI')"


@compiles(utc_minutes, "sqlite")
def _minutes_sqlite(element: utc_minutes, compiler: SQLCompiler, **kw: Any) -> str:
    # UTCDateTime keeps naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]", on SQLite.
    (moment,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"substr({moment}, 1, 16)"


class day_text(FunctionElement[str]):
    """A date as the text ``YYYY-MM-DD``, made by the database."""

    type = String()
    inherit_cache = True
    name = "day_text"

    def __init__(self, day: Any) -> None:
        super().__init__(day)


@compiles(day_text)
def _day_text_default(element: day_text, compiler: SQLCompiler, **kw: Any) -> str:
    (day,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"to_char({day}, 'YYYY-MM-DD')"


@compiles(day_text, "sqlite")
def _day_text_sqlite(element: day_text, compiler: SQLCompiler, **kw: Any) -> str:
    (day,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return day
