"""What the circularity pages and API read, the CSV upload, and the buyer's feedback loop per product."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.supplychain.circularity import operations
from monitoring.supplychain.circularity.models import CircularityReport, CircularityState, TakeBackFate
from monitoring.supplychain.circularity.operations import FIELDS, ReportData, SiteLine
from monitoring.supplychain.circularity.permissions import (
    can_file_circularity,
    can_read_circularity,
    can_review_circularity,
    loop_contracts,
)
from monitoring.supplychain.circularity.schemas import FileCircularityArgs
from monitoring.supplychain.import_reading import MAX_LISTED_ERRORS, ImportRefused, RowError
from monitoring.supplychain.models import Contract, Product, Site
from monitoring.supplychain.permissions import visible_contracts
from monitoring.supplychain.services import load, require

# The buyers' ambition: collect every device at the end of its use. The lifespan targets
# (years of spare parts and of operating-system updates) are the buyers' own, set per installation
# (CIRCULARITY_SPARE_PART_YEARS, CIRCULARITY_OS_UPDATE_YEARS).
COLLECTION_AMBITION = 1.0
# An upload is read in the request: small files only.
MAX_ROWS = 500
MAX_BYTES = 512 * 1024
REQUIRED_COLUMNS = (
    "brand",
    "model",
    "year",
    "warranty_years",
    "spare_part_years",
    "os_update_years",
    "delivered",
    "taken_back",
)
OPTIONAL_COLUMNS = (
    "repairability_info",
    "repaired",
    "repair_median_days",
    "replaced",
    "accessories_not_bought",
    "second_life_supplied",
    "reused",
    "refurbished",
    "recycled",
    "disposed",
    "unknown_fate",
    "sites",
)


def load_contract(user: User, contract_id: int, *, to_file: bool = False) -> Contract:
    """The contract, for whoever may read (or file) its circularity reports; 404 otherwise."""
    contract = load(visible_contracts(user), Contract.id == contract_id)
    require(can_file_circularity(user, contract) if to_file else can_read_circularity(user, contract))
    return contract


def load_report(user: User, circularity_id: int, *, need: str = "read") -> CircularityReport:
    """The report, for whoever may read it (``need``: "file" or "review" for those actions); 404 otherwise."""
    report = db.session.get(CircularityReport, circularity_id)
    require(report is not None)
    assert report is not None
    check = {"read": can_read_circularity, "file": can_file_circularity, "review": can_review_circularity}[
        need
    ]
    require(check(user, report.contract))
    return report


def contract_reports(contract: Contract) -> list[CircularityReport]:
    """The contract's reports, the latest year first."""
    query = (
        select(CircularityReport)
        .where(CircularityReport.contract_id == contract.id)
        .options(selectinload(CircularityReport.sites))
        .order_by(CircularityReport.year.desc(), CircularityReport.product_id)
    )
    return list(db.session.scalars(query))


def contract_products(contract: Contract) -> list[Product]:
    return sorted((cp.product for cp in contract.products), key=lambda p: (p.brand, p.model, p.id))


def report_data(args: dict[str, Any]) -> ReportData:
    """The operation's input from ``FileCircularityArgs``."""
    values = {k: v for k, v in args.items() if k not in ("product_id", "year", "sites")}
    sites = [SiteLine(s["site_id"], s["fate"], s["count"]) for s in args.get("sites") or []]
    return ReportData(product_id=args["product_id"], year=args["year"], values=values, sites=sites)


def report_args(report: CircularityReport) -> dict[str, Any]:
    """A filed report as the form's values, to correct it."""
    return {"product_id": report.product_id, "year": report.year, **{k: getattr(report, k) for k in FIELDS}}


# --- the CSV upload ------------------------------------------------------------------------------


@dataclass
class ImportResult:
    filed: int = 0
    resubmitted: int = 0


def _refuse(line: int, column: str | None, message: Any) -> ImportRefused:
    return ImportRefused([RowError(line, column, message)], 1)


