"""Reading an import file: results and refusals, the CSV stream, the values of a row."""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from monitoring.supplychain.matching import (
    OS_ID_PATTERN,
    is_country_code,
    workers_from_text,
)

logger = logging.getLogger(__name__)

MAX_LISTED_ERRORS = 100
MAX_LINE_BYTES = 1024 * 1024


# --- results and refusals -------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem in a file. ``message`` is a lazy string: it is translated when shown."""

    line: int
    column: str | None
    message: Any

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": str(self.message)}


class ImportRefused(Exception):
    """The file was refused; nothing was written. ``errors`` holds the first problems."""

    def __init__(self, errors: list[RowError], total: int) -> None:
        super().__init__(f"{total} problems in the file")
        self.errors = errors
        self.total = total

    @property
    def message(self) -> str:
        """What happened, in the user's language."""
        if self.total > len(self.errors):
            return str(
                _l(
                    "The file was not imported: %(total)d problems were found, the first %(shown)d "
                    "are listed. Nothing was saved.",
                    total=self.total,
                    shown=len(self.errors),
                )
            )
        return ngettext(
            "The file was not imported: %(num)d problem was found. Nothing was saved.",
            "The file was not imported: %(num)d problems were found. Nothing was saved.",
            self.total,
        )


@dataclass
class FacilityImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_closed: int = 0
    duplicates_proposed: int = 0
    names_added: int = 0


@dataclass
class DisclosureImportResult:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    sites_created: int = 0
    duplicates_proposed: int = 0


class Progress:
    """Told how far an import got; the command line draws progress bars from it."""

    def read(self, nbytes: int) -> None:
        """``nbytes`` more bytes of the file were read."""

    def start_applying(self, rows: int) -> None:
        """Checking is done; ``rows`` rows will now be written."""

    def applied(self, rows: int) -> None:
        """``rows`` more rows were written."""


class ErrorLog:
    """The first problems of a file, in line order, and how many there were in all."""

    def __init__(self, limit: int = MAX_LISTED_ERRORS) -> None:
        self.limit = limit
        self.errors: list[RowError] = []
        self.total = 0

    def add(self, line: int, column: str | None, message: Any) -> None:
        self.total += 1
        if len(self.errors) < self.limit:
            self.errors.append(RowError(line, column, message))

    def merge(self, errors: list[RowError], total: int) -> None:
        """Add problems found elsewhere (each source lists its first ones, by line)."""
        self.total += total
        self.errors = sorted([*self.errors, *errors], key=lambda e: e.line)[: self.limit]

    def refuse(self) -> ImportRefused:
        return ImportRefused(sorted(self.errors, key=lambda e: e.line), self.total)


# --- reading CSV ----------------------------------------------------------------------------


def _header_name(text: str) -> str:
    return " ".join(text.strip().casefold().split())


def _nul_message(line: int) -> Any:
    return _l("Line %(line)d contains a NUL character: is this a CSV file in UTF-8?", line=line)


class CsvFile:
    """The records of a CSV file read line by line from a binary stream, strictly as UTF-8.

    Decoding line by line (a UTF-8 byte sequence never contains a newline byte) names the
    line that is not UTF-8. A BOM at the start is allowed.
    """

    def __init__(self, stream: IO[bytes], errors: ErrorLog, progress: Progress) -> None:
        self.stream = stream
        self.errors = errors
        self.progress = progress
        self.stopped = False

    def _lines(self) -> Iterator[str]:
        number = 0
        while True:
            raw = self.stream.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            self.progress.read(len(raw))
            if len(raw) > MAX_LINE_BYTES:
                self.errors.add(
                    number,
                    None,
                    _l("Line %(line)d is longer than %(max)d bytes.", line=number, max=MAX_LINE_BYTES),
                )
                self.stopped = True
                return
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                self.errors.add(
                    number,
                    None,
                    _l(
                        "Line %(line)d is not UTF-8 text (byte 0x%(byte)s at position %(position)d). "
                        "Save the file as CSV in UTF-8 (in Excel: “CSV UTF-8”).",
                        line=number,
                        byte=raw[exc.start : exc.start + 1].hex(),
                        position=exc.start + 1,
                    ),
                )
                line = raw.decode("utf-8", errors="replace")
            if "\x00" in line:
                # A binary file, or UTF-16: PostgreSQL cannot store the character either.
                self.errors.add(number, None, _nul_message(number))
                line = line.replace("\x00", "")
            yield line

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """Each non-blank record with the line it starts on."""
        reader = csv.reader(self._lines())
        start = 1
        try:
            for record in reader:
                line, start = start, reader.line_num + 1
                if any(cell.strip() for cell in record):
                    yield line, record
        except csv.Error as exc:
            if "NUL" in str(exc):
                message = _nul_message(start)
            elif "field limit" in str(exc):
                message = _l("Line %(line)d has a value that is too long.", line=start)
            else:
                message = _l("Line %(line)d cannot be read as CSV: check its quotes.", line=start)
            self.errors.add(start, None, message)
            self.stopped = True


@dataclass
class Header:
    """Where each known column is; ``width`` is the number of header cells."""

    columns: dict[str, int]
    width: int

    def has(self, name: str) -> bool:
        return name in self.columns

    def value(self, record: list[str], name: str) -> str:
        index = self.columns.get(name)
        if index is None or index >= len(record):
            return ""
        return record[index].strip()


