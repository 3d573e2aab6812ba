"""Importing a facility list in Open Supply Hub's layout (see :mod:`monitoring.supplychain.imports`)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection

from monitoring.accounts.models import User
from monitoring.core import audit
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.import_reading import (
    ErrorLog,
    FacilityImportResult,
    Progress,
    RowReader,
    read_header,
)
from monitoring.supplychain.import_staging import (
    REASON_OTHER_OS_ID,
    REASON_SAME_AS_OS_ID,
    AnyRow,
    apply_staged,
    facility_stage,
    insert_proposals,
    insert_sites,
    mark_repeats,
    propose_same_name,
    repeated_rows,
    site_table,
    sites_by_match_key,
    sites_by_os_id,
    stage_rows,
    staging_table,
)
from monitoring.supplychain.import_workbook import open_table
from monitoring.supplychain.matching import (
    OS_ID_PATTERN,
    kind_from_types,
    site_keys,
)
from monitoring.supplychain.models import (
    SiteKind,
    search_key,
)
from monitoring.supplychain.operations_names import (
    IMPORT_SEPARATOR,
    MAX_ALTERNATIVE_NAMES,
    MAX_NAME_LENGTH,
    add_imported_names,
    split_names,
)
from monitoring.supplychain.permissions import can_import_facilities

logger = logging.getLogger(__name__)


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
    alternative_names = _alternative_names(reader)
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
        "alternative_names": IMPORT_SEPARATOR.join(alternative_names) or None,
        "closed": closed,
    }


def _alternative_names(reader: RowReader) -> list[str]:
    """The names of the optional ``alternative_names`` column, separated by "|"."""
    names = split_names(reader.text("alternative_names"))
    if any(len(name) > MAX_NAME_LENGTH for name in names):
        reader.fail("alternative_names", _l("Each name has at most %(num)d characters.", num=MAX_NAME_LENGTH))
    elif len(names) > MAX_ALTERNATIVE_NAMES:
        reader.fail(
            "alternative_names",
            _l("A site has at most %(num)d other names.", num=MAX_ALTERNATIVE_NAMES),
        )
    return names


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
        source = open_table(stream, errors, progress)
        records = source.records()
        header = read_header(records, errors, FACILITY_REQUIRED)
        if header is None:
            raise errors.refuse()
        staged = stage_rows(connection, facility_stage, source, header, records, errors, _stage_facility)
        apply_checked(connection, staged, errors, progress, result, stopped=source.stopped)
    audit_import(actor, filename, result)
    return result


def apply_checked(
    connection: Connection,
    staged: int,
    errors: ErrorLog,
    progress: Progress,
    result: FacilityImportResult,
    *,
    stopped: bool = False,
) -> None:
    """Find repeated rows among the staged ones; refuse the file if anything was wrong, else
    apply the staged rows (the background job and the direct import share this)."""
    if not stopped:
        mark_repeats(connection, facility_stage, "match_key")
        result.repeats_merged = merge_repeats(connection, errors.total == 0)
        mark_repeats(connection, facility_stage, "os_id")
        errors.merge(*repeated_rows(connection, facility_stage, _FACILITY_REPEATS, _FACILITY_REPEAT_COLUMNS))
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


def merge_repeats(connection: Connection, log: bool) -> int:
    """Merge each row that repeats an earlier one (same name, address and country once
    normalised) into that row, which takes the repeat's OS id if it has none; return how many.

    The merged repeats are dropped from the staging table, so they are neither refused nor
    applied. A repeat that bears another OS id than the row it repeats may be another facility
    (Open Supply Hub gave it its own id): it stays marked, and the file is refused naming it.
    """
    table = facility_stage
    repeat = table.c.repeats_column == "match_key"
    later = table.alias("later")
    repeats_of_row = (later.c.repeats == table.c.line, later.c.repeats_column == "match_key")
    connection.execute(
        update(table)
        .where(
            table.c.os_id.is_(None),
            table.c.repeats.is_(None),
            select(func.count(later.c.os_id.distinct())).where(*repeats_of_row).scalar_subquery() == 1,
        )
        .values(os_id=select(func.min(later.c.os_id)).where(*repeats_of_row).scalar_subquery())
    )
    first = table.alias("first")
    first_os_id = select(first.c.os_id).where(first.c.line == table.c.repeats).scalar_subquery()
    merged = and_(repeat, or_(table.c.os_id.is_(None), table.c.os_id == first_os_id))
    count = connection.scalar(select(func.count()).select_from(table).where(merged)) or 0
    if count and log:
        firsts = connection.execute(
            select(table.c.line, table.c.repeats).where(merged).order_by(table.c.line).limit(10)
        ).all()
        logger.warning(
            "facility import: %d rows repeat an earlier row and were merged into it (line, first): %s",
            count,
            [tuple(row) for row in firsts],
        )
    connection.execute(delete(table).where(merged))
    return count


def audit_import(actor: User | None, filename: str, result: FacilityImportResult) -> None:
    audit.record(
        "site.import",
        f"Imported facility list {filename!r}: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.skipped_closed} closed skipped, "
        f"{result.duplicates_proposed} likely duplicates proposed, {result.names_added} names added, "
        f"{result.repeats_merged} repeated rows merged",
        actor=actor,
        object_type="site",
        data={"file": filename, **asdict(result)},
    )
    logger.info("facility import %r: %s", filename, result)


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
    "search_key",
)


def _updated_site(site: AnyRow, row: AnyRow, os_id_free: bool, *, merged: bool = False) -> dict[str, Any]:
    """The site's values after applying a row: what the row leaves empty is kept.

    The row's OS id fills a site without one only if no site (merged ones included) has it.
    A row that names a site merged into this one (``merged``) keeps the site's name and address.
    """
    values = {name: getattr(site, name) for name in _UPDATED_FIELDS}
    if not merged:
        values.update(
            name=row.name,
            address=row.address,
            country=row.country,
            match_key=row.match_key,
            name_key=row.name_key,
            search_key=search_key(row.name),
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


def _names_of(row: AnyRow) -> list[str]:
    return row.alternative_names.split(IMPORT_SEPARATOR) if row.alternative_names else []


def _through_merge(site: AnyRow, row: AnyRow, same_place: AnyRow | None) -> bool:
    """Whether the row was matched to ``site`` only through a site merged into it: by the
    merged site's OS id, or by its name, address and country."""
    if row.os_id and site.os_id != row.os_id and site.match_key != row.match_key:
        return True
    return same_place is not None and same_place.id == site.id and same_place.match_key != row.match_key