def _read_rows(stream: IO[bytes]) -> list[tuple[int, dict[str, str]]]:
    raw = stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise _refuse(1, None, _l("The file is larger than %(num)d kB: split it.", num=MAX_BYTES // 1024))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(1, None, _l("Save the file as UTF-8.")) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if missing := [c for c in REQUIRED_COLUMNS if c not in header]:
        raise _refuse(1, None, _l("The header lacks the columns %(columns)s.", columns=", ".join(missing)))
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    for record in reader:
        if len(rows) >= MAX_ROWS:
            raise _refuse(reader.line_num, None, _l("Upload at most %(num)d lines at once.", num=MAX_ROWS))
        rows.append((reader.line_num, {k: (v or "").strip() for k, v in record.items() if k}))
    if not rows:
        raise _refuse(1, None, _l("The file holds no report."))
    return rows


def _site_lines(text: str) -> list[dict[str, Any]]:
    """``site:fate:count`` separated by ``;`` (a site by its registry id or its Open Supply Hub id)."""
    lines = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        pieces = [p.strip() for p in part.split(":")]
        if len(pieces) != 3:
            raise ValueError(part)
        site, fate, count = pieces
        site_id = (
            int(site)
            if site.isdigit()
            else db.session.scalar(select(Site.id).where(Site.os_id == site.upper()))
        )
        if site_id is None:
            raise LookupError(site)
        lines.append({"site_id": site_id, "fate": fate.lower(), "count": count})
    return lines


def _row_args(
    contract: Contract,
    products: dict[tuple[str, str], int],
    line: int,
    row: dict[str, str],
    errors: list[RowError],
) -> dict[str, Any] | None:
    """One line through ``FileCircularityArgs``; its problems go to ``errors``."""
    key = (row.get("brand", "").casefold(), row.get("model", "").casefold())
    if key not in products:
        errors.append(RowError(line, "model", _l("The contract covers no product of this brand and model.")))
        return None
    data: dict[str, Any] = {"product_id": products[key]}
    for name in REQUIRED_COLUMNS[2:] + OPTIONAL_COLUMNS[:-1]:
        if row.get(name):
            data[name] = row[name]
    try:
        data["sites"] = _site_lines(row.get("sites", ""))
    except ValueError:
        errors.append(RowError(line, "sites", _l("Write each site as site:fate:count, separated by “;”.")))
        return None
    except LookupError as exc:
        errors.append(RowError(line, "sites", _l("No registry site has the id %(id)s.", id=str(exc))))
        return None
    try:
        return dict(FileCircularityArgs().load(data))
    except ValidationError as exc:
        messages = exc.normalized_messages()
        for column, problems in messages.items() if isinstance(messages, dict) else [(None, messages)]:
            for problem in _flatten(problems):
                errors.append(RowError(line, None if column == "_schema" else str(column), problem))
        return None


def _flatten(problems: Any) -> list[Any]:
    if isinstance(problems, dict):
        return [m for value in problems.values() for m in _flatten(value)]
    if isinstance(problems, list | tuple):
        return [m for value in problems for m in _flatten(value)]
    return [problems]


def import_reports(actor: User, contract: Contract, stream: IO[bytes]) -> ImportResult:
    """File every line of the file as a report, or none: a bad line refuses the whole file."""
    rows = _read_rows(stream)
    products = {(p.brand.casefold(), p.model.casefold()): p.id for p in contract_products(contract)}
    errors: list[RowError] = []
    checked: list[tuple[ReportData, bool]] = []
    seen: dict[tuple[int, int], int] = {}
    for line, row in rows:
        args = _row_args(contract, products, line, row, errors)
        if args is None:
            continue
        data = report_data(args)
        if (data.product_id, data.year) in seen:
            message = _l(
                "Line %(line)d already reports this product and year.", line=seen[data.product_id, data.year]
            )
            errors.append(RowError(line, "year", message))
            continue
        seen[data.product_id, data.year] = line
        try:
            _product, earlier = operations.check_report(actor, contract, data)
        except OperationError as exc:
            errors.append(RowError(line, exc.field, exc.message))
            continue
        checked.append((data, earlier is not None))
    if errors:
        raise ImportRefused(errors[:MAX_LISTED_ERRORS], len(errors))
    result = ImportResult()
    for data, again in checked:
        operations.file_report(actor, contract, data)
        result.resubmitted += again
        result.filed += not again
    return result


# --- the buyer's feedback loop -----------------------------------------------------------------


@dataclass
class LoopSite:
    site_id: int
    site: str
    country: str
    fate: TakeBackFate
    count: int


@dataclass
class ProductLoop:
    """delivered → in use → taken back → second life / recycled (at which sites), for one product."""

    product_id: int
    product: str
    reports: int = 0
    confirmed: int = 0
    delivered: int = 0
    taken_back: int = 0
    second_life: int = 0
    recycled: int = 0
    disposed: int = 0
    unknown_fate: int = 0
    spare_part_years: int | None = None
    os_update_years: int | None = None
    sites: list[LoopSite] = field(default_factory=list)

    @property
    def in_use(self) -> int:
        return max(self.delivered - self.taken_back, 0)

    @property
    def collected_share(self) -> float | None:
        return self.taken_back / self.delivered if self.delivered else None


@dataclass
class Loop:
    year: int
    products: list[ProductLoop]
    spare_part_years_ambition: int
    os_update_years_ambition: int
    collection_ambition: float = COLLECTION_AMBITION


def buyer_loop(user: User, year: int) -> Loop:
    """Every report of the user's contracts up to ``year`` (queried ones left out until corrected),
    added up per product; the lifespan commitments are the weakest of the latest year reported."""
    contract_ids = loop_contracts(user).with_only_columns(Contract.id)
    query = (
        select(CircularityReport)
        .where(
            CircularityReport.contract_id.in_(contract_ids),
            CircularityReport.year <= year,
            CircularityReport.state != CircularityState.queried,
        )
        .options(selectinload(CircularityReport.sites))
        .order_by(CircularityReport.product_id, CircularityReport.year)
    )
    loops: dict[int, ProductLoop] = {}
    latest: dict[int, int] = {}
    at_sites: dict[int, dict[tuple[int, TakeBackFate], list[Any]]] = defaultdict(dict)
    for report in db.session.scalars(query):
        loop = loops.setdefault(
            report.product_id,
            ProductLoop(report.product_id, f"{report.product.brand} {report.product.model}"),
        )
        loop.reports += 1
        loop.confirmed += report.state is CircularityState.confirmed
        loop.delivered += report.delivered
        loop.taken_back += report.taken_back
        loop.second_life += report.second_life
        loop.recycled += report.recycled
        loop.disposed += report.disposed
        loop.unknown_fate += report.unknown_fate
        if report.year > latest.get(report.product_id, 0):
            latest[report.product_id] = report.year
            loop.spare_part_years, loop.os_update_years = report.spare_part_years, report.os_update_years
        elif report.year == latest[report.product_id]:
            loop.spare_part_years = min(loop.spare_part_years or 0, report.spare_part_years)
            loop.os_update_years = min(loop.os_update_years or 0, report.os_update_years)
        for line in report.sites:
            entry = at_sites[report.product_id].setdefault((line.site_id, line.fate), [line.site, 0])
            entry[1] += line.count
    for product_id, entries in at_sites.items():
        loops[product_id].sites = sorted(
            (
                LoopSite(site.id, site.name, site.country, fate, count)
                for (_i, fate), (site, count) in entries.items()
            ),
            key=lambda s: (-s.count, s.site, s.fate.value),
        )
    return Loop(
        year=year,
        products=sorted(loops.values(), key=lambda p: (p.product, p.product_id)),
        spare_part_years_ambition=int(current_app.config["CIRCULARITY_SPARE_PART_YEARS"]),
        os_update_years_ambition=int(current_app.config["CIRCULARITY_OS_UPDATE_YEARS"]),
    )


def loop_bars(loop: Loop) -> list[dict[str, Any]]:
    """One bar per product: its collected share in percent (the dashboard's chart)."""
    bars = []
    for product in loop.products:
        share = product.collected_share
        value = None if share is None else round(share * 100, 1)
        shown = "—" if value is None else f"{value:.0f} %"
        bars.append({"label": product.product, "value": value, "shown": shown, "suppressed": False})
    return bars
