"""Staging an import file's rows in a temporary table, and matching them against the registry."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from flask_babel import lazy_gettext as _l
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
    Text,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Row

from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.supplychain.import_reading import (
    MAX_LISTED_ERRORS,
    ErrorLog,
    Header,
    ImportRefused,
    Progress,
    RowError,
    RowReader,
    _check_width,
)
from monitoring.supplychain.import_workbook import TableFile
from monitoring.supplychain.models import (
    Disclosure,
    DuplicateState,
    Site,
    SiteDuplicate,
)
from monitoring.supplychain.operations_names import REASON_ALTERNATIVE_NAME, site_name_table

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# The PostgreSQL advisory lock taken while an import writes sites.
IMPORT_LOCK = 5_170_203

# Why a pair of sites was proposed as a likely duplicate (stored in ``SiteDuplicate.reason``).
REASON_SAME_NAME = "same_name_other_address"
REASON_OTHER_OS_ID = "same_name_and_address_other_os_id"
REASON_SAME_AS_OS_ID = "same_name_and_address_as_os_id"

# A row of a core query, whatever its columns.
AnyRow = Row[*tuple[Any, ...]]

site_table = cast(Table, Site.__table__)
duplicate_table = cast(Table, SiteDuplicate.__table__)
disclosure_table = cast(Table, Disclosure.__table__)


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
    # The rows that repeat a given row: without it, each row's look-up of its repeats (merging
    # them, see ``import_facilities.merge_repeats``) reads the whole table, quadratic in the file.
    Index(f"ix_{name}_repeats", table.c.repeats, table.c.repeats_column)
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
    # The row's alternative names, cleaned, separated by "|".
    Column("alternative_names", Text),
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
    # The OS id of the site the part goes to (the next tier), if the file names one.
    Column("supplies_os_id", String(32)),
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


def staged_batches(connection: Connection, table: Table) -> Iterator[list[AnyRow]]:
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
    source: TableFile,
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
    apply: Callable[[list[AnyRow]], None],
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
    site_table.c.search_key,
    site_table.c.merged_into_id,
)


def sites_by_os_id(connection: Connection, os_ids: set[str]) -> dict[str, AnyRow]:
    """The live site of each OS id (a merged site stands for the site it was merged into)."""
    if not os_ids:
        return {}
    found = connection.execute(select(*_SITE_COLUMNS).where(site_table.c.os_id.in_(os_ids))).all()
    targets = {row.merged_into_id for row in found if row.merged_into_id is not None}
    live: dict[int, AnyRow] = {}
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


def sites_by_match_key(connection: Connection, keys: set[str]) -> dict[str, AnyRow]:
    """The oldest live site of each match key; a key that only a merged site bears stands for
    the site it was merged into (a merge is remembered: the next import does not re-create it)."""
    if not keys:
        return {}
    rows = connection.execute(
        select(*_SITE_COLUMNS).where(site_table.c.match_key.in_(keys)).order_by(site_table.c.id.desc())
    ).all()
    found = {row.match_key: row for row in rows if row.merged_into_id is None}  # the oldest wins
    merged = {row.match_key: row.merged_into_id for row in rows if row.match_key not in found}
    if merged:
        live = {
            row.id: row
            for row in connection.execute(
                select(*_SITE_COLUMNS).where(
                    site_table.c.id.in_(set(merged.values())), site_table.c.merged_into_id.is_(None)
                )
            ).all()
        }
        found.update({key: live[target] for key, target in merged.items() if target in live})
    return found


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
    # Only the name_key index can answer this: a condition on merged_into_id too lets PostgreSQL,
    # without statistics on a site table that grows inside the import's one transaction, walk the
    # merged_into_id index (every live site) instead, batch after batch. Liveness is checked here.
    oldest: dict[str, int] = {}
    for name_key, site_id, merged_into_id in connection.execute(
        select(site_table.c.name_key, site_table.c.id, site_table.c.merged_into_id).where(
            site_table.c.name_key.in_(keys)
        )
    ):
        if merged_into_id is None and site_id < oldest.get(name_key, site_id + 1):
            oldest[name_key] = site_id
    named = _oldest_by_alternative_name(connection, keys, {site_id for site_id, _ in new_sites})
    proposals = []
    for site_id, name_key in new_sites:
        if site_id in skip:
            continue
        if oldest.get(name_key) not in (None, site_id):
            proposals.append(
                {"site_id": oldest[name_key], "candidate_id": site_id, "reason": REASON_SAME_NAME}
            )
        elif name_key in named:
            proposals.append(
                {"site_id": named[name_key], "candidate_id": site_id, "reason": REASON_ALTERNATIVE_NAME}
            )
    return proposals


def _oldest_by_alternative_name(connection: Connection, keys: set[str], new_ids: set[int]) -> dict[str, int]:
    """The oldest live site (not a new one) of each country that bears one of the names
    ``keys`` (``country|name``, as ``Site.name_key``) as an alternative name."""
    names = {key.partition("|")[2] for key in keys} - {""}
    if not names:
        return {}
    # As in propose_same_name: the names' index finds the rows; liveness is checked here.
    rows = connection.execute(
        select(site_table.c.country, site_name_table.c.name_key, site_table.c.id, site_table.c.merged_into_id)
        .join(site_table, site_table.c.id == site_name_table.c.site_id)
        .where(site_name_table.c.name_key.in_(names))
    ).all()
    found: dict[str, int] = {}
    for country, name, site_id, merged_into_id in rows:
        key = f"{country}|{name}"
        if merged_into_id is None and site_id not in new_ids and site_id < found.get(key, site_id + 1):
            found[key] = site_id
    return {key: site_id for key, site_id in found.items() if key in keys}


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