def _apply_facilities(connection: Connection, batch: list[AnyRow], result: FacilityImportResult) -> None:
    by_os = sites_by_os_id(connection, {row.os_id for row in batch if row.os_id})
    by_key = sites_by_match_key(connection, {row.match_key for row in batch})
    updates: dict[int, dict[str, Any]] = {}
    new_rows: list[dict[str, Any]] = []
    new_pairs: list[int | None] = []  # for each new site, an existing site it repeats (other OS id)
    names: list[tuple[int, list[str]]] = []  # the alternative names of existing sites
    new_names: list[list[str]] = []  # and of each new site
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
            names.append((site.id, _names_of(row)))
            before = updates.get(site.id) or {name: getattr(site, name) for name in _UPDATED_FIELDS}
            after = _updated_site(
                site, row, os_id_free=row.os_id not in by_os, merged=_through_merge(site, row, same_place)
            )
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
        new_names.append(_names_of(row))
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
    result.names_added += add_imported_names(connection, [*names, *zip(ids, new_names, strict=True)])
    new_sites = [(site_id, row["name_key"]) for site_id, row in zip(ids, new_rows, strict=True)]
    proposals.extend(propose_same_name(connection, new_sites, paired))
    result.duplicates_proposed += insert_proposals(connection, proposals)
