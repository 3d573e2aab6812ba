"""Imports: facility lists in Open Supply Hub's layout, and supplier disclosures.

A file is applied whole or not at all. It is read once, as a stream: every record is
checked and the good ones are staged, 1,000 at a time, in a temporary table; repeated rows
are then found in SQL, so memory does not grow with the file. If anything was wrong the
import is refused with the first problems (line, column, message in the reader's language)
and their total, and nothing is written. Otherwise the staged rows are applied in batches
of 1,000 -- matched against existing sites with one query per batch -- inside the caller's
transaction (operations never commit).

Site matching: the Open Supply Hub id first, then the normalised name + address + country
(:mod:`monitoring.supplychain.matching`). A new site whose normalised name and country
equal an older site's is created and proposed to a coordinator as a likely duplicate; it is
never merged silently.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import math
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Row

from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.matching import (
    OS_ID_PATTERN,
    is_country_code,
    kind_from_types,
    site_keys,
    workers_from_text,
)
from monitoring.supplychain.models import (
    Contract,
    ContractProduct,
    Disclosure,
    DisclosurePart,
    DuplicateState,
    Product,
    Site,
    SiteDuplicate,
    SiteKind,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_LISTED_ERRORS = 100
MAX_LINE_BYTES = 1024 * 1024
# The PostgreSQL advisory lock taken while an import writes sites.
IMPORT_LOCK = 5_170_203

# Why a pair of sites was proposed as a likely duplicate (stored in ``SiteDuplicate.reason``).
REASON_SAME_NAME = "same_name_other_address"
REASON_OTHER_OS_ID = "same_name_and_address_other_os_id"
REASON_SAME_AS_OS_ID = "same_name_and_address_as_os_id"

site_table = Site.__table__
duplicate_table = SiteDuplicate.__table__
disclosure_table = Disclosure.__table__


# --- permissions ----------------------------------------------------------------------------


def can_import_facilities(user: User) -> bool:
    """Coordinators keep the site registry."""
    return user.is_authenticated and user.role is UserRole.coordinator


def can_import_disclosures(user: User, supplier: Organisation) -> bool:
    """A supplier discloses for its own organisation; a coordinator may on a supplier's behalf."""
    if not user.is_authenticated or supplier.kind is not OrganisationKind.supplier:
        return False
    if user.role is UserRole.coordinator:
        return True
    return user.role is UserRole.supplier and user.organisation_id == supplier.id


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
    for first, *others in together:
        for name in others:
            if first in columns and name not in columns:
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


# --- staging --------------------------------------------------------------------------------

_staging = MetaData()


