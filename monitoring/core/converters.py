"""URL converters: an id in a path is a whole number that fits the database's integers.

Every table's primary key and count column is an ``INTEGER``: 32 bits on PostgreSQL (SQLite
stores up to 64). Werkzeug's ``int`` converter takes any run of digits, and a number past
2^31 - 1 then fails in PostgreSQL ("integer out of range", so a 500) and one past 2^63 - 1 in
SQLite's driver. The converter registered here as ``int`` refuses such a path
before any view runs: no row can have that id, so the answer is the same 404 as for a missing one.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map, ValidationError

# The range of PostgreSQL's INTEGER, which every id and count column is; SQLite holds more, so
# the same bound keeps both databases answering alike.
MAX_INT = 2**31 - 1
MIN_INT = -(2**31)
_MAX_DIGITS = len(str(MAX_INT))


def at_most(limit: int) -> str:
    """A regular expression of the decimal numbers from 0 to ``limit`` (no leading zeros past its length)."""
    digits = str(limit)
    choices = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - i - 1
            choices.append(digits[:i] + f"[0-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    choices.append(digits)
    return "(?:" + "|".join(choices) + ")"


class BoundedIntegerConverter(IntegerConverter):
    """``<int:id>``: digits whose value fits the database's integers, else no match (404).

    The bound is in the regular expression too: werkzeug checks a rule's method before its
    converters, so a number refused only by ``to_python`` would make ``PATCH /x/<too big>``
    a 405 (the ``GET`` rule's pattern matched) instead of a 404.
    """

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, *args, **kwargs)
        if not self.signed and not self.fixed_digits:
            self.regex = at_most(MAX_INT)
        if self.max is None or self.max > MAX_INT:
            self.max = MAX_INT
        if self.min is None or self.min < MIN_INT:
            self.min = MIN_INT

    def to_python(self, value: str) -> Any:
        # Refuse a long run of digits before int() reads it: Python refuses more than 4,300
        # digits with a ValueError that werkzeug does not expect.
        if len(value.lstrip("-").lstrip("0")) > _MAX_DIGITS:
            raise ValidationError()
        return super().to_python(value)


def init_converters(app: Flask) -> None:
    """Use the bounded converter for every ``<int:...>`` rule; call before adding the rules."""
    app.url_map.converters["int"] = BoundedIntegerConverter
