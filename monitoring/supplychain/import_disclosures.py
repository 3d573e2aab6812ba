"""Importing a supplier's disclosures (see :mod:`monitoring.supplychain.imports`)."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from dataclasses import asdict
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.engine import Connection

from monitoring.accounts.models import Organisation, User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain import leverage
from monitoring.supplychain.import_reading import (
    MAX_LISTED_ERRORS,
    CsvFile,
    DisclosureImportResult,
    ErrorLog,
    Progress,
    RowError,
    RowReader,
    read_header,
)
from monitoring.supplychain.import_staging import (
    AnyRow,
    apply_staged,
    disclosure_stage,
    disclosure_table,
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
from monitoring.supplychain.matching import (
    site_keys,
)
from monitoring.supplychain.models import (
    Contract,
    ContractProduct,
    DisclosurePart,
    Product,
    SiteKind,
)
from monitoring.supplychain.permissions import can_import_disclosures

logger = logging.getLogger(__name__)


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
    supplies = reader.os_id("supplies_os_id")
    if supplies and supplies == os_id:
        reader.fail("supplies_os_id", _l("A site cannot supply itself: name the site the part goes to."))
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
        "supplies_os_id": supplies,
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


def _unknown_supplied_sites(connection: Connection) -> tuple[list[RowError], int]:
    """Rows whose ``supplies_os_id`` no site has (nor a site the file creates), or that name the
    row's own site (found by name and address)."""
    stage, created = disclosure_stage, disclosure_stage.alias("created")
    known = select(site_table.c.id).where(site_table.c.os_id == stage.c.supplies_os_id)
    in_file = select(created.c.line).where(
        created.c.os_id == stage.c.supplies_os_id, created.c.name.is_not(None)
    )
    same = select(site_table.c.id).where(
        site_table.c.os_id == stage.c.supplies_os_id, site_table.c.match_key == stage.c.match_key
    )
    wrong = select(stage.c.line, stage.c.supplies_os_id, same.exists().label("same")).where(
        stage.c.supplies_os_id.is_not(None), or_(~known.exists() & ~in_file.exists(), same.exists())
    )
    total = connection.scalar(select(func.count()).select_from(wrong.subquery())) or 0
    rows = connection.execute(wrong.order_by(stage.c.line).limit(MAX_LISTED_ERRORS)).all()
    errors = [
        RowError(
            row.line,
            "supplies_os_id",
            _l("A site cannot supply itself: name the site the part goes to.")
            if row.same
            else _l(
                "No site has the OS ID %(os_id)s: the site the part goes to must be known.",
                os_id=row.supplies_os_id,
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
    likely duplicate when an older site has the same name). The optional ``supplies_os_id``
    names the site the part goes to (the next tier). Whole or not at all; raises
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
            errors.merge(*_unknown_supplied_sites(connection))
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


def _next_tier(supplied: dict[str, AnyRow], os_id: str | None, site_id: int) -> int | None:
    """The id of the site the part goes to; None when none is named, or when the OS id leads to
    the row's own site through a merge (checked against the file before, so only then)."""
    target = supplied[os_id].id if os_id else None
    return target if target != site_id else None


def _apply_disclosures(
    connection: Connection,
    batch: list[AnyRow],
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
    # After the new sites: the next tier may be one of them.
    supplied = sites_by_os_id(connection, {row.supplies_os_id for row in batch if row.supplies_os_id})
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
                "supplies_site_id": _next_tier(supplied, row.supplies_os_id, site_id),
                "disclosed_dt": now,
                "disclosed_by_id": actor.id,
            }
        )
    if values:
        connection.execute(insert(disclosure_table), values)
        leverage.invalidate(connection)  # written with SQL: the ORM's flush does not see them
    result.created += len(values)
    new_sites = [(ids[index], new_rows[index]["name_key"]) for index in range(len(new_rows))]
    result.duplicates_proposed += insert_proposals(
        connection, propose_same_name(connection, [s for s in new_sites if s[1]], set())
    )