def read_header(
    records: Iterator[tuple[int, list[str]]],
    errors: ErrorLog,
    required: tuple[str, ...],
    one_of: tuple[tuple[str, ...], ...] = (),
    together: tuple[tuple[str, ...], ...] = (),
) -> Header | None:
    """Read the header record; log what is wrong with it and return None if it is unusable.

    ``one_of``: groups of which at least one column is needed; ``together``: groups whose
    first column needs the others.
    """
    first = next(records, None)
    if first is None:
        if not errors.total:
            errors.add(1, None, _l("The file is empty."))
        return None
    line, cells = first
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = _header_name(cell)
        if not name:
            continue
        if name in columns:
            errors.add(line, name, _l("The column %(column)s appears twice.", column=name))
            continue
        columns[name] = index
    for name in required:
        if name not in columns:
            errors.add(line, name, _l("The required column %(column)s is missing.", column=name))
    for group in one_of:
        if not any(name in columns for name in group):
            errors.add(
                line,
                group[0],
                _l("The file needs one of the columns %(columns)s.", columns=", ".join(group)),
            )
    for lead, *others in together:
        for name in others:
            if lead in columns and name not in columns:
                errors.add(line, name, _l("The required column %(column)s is missing.", column=name))
    if errors.total:
        return None
    return Header(columns, len(cells))


def _check_width(header: Header, line: int, record: list[str], errors: ErrorLog) -> bool:
    if len(record) > header.width:
        errors.add(
            line,
            None,
            _l(
                "Line %(line)d has %(found)d values but the header has %(expected)d columns.",
                line=line,
                found=len(record),
                expected=header.width,
            ),
        )
        return False
    return True


# --- values ---------------------------------------------------------------------------------


class RowReader:
    """Read and check the values of one record, logging each problem with its column."""

    def __init__(self, header: Header, line: int, record: list[str], errors: ErrorLog) -> None:
        self.header, self.line, self.record, self.errors = header, line, record, errors
        self.ok = True

    def fail(self, column: str, message: Any) -> None:
        self.ok = False
        self.errors.add(self.line, column, message)

    def text(self, column: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = " ".join(self.header.value(self.record, column).split())
        if required and not value:
            self.fail(column, _l("This column needs a value."))
        elif max_length is not None and len(value) > max_length:
            self.fail(column, _l("At most %(num)d characters.", num=max_length))
            return value[:max_length]
        return value

    def country(self, column: str, *, required: bool = True) -> str:
        value = self.text(column, required=required).upper()
        if value and not is_country_code(value):
            self.fail(
                column,
                _l(
                    "%(value)s is not a country code: use the two-letter ISO 3166 code, e.g. CN, TH or CZ.",
                    value=value,
                ),
            )
        return value

    def os_id(self, column: str = "os_id") -> str | None:
        value = self.text(column).upper()
        if not value:
            return None
        if not OS_ID_PATTERN.match(value):
            self.fail(
                column,
                _l("%(value)s is not an Open Supply Hub id (e.g. CN2019303BQ3FZP).", value=value[:40]),
            )
        return value

    def number(self, column: str, minimum: float, maximum: float) -> float | None:
        value = self.text(column)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or not minimum <= number <= maximum:
            self.fail(
                column,
                _l(
                    "%(value)s is not a number between %(min)s and %(max)s.",
                    value=value[:40],
                    min=minimum,
                    max=maximum,
                ),
            )
            return None
        return number

    def workers(self, column: str = "number_of_workers") -> int | None:
        value = self.text(column)
        try:
            return workers_from_text(value)
        except ValueError:
            self.fail(
                column,
                _l(
                    "%(value)s is not a number of workers: give a whole number or a range such as 1001-5000.",
                    value=value[:40],
                ),
            )
            return None

    def day(self, column: str, *, required: bool = False) -> date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            if len(value) > 10:
                return datetime.fromisoformat(value).date()
            return date.fromisoformat(value)
        except ValueError:
            self.fail(column, _l("%(value)s is not a date: use YYYY-MM-DD.", value=value[:40]))
            return None

    def flag(self, column: str) -> bool:
        value = self.text(column).casefold()
        if value in ("", "false", "no", "0", "n"):
            return False
        if value in ("true", "yes", "1", "y"):
            return True
        self.fail(column, _l("%(value)s is not true or false.", value=value[:40]))
        return False

    def choice(self, column: str, enum: type[Any], *, required: bool = False) -> Any:
        value = self.text(column, required=required)
        if not value:
            return None
        key = "_".join(value.casefold().replace("-", " ").split())
        try:
            return enum(key)
        except ValueError:
            self.fail(
                column,
                _l(
                    "%(value)s is not one of: %(choices)s.",
                    value=value[:40],
                    choices=", ".join(m.value for m in enum),
                ),
            )
            return None

    def coordinates(self) -> tuple[float | None, float | None]:
        latitude = self.number("lat", -90, 90)
        longitude = self.number("lng", -180, 180)
        if (self.text("lat") == "") != (self.text("lng") == ""):
            self.fail("lng" if self.text("lat") else "lat", _l("Give both coordinates or neither."))
        if latitude is None or longitude is None:
            return None, None
        return latitude, longitude
