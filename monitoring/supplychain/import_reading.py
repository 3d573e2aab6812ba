"""Reading an import file: results and refusals, the CSV stream, the values of a row."""

from __future__ import annotations

import csv
import itertools
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from monitoring.supplychain.import_dialect import (
    Peeked,
    detect_delimiter,
    detect_encoding,
    header_name,
    utf16_lines,
)
from monitoring.supplychain.matching import (
    OS_ID_PATTERN,
    clean_text,
    country_from_text,
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
    # Rows that repeated an earlier row of the file (same name, address and country), merged into it.
    repeats_merged: int = 0

    @property
    def warnings(self) -> list[str]:
        """What the user should check although the file was imported, in their language."""
        return repeats_warnings(self.repeats_merged)


def repeats_warnings(repeats_merged: int) -> list[str]:
    """The warning that repeated rows were merged, if any were (the job page and API share it)."""
    if not repeats_merged:
        return []
    return [
        ngettext(
            "%(num)d repeated row was merged into the row it repeats (same name, address and country).",
            "%(num)d repeated rows were merged into the rows they repeat (same name, address and country).",
            repeats_merged,
        )
    ]


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


# Other names of our columns, in Open Supply Hub's download and list-upload layouts and in
# spreadsheets people make: used when the column itself is absent (first one present wins).
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "country_code": ("country", "country_name", "iso_country_code", "country_iso"),
    "name": ("facility_name", "name_of_facility", "supplier_name"),
    "address": ("facility_address", "full_address"),
    "lat": ("latitude",),
    "lng": ("longitude", "lon", "long"),
    "number_of_workers": ("workers", "number_workers", "worker_count"),
    "is_closed": ("closed",),
    "alternative_names": ("other_names",),
}

# Every column name an import knows: they tell which delimiter a header line uses.
KNOWN_COLUMNS = frozenset(
    {
        *HEADER_SYNONYMS,
        *(name for names in HEADER_SYNONYMS.values() for name in names),
        "os_id",
        "city",
        "sector",
        "contributors",
        "contributor_(list)",
        "contribution_date",
        "parent_company",
        "facility_type",
        "processing_type",
        "processing_type_facility_type_raw",
        "product_type",
        "product",
        "part",
        "valid_from",
        "valid_to",
        "source",
    }
)


def _nul_message(line: int) -> Any:
    return _l("Line %(line)d contains a NUL character: is this a CSV file in UTF-8?", line=line)


class CsvFile:
    """The records of a CSV file read line by line from a binary stream.

    The encoding (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1250 or -1252) is guessed
    from the start of the file and the delimiter (``,`` ``;`` or tab) from its header line
    (:mod:`~monitoring.supplychain.import_dialect`). A UTF-8 file is decoded strictly, line by
    line (a UTF-8 byte sequence never contains a newline byte), naming a line that is not UTF-8.
    """

    def __init__(self, stream: IO[bytes], errors: ErrorLog, progress: Progress) -> None:
        self.stream = stream
        self.errors = errors
        self.progress = progress
        self.stopped = False
        self.encoding = "utf-8"
        self.delimiter = ","

    def _lines(self) -> Iterator[str]:
        source = Peeked(self.stream)
        self.encoding = detect_encoding(source.prefix)
        if self.encoding == "utf-16":
            for line in utf16_lines(source):
                self.progress.read(2 * len(line))
                yield line.replace("\x00", "")
            return
        number = 0
        while True:
            raw = source.readline(MAX_LINE_BYTES + 1)
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
                if self.encoding == "utf-8":
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                else:
                    line = raw.decode(self.encoding, errors="replace")
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
        lines = self._lines()
        first = next(lines, None)
        if first is None:
            return
        self.delimiter = detect_delimiter(first, KNOWN_COLUMNS)
        reader = csv.reader(itertools.chain([first], lines), delimiter=self.delimiter)
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


def _header_columns(line: int, cells: list[str], errors: ErrorLog) -> dict[str, int]:
    """Each column's index by its name; a column known by another name (``HEADER_SYNONYMS``)
    under ours too, when ours is absent."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = header_name(cell)
        if not name:
            continue
        if name in columns:
            errors.add(line, name, _l("The column %(column)s appears twice.", column=name))
            continue
        columns[name] = index
    for name, others in HEADER_SYNONYMS.items():
        if name not in columns:
            found = next((other for other in others if other in columns), None)
            if found is not None:
                columns[name] = columns[found]
    return columns


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
    columns = _header_columns(line, cells, errors)
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
        value = clean_text(self.header.value(self.record, column))
        if required and not value:
            self.fail(column, _l("This column needs a value."))
        elif max_length is not None and len(value) > max_length:
            self.fail(column, _l("At most %(num)d characters.", num=max_length))
            return value[:max_length]
        return value

    def country(self, column: str, *, required: bool = True) -> str:
        value = self.text(column, required=required)
        code = country_from_text(value)
        if value and code is None:
            self.fail(
                column,
                _l(
                    "%(value)s is not a country code: use the two-letter ISO 3166 code, e.g. CN, TH or CZ.",
                    value=value[:60].upper(),
                ),
            )
        return code or value.upper()

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
        if value.count(",") == 1 and "." not in value:
            value = value.replace(",", ".")  # a decimal comma (spreadsheets in many locales)
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