def _stage_table(name: str, *columns: Column[Any], indexes: tuple[str, ...]) -> Table:
    table = Table(
        name,
        _staging,
        Column("line", Integer, primary_key=True, autoincrement=False),
        *columns,
        # The line of an earlier row this one repeats, filled in SQL after reading.
        Column("repeats", Integer),
        Column("repeats_column", String(20)),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    for column in indexes:
        Index(f"ix_{name}_{column}", table.c[column], table.c.line)
    return table


facility_stage = _stage_table(
    "tmp_facility_import",
    Column("os_id", String(32)),
    Column("name", String(300)),
    Column("address", String(500)),
    Column("city", String(200)),
    Column("country", String(2)),
    Column("kind", String(20)),
    Column("workers", Integer),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("match_key", String(900)),
    Column("name_key", String(400)),
    Column("closed", Boolean),
    indexes=("os_id", "match_key"),
)

disclosure_stage = _stage_table(
    "tmp_disclosure_import",
    Column("product_id", Integer),
    Column("os_id", String(32)),
    Column("name", String(300)),
    Column("address", String(500)),
    Column("city", String(200)),
    Column("country", String(2)),
    Column("kind", String(20)),
    Column("match_key", String(900)),
    Column("name_key", String(400)),
    Column("part", String(40)),
    Column("valid_from", Date),
    Column("valid_to", Date),
    Column("source", String(500)),
    # A digest of product, site, part and start date: rows with the same one repeat each other.
    Column("row_key", String(64)),
    indexes=("row_key", "os_id"),
)


@contextmanager
def staging_table(table: Table) -> Iterator[Connection]:
    """Create a temporary table on the session's connection; drop it when done.

    On a database error the transaction is rolled back by the caller, which removes the
    table too.
    """
    connection = db.session.connection()
    connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
    table.create(connection)
    try:
        yield connection
    except ImportRefused:
        table.drop(connection)
        raise
    table.drop(connection)


class Stager:
    """Insert staged rows 1,000 at a time."""

    def __init__(self, connection: Connection, table: Table) -> None:
        self.connection, self.table = connection, table
        self.columns = [c.name for c in table.columns if not c.name.startswith("repeats")]
        self.pending: list[dict[str, Any]] = []
        self.count = 0

    def add(self, row: dict[str, Any]) -> None:
        """Stage a row; the columns it leaves out are NULL."""
        self.pending.append({name: row.get(name) for name in self.columns})
        self.count += 1
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.connection.execute(insert(self.table), self.pending)
            self.pending = []


def mark_repeats(connection: Connection, table: Table, column: str) -> None:
    """Set ``repeats`` on each row whose ``column`` equals an earlier row's (the first one)."""
    earlier = table.alias("earlier")
    same = (earlier.c[column] == table.c[column], earlier.c.line < table.c.line)
    connection.execute(
        update(table)
        .where(table.c.repeats.is_(None), select(earlier.c.line).where(*same).exists())
        .values(
            repeats=select(func.min(earlier.c.line)).where(*same).scalar_subquery(),
            repeats_column=column,
        )
    )


def repeated_rows(
    connection: Connection,
    table: Table,
    messages: dict[str, Callable[[int, int], Any]],
    columns: dict[str, str],
) -> tuple[list[RowError], int]:
    """The first rows that repeat an earlier one, as problems, and how many there are."""
    repeated = table.c.repeats.is_not(None)
    total = connection.scalar(select(func.count()).select_from(table).where(repeated)) or 0
    rows = connection.execute(
        select(table.c.line, table.c.repeats, table.c.repeats_column)
        .where(repeated)
        .order_by(table.c.line)
        .limit(MAX_LISTED_ERRORS)
    ).all()
    errors = [
        RowError(row.line, columns[row.repeats_column], messages[row.repeats_column](row.line, row.repeats))
        for row in rows
    ]
    return errors, total


def lock_registry(connection: Connection) -> None:
    """Let one import at a time write sites, so two never add the same new site (PostgreSQL;
    SQLite has one writer at a time anyway). The lock ends with the transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(IMPORT_LOCK)))


def staged_batches(connection: Connection, table: Table) -> Iterator[list[Row[Any]]]:
    """The staged rows in line order, 1,000 at a time."""
    last = 0
    while True:
        rows = connection.execute(
            select(table).where(table.c.line > last).order_by(table.c.line).limit(BATCH_SIZE)
        ).all()
        if not rows:
            return
        last = rows[-1].line
        yield list(rows)


def stage_rows(
    connection: Connection,
    table: Table,
    source: CsvFile,
    header: Header,
    records: Iterator[tuple[int, list[str]]],
    errors: ErrorLog,
    stage: Callable[[RowReader], dict[str, Any]],
) -> int:
    """Check each row of the file with ``stage`` and stage it; return how many rows there are.

    A file with a header and no rows is a problem; the problems are collected in ``errors``.
    """
    stager = Stager(connection, table)
    for line, record in records:
        if not _check_width(header, line, record, errors):
            continue
        stager.add(stage(RowReader(header, line, record, errors)))
    stager.flush()
    if not errors.total and not stager.count and not source.stopped:
        errors.add(1, None, _l("The file has a header but no rows."))
    return stager.count


def apply_staged(
    connection: Connection,
    table: Table,
    rows: int,
    progress: Progress,
    apply: Callable[[list[Row[Any]]], None],
) -> None:
    """Write the checked rows with ``apply``, batch by batch, while no other import writes sites."""
    progress.start_applying(rows)
    lock_registry(connection)
    for batch in staged_batches(connection, table):
        apply(batch)
        progress.applied(len(batch))


# --- matching against the registry ----------------------------------------------------------

_SITE_COLUMNS = (
    site_table.c.id,
    site_table.c.os_id,
    site_table.c.name,
    site_table.c.address,
    site_table.c.city,
    site_table.c.country,
    site_table.c.kind,
    site_table.c.workers_approx,
    site_table.c.latitude,
    site_table.c.longitude,
    site_table.c.match_key,
    site_table.c.name_key,
    site_table.c.merged_into_id,
)


def sites_by_os_id(connection: Connection, os_ids: set[str]) -> dict[str, Row[Any]]:
    """The live site of each OS id (a merged site stands for the site it was merged into)."""
    if not os_ids:
        return {}
    found = connection.execute(select(*_SITE_COLUMNS).where(site_table.c.os_id.in_(os_ids))).all()
    targets = {row.merged_into_id for row in found if row.merged_into_id is not None}
    live: dict[int, Row[Any]] = {}
    if targets:
        live = {
            row.id: row
            for row in connection.execute(select(*_SITE_COLUMNS).where(site_table.c.id.in_(targets))).all()
        }
    return {
        row.os_id: (live[row.merged_into_id] if row.merged_into_id is not None else row)
        for row in found
        if row.merged_into_id is None or row.merged_into_id in live
    }


def sites_by_match_key(connection: Connection, keys: set[str]) -> dict[str, Row[Any]]:
    """The oldest live site of each match key."""
    if not keys:
        return {}
    rows = connection.execute(
        select(*_SITE_COLUMNS)
        .where(site_table.c.match_key.in_(keys), site_table.c.merged_into_id.is_(None))
        .order_by(site_table.c.id.desc())
    ).all()
    return {row.match_key: row for row in rows}  # the last (oldest) one wins


def insert_sites(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert sites in batches of rows per statement; return their ids in order.

    The new sites of a batch have distinct match keys, which pair the returned ids with the
    rows (asking the database to keep the order would insert them one by one on SQLite).
    """
    if not rows:
        return []
    now = utcnow()
    values = [{**row, "created_dt": now, "updated_dt": now} for row in rows]
    result = connection.execute(insert(site_table).returning(site_table.c.id, site_table.c.match_key), values)
    ids = {row.match_key: row.id for row in result}
    return [ids[row["match_key"]] for row in rows]


def propose_same_name(connection: Connection, new_sites: list[tuple[int, str]], skip: set[int]) -> list[dict]:
    """Pair each new site with the oldest other live site of the same name and country."""
    keys = {name_key for _, name_key in new_sites}
    if not keys:
        return []
    oldest = dict(
        connection.execute(
            select(site_table.c.name_key, func.min(site_table.c.id))
            .where(site_table.c.name_key.in_(keys), site_table.c.merged_into_id.is_(None))
            .group_by(site_table.c.name_key)
        ).all()
    )
    return [
        {"site_id": oldest[name_key], "candidate_id": site_id, "reason": REASON_SAME_NAME}
        for site_id, name_key in new_sites
        if site_id not in skip and oldest.get(name_key) not in (None, site_id)
    ]


def insert_proposals(connection: Connection, proposals: list[dict[str, Any]]) -> int:
    """Insert proposals that are not already recorded for the pair (either way round)."""
    if not proposals:
        return 0
    ids = {p["site_id"] for p in proposals} | {p["candidate_id"] for p in proposals}
    existing = {
        frozenset(pair)
        for pair in connection.execute(
            select(duplicate_table.c.site_id, duplicate_table.c.candidate_id).where(
                or_(duplicate_table.c.site_id.in_(ids), duplicate_table.c.candidate_id.in_(ids))
            )
        ).all()
    }
    now = utcnow()
    fresh = []
    for proposal in proposals:
        pair = frozenset((proposal["site_id"], proposal["candidate_id"]))
        if pair in existing or len(pair) < 2:
            continue
        existing.add(pair)
        fresh.append({**proposal, "state": DuplicateState.proposed, "created_dt": now})
    if fresh:
        connection.execute(insert(duplicate_table), fresh)
    return len(fresh)


# --- facility lists -------------------------------------------------------------------------

FACILITY_REQUIRED = ("name", "address", "country_code")
FACILITY_TYPE_COLUMNS = ("facility_type", "processing_type", "processing_type_facility_type_raw")

_FACILITY_REPEATS = {
    "os_id": lambda line, first: _l(
        "Line %(line)d repeats the OS ID of line %(first)d.", line=line, first=first
    ),
    "match_key": lambda line, first: _l(
        "Line %(line)d repeats the facility of line %(first)d (same name, address and country).",
        line=line,
        first=first,
    ),
}
_FACILITY_REPEAT_COLUMNS = {"os_id": "os_id", "match_key": "name"}


def _stage_facility(reader: RowReader) -> dict[str, Any]:
    """The row to stage; a row with problems keeps only its keys, to find rows it repeats."""
    os_id = reader.os_id()
    name = reader.text("name", required=True, max_length=300)
    address = reader.text("address", required=True, max_length=500)
    country = reader.country("country_code")
    city = reader.text("city", max_length=200)
    latitude, longitude = reader.coordinates()
    workers = reader.workers()
    reader.day("contribution_date")
    closed = reader.flag("is_closed")
    kind = kind_from_types(reader.header.value(reader.record, c) for c in FACILITY_TYPE_COLUMNS)
    keys = site_keys(name, address, country)
    if name and not keys.name_key.partition("|")[2]:
        reader.fail("name", _l("The name has no letters or digits."))
    if not reader.ok:
        return {
            "line": reader.line,
            "os_id": os_id if os_id and OS_ID_PATTERN.match(os_id) else None,
            "match_key": keys.match_key if name and address and country else None,
        }
    return {
        "line": reader.line,
        "os_id": os_id,
        "name": name,
        "address": address,
        "city": city,
        "country": country,
        "kind": kind.value if kind else None,
        "workers": workers,
        "latitude": latitude,
        "longitude": longitude,
        "match_key": keys.match_key,
        "name_key": keys.name_key,
        "closed": closed,
    }


def import_facilities(
    actor: User | None, stream: IO[bytes], *, filename: str = "", progress: Progress | None = None
) -> FacilityImportResult:
    """Import a facility list in Open Supply Hub's CSV layout, whole or not at all.

    ``actor`` is None on the command line. Raises :class:`ImportRefused` listing the
    problems; flushes and audits, never commits.
    """
    if actor is not None and not can_import_facilities(actor):
        raise OperationError(_l("Only coordinators can import facility lists."))
    progress = progress or Progress()
    errors = ErrorLog()
    result = FacilityImportResult()
    with staging_table(facility_stage) as connection:
        source = CsvFile(stream, errors, progress)
        records = source.records()
        header = read_header(records, errors, FACILITY_REQUIRED)
        if header is None:
            raise errors.refuse()
        staged = stage_rows(connection, facility_stage, source, header, records, errors, _stage_facility)
        if not source.stopped:
            mark_repeats(connection, facility_stage, "os_id")
            mark_repeats(connection, facility_stage, "match_key")
            errors.merge(
                *repeated_rows(connection, facility_stage, _FACILITY_REPEATS, _FACILITY_REPEAT_COLUMNS)
            )
        if errors.total:
            raise errors.refuse()
        result.rows = staged
        apply_staged(
            connection,
            facility_stage,
            staged,
            progress,
            lambda batch: _apply_facilities(connection, batch, result),
        )
    audit.record(
        "site.import",
        f"Imported facility list {filename!r}: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.skipped_closed} closed skipped, "
        f"{result.duplicates_proposed} likely duplicates proposed",
        actor=actor,
        object_type="site",
        data={"file": filename, **asdict(result)},
    )
    logger.info("facility import %r: %s", filename, result)
    return result


_UPDATED_FIELDS = (
    "os_id",
    "name",
    "address",
    "city",
    "country",
    "kind",
    "workers_approx",
    "latitude",
    "longitude",
    "match_key",
    "name_key",
)


def _updated_site(site: Row[Any], row: Row[Any], os_id_free: bool) -> dict[str, Any]:
    """The site's values after applying a row: what the row leaves empty is kept.

    The row's OS id fills a site without one only if no site (merged ones included) has it.
    """
    values = {name: getattr(site, name) for name in _UPDATED_FIELDS}
    values.update(
        name=row.name,
        address=row.address,
        country=row.country,
        match_key=row.match_key,
        name_key=row.name_key,
    )
    if values["os_id"] is None and row.os_id and os_id_free:
        values["os_id"] = row.os_id
    if row.city:
        values["city"] = row.city
    if row.kind:
        values["kind"] = SiteKind(row.kind)
    if row.workers is not None:
        values["workers_approx"] = row.workers
    if row.latitude is not None:
        values["latitude"], values["longitude"] = row.latitude, row.longitude
    return values


def _apply_facilities(connection: Connection, batch: list[Row[Any]], result: FacilityImportResult) -> None:
    by_os = sites_by_os_id(connection, {row.os_id for row in batch if row.os_id})
    by_key = sites_by_match_key(connection, {row.match_key for row in batch})
    updates: dict[int, dict[str, Any]] = {}
    new_rows: list[dict[str, Any]] = []
    new_pairs: list[int | None] = []  # for each new site, an existing site it repeats (other OS id)
    proposals: list[dict[str, Any]] = []
    for row in batch:
        site = by_os.get(row.os_id) if row.os_id else None
        same_place = by_key.get(row.match_key)
        other_os_id = None
        if site is None and same_place is not None:
            if row.os_id and same_place.os_id and same_place.os_id != row.os_id:
                other_os_id = same_place.id  # the same name and address under another OS id
            else:
                site = same_place
        elif site is not None and same_place is not None and same_place.id != site.id:
            proposals.append(
                {"site_id": site.id, "candidate_id": same_place.id, "reason": REASON_SAME_AS_OS_ID}
            )
        if site is not None:
            before = updates.get(site.id) or {name: getattr(site, name) for name in _UPDATED_FIELDS}
            after = _updated_site(site, row, os_id_free=row.os_id not in by_os)
            if site.id in updates or after != before:
                updates[site.id] = after
            else:
                result.unchanged += 1
            continue
        if row.closed:
            result.skipped_closed += 1
            continue
        new_rows.append(
            {
                "os_id": row.os_id,
                "name": row.name,
                "address": row.address,
                "city": row.city or "",
                "country": row.country,
                "kind": SiteKind(row.kind) if row.kind else SiteKind.component,
                "workers_approx": row.workers,
                "latitude": row.latitude,
                "longitude": row.longitude,
                "match_key": row.match_key,
                "name_key": row.name_key,
            }
        )
        new_pairs.append(other_os_id)
    if updates:
        now = utcnow()
        connection.execute(
            update(site_table).where(site_table.c.id == bindparam("site_id")),
            [{"site_id": site_id, **values, "updated_dt": now} for site_id, values in updates.items()],
        )
        result.updated += len(updates)
    ids = insert_sites(connection, new_rows)
    result.created += len(ids)
    paired = set()
    for site_id, existing in zip(ids, new_pairs, strict=True):
        if existing is not None:
            proposals.append({"site_id": existing, "candidate_id": site_id, "reason": REASON_OTHER_OS_ID})
            paired.add(site_id)
    new_sites = [(site_id, row["name_key"]) for site_id, row in zip(ids, new_rows, strict=True)]
    proposals.extend(propose_same_name(connection, new_sites, paired))
    result.duplicates_proposed += insert_proposals(connection, proposals)


# --- disclosures ----------------------------------------------------------------------------

DISCLOSURE_REQUIRED = ("brand", "model", "part", "valid_from")
# A site named by its name needs its address and country too.
DISCLOSURE_SITE_COLUMNS = (("name", "address", "country_code"),)

_DISCLOSURE_REPEATS = {
    "row_key": lambda line, first: _l(
        "Line %(line)d repeats the disclosure of line %(first)d (same product, site, part and date).",
        line=line,
        first=first,
    ),
}
_DISCLOSURE_REPEAT_COLUMNS = {"row_key": "model"}


def product_key(text: str) -> str:
    """Fold a brand or model name for comparison: width, case and spacing are ignored."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def covered_products(supplier: Organisation) -> dict[tuple[str, str], int]:
    """The products of the supplier's contracts, by folded brand and model."""
    rows = db.session.execute(
        select(Product.id, Product.brand, Product.model)
        .join(ContractProduct, ContractProduct.product_id == Product.id)
        .join(Contract, Contract.id == ContractProduct.contract_id)
        .where(Contract.supplier_id == supplier.id)
        .distinct()
    ).all()
    return {(product_key(row.brand), product_key(row.model)): row.id for row in rows}


def _stage_disclosure(
    reader: RowReader, products: dict[tuple[str, str], int], supplier: Organisation
) -> dict[str, Any]:
    """The row to stage; a row with problems keeps only its key, to find rows it repeats."""
    brand = reader.text("brand", required=True, max_length=200)
    model = reader.text("model", required=True, max_length=200)
    product_id = products.get((product_key(brand), product_key(model)))
    if brand and model and product_id is None:
        reader.fail(
            "model",
            _l(
                "%(brand)s %(model)s is not a product of any contract of %(supplier)s.",
                brand=brand,
                model=model,
                supplier=supplier.name,
            ),
        )
    os_id = reader.os_id()
    by_address = not os_id or bool(reader.text("name"))
    name = reader.text("name", required=by_address, max_length=300)
    address = reader.text("address", required=by_address, max_length=500)
    country = reader.country("country_code", required=by_address)
    city = reader.text("city", max_length=200)
    kind = reader.choice("kind", SiteKind)
    part = reader.choice("part", DisclosurePart, required=True)
    valid_from = reader.day("valid_from", required=True)
    valid_to = reader.day("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        reader.fail("valid_to", _l("The end date must not be before the start date."))
    source = reader.text("source", max_length=500)
    keys = site_keys(name, address, country) if by_address else None
    # Rows are the same disclosure when product, site, part and start date are.
    row_key = "|".join(
        (
            product_key(brand),
            product_key(model),
            os_id or (keys.match_key if keys else ""),
            part.value if part else reader.text("part").casefold(),
            valid_from.isoformat() if valid_from else reader.text("valid_from"),
        )
    )
    digest = hashlib.sha256(row_key.encode()).hexdigest()
    if not reader.ok or part is None or valid_from is None:
        return {"line": reader.line, "row_key": digest}
    return {
        "line": reader.line,
        "product_id": product_id,
        "os_id": os_id,
        "name": name or None,
        "address": address,
        "city": city,
        "country": country or None,
        "kind": kind.value if kind else None,
        "match_key": keys.match_key if keys else None,
        "name_key": keys.name_key if keys else None,
        "part": part.value,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "source": source,
        "row_key": digest,
    }


def _unknown_os_ids(connection: Connection) -> tuple[list[RowError], int]:
    """Rows that name a site only by an OS id no site has."""
    stage = disclosure_stage
    unknown = (
        select(stage.c.line, stage.c.os_id)
        .where(stage.c.os_id.is_not(None), stage.c.name.is_(None))
        .where(~select(site_table.c.id).where(site_table.c.os_id == stage.c.os_id).exists())
    )
    total = connection.scalar(select(func.count()).select_from(unknown.subquery())) or 0
    rows = connection.execute(unknown.order_by(stage.c.line).limit(MAX_LISTED_ERRORS)).all()
    errors = [
        RowError(
            row.line,
            "os_id",
            _l(
                "No site has the OS ID %(os_id)s: add its name, address and country_code to create it.",
                os_id=row.os_id,
            ),
        )
        for row in rows
    ]
    return errors, total


def import_disclosures(
    actor: User,
    supplier: Organisation,
    stream: IO[bytes],
    *,
    filename: str = "",
    progress: Progress | None = None,
) -> DisclosureImportResult:
    """Import a supplier's disclosures (which site makes which part of which product).

    Each product must be covered by one of the supplier's contracts. A site is named by its
    OS id or by name + address + country; an unknown site is created (and proposed as a
    likely duplicate when an older site has the same name). Whole or not at all; raises
    :class:`ImportRefused`; flushes and audits, never commits.
    """
    if not can_import_disclosures(actor, supplier):
        raise OperationError(_l("You cannot import disclosures for this organisation."))
    progress = progress or Progress()
    errors = ErrorLog()
    result = DisclosureImportResult()
    products = covered_products(supplier)
    with staging_table(disclosure_stage) as connection:
        source = CsvFile(stream, errors, progress)
        records = source.records()
        header = read_header(
            records,
            errors,
            DISCLOSURE_REQUIRED,
            one_of=(("os_id", "name"),),
            together=DISCLOSURE_SITE_COLUMNS,
        )
        if header is None:
            raise errors.refuse()
        staged = stage_rows(
            connection,
            disclosure_stage,
            source,
            header,
            records,
            errors,
            lambda reader: _stage_disclosure(reader, products, supplier),
        )
        if not source.stopped:
            errors.merge(*_unknown_os_ids(connection))
            mark_repeats(connection, disclosure_stage, "row_key")
            errors.merge(
                *repeated_rows(connection, disclosure_stage, _DISCLOSURE_REPEATS, _DISCLOSURE_REPEAT_COLUMNS)
            )
        if errors.total:
            raise errors.refuse()
        result.rows = staged
        apply_staged(
            connection,
            disclosure_stage,
            staged,
            progress,
            lambda batch: _apply_disclosures(connection, batch, actor, supplier, result),
        )
    audit.record(
        "disclosure.import",
        f"Imported disclosures {filename!r} for {supplier.name!r}: {result.created} created, "
        f"{result.unchanged} already disclosed, {result.sites_created} sites created, "
        f"{result.duplicates_proposed} likely duplicates proposed",
        actor=actor,
        obj=supplier,
        data={"file": filename, "supplier_id": supplier.id, **asdict(result)},
    )
    logger.info("disclosure import %r for %s: %s", filename, supplier.id, result)
    return result


def _apply_disclosures(
    connection: Connection,
    batch: list[Row[Any]],
    actor: User,
    supplier: Organisation,
    result: DisclosureImportResult,
) -> None:
    by_os = sites_by_os_id(connection, {row.os_id for row in batch if row.os_id})
    by_key = sites_by_match_key(connection, {row.match_key for row in batch if row.match_key})
    # Rows of this batch that name the same new site share it.
    new_index: dict[str, int] = {}
    new_rows: list[dict[str, Any]] = []
    row_sites: list[int | str] = []  # a site id, or the key of a new site
    for row in batch:
        site = by_os.get(row.os_id) if row.os_id else None
        if site is None and row.match_key:
            site = by_key.get(row.match_key)
        if site is not None:
            row_sites.append(site.id)
            continue
        ref = row.os_id or row.match_key
        if ref not in new_index and (row.match_key is None or row.match_key not in new_index):
            new_index[ref] = len(new_rows)
            if row.match_key:
                new_index[row.match_key] = len(new_rows)
            new_rows.append(
                {
                    "os_id": row.os_id,
                    "name": row.name,
                    "address": row.address,
                    "city": row.city or "",
                    "country": row.country,
                    "kind": SiteKind(row.kind)
                    if row.kind
                    else (
                        SiteKind.final_assembly
                        if row.part == DisclosurePart.final_assembly.value
                        else SiteKind.component
                    ),
                    "workers_approx": None,
                    "latitude": None,
                    "longitude": None,
                    "match_key": row.match_key,
                    "name_key": row.name_key,
                }
            )
        row_sites.append(ref if ref in new_index else row.match_key)
    ids = insert_sites(connection, new_rows)
    result.sites_created += len(ids)
    new_ids = {ref: ids[index] for ref, index in new_index.items()}
    site_ids = [new_ids[s] if isinstance(s, str) else s for s in row_sites]
    existing = {
        (r.product_id, r.site_id, r.part, r.valid_from)
        for r in connection.execute(
            select(
                disclosure_table.c.product_id,
                disclosure_table.c.site_id,
                disclosure_table.c.part,
                disclosure_table.c.valid_from,
            ).where(
                disclosure_table.c.supplier_id == supplier.id,
                disclosure_table.c.withdrawn_dt.is_(None),
                disclosure_table.c.site_id.in_(set(site_ids)),
            )
        ).all()
    }
    now = utcnow()
    values = []
    for row, site_id in zip(batch, site_ids, strict=True):
        part = DisclosurePart(row.part)
        if (row.product_id, site_id, part, row.valid_from) in existing:
            result.unchanged += 1
            continue
        values.append(
            {
                "supplier_id": supplier.id,
                "product_id": row.product_id,
                "site_id": site_id,
                "part": part,
                "valid_from": row.valid_from,
                "valid_to": row.valid_to,
                "source": row.source or "",
                "disclosed_dt": now,
                "disclosed_by_id": actor.id,
            }
        )
    if values:
        connection.execute(insert(disclosure_table), values)
    result.created += len(values)
    new_sites = [(ids[index], new_rows[index]["name_key"]) for index in range(len(new_rows))]
    result.duplicates_proposed += insert_proposals(
        connection, propose_same_name(connection, [s for s in new_sites if s[1]], set())
    )
