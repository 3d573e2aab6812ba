"""Exports of the lists as CSV and XLSX, streamed, filtered exactly as the user's list is.

Each export reuses its feature's list query (``services_lists`` and the others): the rows are what
the user's page lists with the same filters, and each row goes through the same per-role view
(``services_shown``), so a field the role may not read is an empty cell. Nothing sealed or
encrypted is exported: worker reports give their metadata only.

Rows are read in batches (``yield_per``) and written as they come: the CSV is a generator (a
chunk of about ``CHUNK`` bytes at a time), the XLSX is written by XlsxWriter in constant-memory
mode to a temporary file that is then streamed and removed. Every export appends an audit entry
with its filters and its row count, never its content.

A list may give the SQL expression of each column (``Table.values``), with its per-role view's
rules written in SQL (the findings: the fields suppliers do not see; a small worker count, for
buyers and suppliers, in one check per row, ``Table.finish``):
its export then reads those columns only, as plain rows, not ORM objects and a view per row (the
worker reports' export holds a million rows at scale, and their sealed columns are large).
Such a list's CSV goes one step further (``Table.lines``): the database writes each whole line,
quoted as ``csv.writer`` quotes it, and the export only joins them (see "CSV lines in SQL").
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import xlsxwriter
from flask import Response, abort, stream_with_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, Text, case, cast, func, literal, null, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from monitoring.accounts.models import Organisation, User
from monitoring.cases import permissions as case_permissions
from monitoring.cases import services_lists as lists
from monitoring.cases import services_shown as shown
from monitoring.cases.models import Case, Finding, Severity
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.roles import UserRole
from monitoring.reporting import services as reporting
from monitoring.reporting.permissions import REPORTING_ROLES, suppresses_small_cells
from monitoring.reporting.sql import day_text, utc_minutes
from monitoring.reporting.suppression import Suppressed
from monitoring.supplychain import services as chain
from monitoring.supplychain.models import Site
from monitoring.supplychain.permissions import REGISTRY_ROLES
from monitoring.testimony import services as testimony
from monitoring.testimony.models import ReportChannel, ReportStatus, WorkerReport
from monitoring.testimony.permissions import SEALED_ROLES

# Rows read from the database per round trip; CSV lines made by the database (about 80 bytes each).
BATCH = 500
LINES = 1000
# Chunk size of a streamed file (XLSX), and about that of a streamed CSV.
CHUNK = 64 * 1024
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    title: Any
    value: Callable[[Any], Any]


@dataclass(frozen=True)
class Table:
    """One export: its columns, the query of its rows and how a row becomes the shown object."""

    kind: str
    columns: list[Column]
    query: Select[Any] | None
    order: list[Any]
    shown: Callable[[Any], Any]
    # The SQL expression of each column's value, for a list without a per-role view (see above).
    values: list[Any] | None = None
    # What a per-role rule does to a row of ``values`` that SQL does not (or None).
    finish: Callable[[Sequence[Any]], Sequence[Any]] | None = None
    # Rows already computed (the remedy ledger: a few hundred groups), instead of ``query``.
    items: list[Any] | None = None
    # The query of the CSV's lines, each made by the database (see "CSV lines in SQL"), or None.
    lines: Select[Any] | None = None


def _get(name: str) -> Callable[[Any], Any]:
    """An attribute of the shown object, empty when the role may not read it."""
    return lambda item: getattr(item, name, None)


def _path(*names: str) -> Callable[[Any], Any]:
    def value(item: Any) -> Any:
        for name in names:
            item = getattr(item, name, None)
            if item is None:
                return None
        return item

    return value


def _suppressed(name: str) -> Callable[[Any], Any]:
    """A worker count, "fewer than 5" when the role sees it suppressed."""

    def value(item: Any) -> Any:
        if getattr(item, f"{name}_suppressed", False):
            return str(_l("fewer than 5"))
        return getattr(item, name, None)

    return value


# --- the lists ---------------------------------------------------------------------------------


def _cases(user: User, args: Mapping[str, Any], today: date) -> Table:
    if not case_permissions.can_list_cases(user):
        abort(404)
    listing = lists.list_cases(user, args, today)

    def show(row: Any) -> Any:
        case, findings, open_actions, next_due, _late = row
        return shown.show_case(
            user, case, next_due, today, findings=findings or 0, open_actions=open_actions or 0
        )

    columns = [
        Column(_l("Reference"), _get("reference")),
        Column(_l("Site"), _path("site", "name")),
        Column(_l("Country"), _path("site", "country")),
        Column(_l("State"), _get("state")),
        Column(_l("Severity"), _get("severity")),
        Column(_l("Outcome"), _get("outcome")),
        Column(_l("Monitoring organisation"), _path("monitor_organisation", "name")),
        Column(_l("Opened"), _get("opened_dt")),
        Column(_l("Closed"), _get("closed_dt")),
        Column(_l("Findings"), _get("findings")),
        Column(_l("Open actions"), _get("open_actions")),
        Column(_l("Next deadline"), _get("next_due_date")),
        Column(_l("overdue"), _get("overdue")),
    ]
    return Table("cases", columns, listing.query, listing.order, show)


FINDING_COLUMNS = [
    Column(_l("Finding"), _get("id")),
    Column(_l("Site"), _path("site", "name")),
    Column(_l("Country"), _path("site", "country")),
    Column(_l("Standard"), _get("standard")),
    Column(_l("Severity"), _get("severity")),
    Column(_l("Workers affected"), _suppressed("workers_affected")),
    Column(_l("Organisation"), _path("organisation", "name")),
    Column(_l("Found"), _get("found_date")),
    Column(_l("Case"), _path("case", "reference")),
]
WORKERS_CELL = 5  # the place of "Workers affected" in FINDING_COLUMNS


def _findings(user: User, args: Mapping[str, Any], today: date) -> Table:
    if not case_permissions.can_list_findings(user):
        abort(404)
    listing = lists.list_findings(user, args)
    return Table(
        "findings",
        FINDING_COLUMNS,
        listing.query,
        listing.order,
        lambda row: shown.show_finding(user, row[0]),
        finding_values(user),
        _suppress_workers if suppresses_small_cells(user) else None,
        lines=finding_lines(user, listing.query),
    )


def finding_values(user: User) -> list[Any]:
    """FINDING_COLUMNS in SQL, with ``show_finding``'s per-role rules: what suppliers may not see
    is NULL (an empty cell); a small worker count is replaced by :func:`_suppress_workers`."""
    people = case_permissions.sees_people(user)
    organisation = select(Organisation.name).where(Organisation.id == Finding.organisation_id)
    return [
        Finding.id,
        select(Site.name).where(Site.id == Finding.site_id).scalar_subquery(),
        select(Site.country).where(Site.id == Finding.site_id).scalar_subquery(),
        Finding.standard,
        Finding.severity,
        Finding.workers_affected,
        organisation.scalar_subquery() if people else null(),
        Finding.found_date if people else null(),
        select(Case.reference).where(Case.id == Finding.case_id).scalar_subquery(),
    ]


def finding_lines(user: User, query: Select[Any]) -> Select[Any]:
    """The CSV lines of :func:`finding_values`' cells (suppression included), made by the database."""
    site, organisation, case_ = aliased(Site), aliased(Organisation), aliased(Case)
    people = case_permissions.sees_people(user)
    workers = csv_number(Finding.workers_affected)
    if suppresses_small_cells(user):
        fewer = literal(csv_field(str(_l("fewer than 5"))), Text)
        workers = case((Finding.workers_affected < case_permissions.SMALL_CELL, fewer), else_=workers)
    line = csv_line(
        csv_number(Finding.id),
        csv_text(site.name),
        csv_text(site.country),
        csv_text(Finding.standard),
        csv_titled(Finding.severity, Severity),
        workers,
        csv_text(organisation.name) if people else literal("", Text),
        csv_plain(day_text(Finding.found_date)) if people else literal("", Text),
        csv_text(case_.reference),
    )
    return (
        query.with_only_columns(line)
        .outerjoin_from(Finding, site, site.id == Finding.site_id)
        .outerjoin_from(Finding, organisation, organisation.id == Finding.organisation_id)
        .outerjoin_from(Finding, case_, case_.id == Finding.case_id)
    )


def _suppress_workers(values: Sequence[Any]) -> Sequence[Any]:
    """The row with its worker count as buyers and suppliers see it ("fewer than 5")."""
    workers = values[WORKERS_CELL]
    if workers is None or workers >= case_permissions.SMALL_CELL:
        return values
    return [*values[:WORKERS_CELL], str(_l("fewer than 5")), *values[WORKERS_CELL + 1 :]]


def _actions(user: User, args: Mapping[str, Any], today: date) -> Table:
    listing = lists.list_actions(user, args, today)
    columns = [
        Column(_l("Action"), _get("id")),
        Column(_l("Case"), _get("case_reference")),
        Column(_l("Site"), _path("case", "site", "name")),
        Column(_l("Standard"), _path("finding", "standard")),
        Column(_l("Severity"), _get("severity")),
        Column(_l("State"), _get("state")),
        Column(_l("Supplier"), _path("supplier", "name")),
        Column(_l("Requested"), _get("requested_dt")),
        Column(_l("Due"), _get("due_date")),
        Column(_l("overdue"), _get("overdue")),
    ]
    return Table(
        "actions", columns, listing.query, listing.order, lambda row: shown.show_action(user, row[0], today)
    )


def _sites(user: User, args: Mapping[str, Any], today: date) -> Table:
    columns = [
        Column(_l("Site"), _get("name")),
        Column(_l("Address"), _get("address")),
        Column(_l("City"), _get("city")),
        Column(_l("Country"), _get("country")),
        Column(_l("Kind"), _get("kind")),
        Column(_l("Open Supply Hub id"), _get("os_id")),
    ]
    query = chain.list_sites(user, dict(args))
    return Table("sites", columns, query, list(chain.SITE_ORDER), lambda row: row[0])


def _contracts(user: User, args: Mapping[str, Any], today: date) -> Table:
    columns = [
        Column(_l("Reference"), _get("reference")),
        Column(_l("Title"), _get("title")),
        Column(_l("Public buyer"), _path("affiliate", "name")),
        Column(_l("Supplier"), _path("supplier", "name")),
        Column(_l("Start date"), _get("start_date")),
        Column(_l("End date"), _get("end_date")),
    ]
    query = chain.list_contracts(user, dict(args), today)
    return Table("contracts", columns, query, list(chain.CONTRACT_ORDER), lambda row: row[0])


def titled(column: Any, kind: type[Enum]) -> Any:
    """An enum column as its members' titles, each translated once per export (as :func:`cell`)."""
    titles = {member.value: str(getattr(member, "title", member.value)) for member in kind}
    return case(titles, value=type_coerce(column, String))


def _reports(user: User, args: Mapping[str, Any], today: date) -> Table:
    """Worker reports: metadata only, never a sealed column."""
    columns = [
        Column(_l("Report"), _get("id")),
        Column(_l("Received"), _get("created_dt")),
        Column(_l("Date collected"), _get("collected_date")),
        Column(_l("Channel"), _get("channel")),
        Column(_l("Status"), _get("status")),
        Column(_l("Country"), _get("country")),
        Column(_l("Site"), _path("site", "name")),
    ]
    query = testimony.list_reports(user, args)
    site_name = select(Site.name).where(Site.id == WorkerReport.site_id).scalar_subquery()
    values = [
        WorkerReport.id,
        utc_minutes(WorkerReport.created_dt),
        day_text(WorkerReport.collected_date),
        titled(WorkerReport.channel, ReportChannel),
        titled(WorkerReport.status, ReportStatus),
        WorkerReport.country,
        site_name,
    ]
    site = aliased(Site)
    line = csv_line(
        csv_number(WorkerReport.id),
        csv_plain(utc_minutes(WorkerReport.created_dt)),
        csv_plain(day_text(WorkerReport.collected_date)),
        csv_titled(WorkerReport.channel, ReportChannel),
        csv_titled(WorkerReport.status, ReportStatus),
        csv_text(WorkerReport.country),
        csv_text(site.name),
    )
    lines = query.with_only_columns(line).outerjoin_from(WorkerReport, site, site.id == WorkerReport.site_id)
    order = list(testimony.REPORT_ORDER)
    return Table("reports", columns, query, order, lambda row: row[0], values, lines=lines)


def _ledger(user: User, args: Mapping[str, Any], today: date) -> Table:
    """The remedy ledger's rows as the dashboard shows them to the user (suppression included)."""
    ledger = reporting.ledger_view(user, reporting.period_of(dict(args)))
    names = reporting.organisation_names(
        {row.buyer_id for row in ledger.rows} | {row.supplier_id for row in ledger.rows}
    )
    columns = [
        Column(_l("Kind of remedy"), _get("kind")),
        Column(_l("Year"), _get("year")),
        Column(_l("Country"), _get("country")),
        Column(_l("Public buyer"), lambda row: names.get(row.buyer_id)),
        Column(_l("Supplier"), lambda row: names.get(row.supplier_id)),
        Column(_l("Remedies"), _get("remedies")),
        Column(_l("Workers covered"), _fewer("workers_covered")),
        Column(_l("Currency"), _get("currency")),
        Column(_l("Amount"), _fewer("amount")),
        Column(_l("Amount in EUR"), _fewer("amount_eur")),
    ]
    return Table("ledger", columns, None, [], lambda row: row, items=list(ledger.rows))


def _fewer(name: str) -> Callable[[Any], Any]:
    """A value of the ledger, "fewer than 5" where the one suppression rule hides it."""

    def value(item: Any) -> Any:
        found = getattr(item, name, None)
        return str(_l("fewer than 5")) if isinstance(found, Suppressed) else found

    return value


TABLES: dict[str, Callable[[User, Mapping[str, Any], date], Table]] = {
    "cases": _cases,
    "findings": _findings,
    "actions": _actions,
    "sites": _sites,
    "contracts": _contracts,
    "reports": _reports,
    "ledger": _ledger,
}


# Who may ask for each export: the roles of its list page (the query decides the rows).
ROLES: dict[str, tuple[UserRole, ...]] = {
    "cases": case_permissions.CASE_ROLES,
    "findings": (UserRole.coordinator, UserRole.monitor),
    "actions": case_permissions.CASE_ROLES,
    "sites": REGISTRY_ROLES,
    "contracts": REGISTRY_ROLES,
    "reports": SEALED_ROLES,
    "ledger": REPORTING_ROLES,
}


def table(kind: str, user: User, args: Mapping[str, Any], today: date) -> Table:
    """The export ``kind`` of what ``user`` lists with ``args``; 404 for a list the user has not."""
    if kind not in TABLES:
        abort(404)
    return TABLES[kind](user, args, today)


# --- cells -------------------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """Text a spreadsheet will not run as a formula (a leading quote marks it as text)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _minutes(value: datetime) -> str:
    """``value.strftime("%Y-%m-%d %H:%M")``, four times as fast."""
    return value.isoformat(" ", "minutes")[:16]


def cell(value: Any) -> Any:
    """A value as written: numbers stay numbers, the rest becomes neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_l("yes")) if value else str(_l("no"))
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return _minutes(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        title = getattr(value, "title", None)
        return neutralise(str(title) if title is not None else str(value.value))
    return neutralise(str(value))


def _same(value: Any) -> Any:
    return value


def _converter(kind: type) -> Callable[[Any], Any]:
    """What :func:`cell` does to every value of the type ``kind``, as one function (for speed)."""
    if kind is bool:
        shown = {True: cell(True), False: cell(False)}
        return shown.__getitem__
    if issubclass(kind, int | float | Decimal):
        return _same
    if issubclass(kind, Enum):
        titles = {member: cell(member) for member in kind}  # each title once: the locale is fixed
        return titles.__getitem__
    if kind is str:
        return neutralise
    if issubclass(kind, datetime):
        return _minutes
    if issubclass(kind, date):
        return date.isoformat
    return cell


class Cells:
    """The cells of rows of values: :func:`cell`, with its work per type looked up once."""

    def __init__(self) -> None:
        self.converters: dict[type, Callable[[Any], Any]] = {type(None): cell}

    def learn(self, value: Any) -> Callable[[Any], Any]:
        converter = self.converters[type(value)] = _converter(type(value))
        return converter

    def __call__(self, values: Iterable[Any]) -> list[Any]:
        converters = self.converters
        return [(converters.get(type(v)) or self.learn(v))(v) for v in values]


# --- CSV lines in SQL --------------------------------------------------------------------------
#
# A list that gives its columns in SQL (``Table.values``) may also give its CSV's lines: the
# database writes each row as the text ``csv.writer`` writes for the row's cells (:func:`cell`),
# line ending included, and the export only joins a batch of lines. Byte for byte the same as
# ``csv.writer`` (tests/reporting/test_exports_sql.py): a field is quoted when it holds a comma, a
# double quote, a carriage return or a line feed, with its double quotes doubled; text that starts
# like a formula is neutralised first; NULL is the empty field; a number is its digits.


class csv_text(FunctionElement[str]):
    """Text (or NULL) as one CSV field of its neutralised cell: ``csv.writer(neutralise(value))``."""

    type = Text()
    inherit_cache = True
    name = "csv_text"

    def __init__(self, value: Any) -> None:
        super().__init__(value)


def _csv_text_sql(value: str, formula: str, special: str) -> str:
    neutral = f"CASE WHEN {value} {formula} THEN '''' || {value} ELSE {value} END"
    quoted = f"""'"' || replace({neutral}, '"', '""') || '"'"""
    return f"CASE WHEN {value} IS NULL THEN '' WHEN {value} {special} THEN {quoted} ELSE {neutral} END"


@compiles(csv_text)
def _csv_text_default(element: csv_text, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = (compiler.process(clause, **kw) for clause in element.clauses)
    # PostgreSQL's regular expressions read \t, \r and \n in a bracket as those characters.
    return _csv_text_sql(f"({value})", r"~ '^[-=+@\t\r]'", r"""~ '[,"\r\n]'""")


@compiles(csv_text, "sqlite")
def _csv_text_sqlite(element: csv_text, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = (compiler.process(clause, **kw) for clause in element.clauses)
    # A leading "-" in a GLOB set is itself, not a range; char() gives the tab, CR and LF.
    formula = "GLOB ('[-=+@' || char(9, 13) || ']*')"
    return _csv_text_sql(f"({value})", formula, """GLOB ('*[,"' || char(13, 10) || ']*')""")


class csv_line(FunctionElement[str]):
    """CSV fields (each from :func:`csv_text`, :func:`csv_number`...) as one line ending in CR LF."""

    type = Text()
    inherit_cache = True
    name = "csv_line"


@compiles(csv_line)
def _csv_line_default(element: csv_line, compiler: SQLCompiler, **kw: Any) -> str:
    fields = " || ',' || ".join(f"({compiler.process(clause, **kw)})" for clause in element.clauses)
    return f"{fields} || chr(13) || chr(10)"


@compiles(csv_line, "sqlite")
def _csv_line_sqlite(element: csv_line, compiler: SQLCompiler, **kw: Any) -> str:
    fields = " || ',' || ".join(f"({compiler.process(clause, **kw)})" for clause in element.clauses)
    return f"{fields} || char(13, 10)"


def csv_field(value: Any) -> str:
    """The text ``csv.writer`` writes for the cell of ``value`` (a value known in Python)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([cell(value), ""])
    return buffer.getvalue()[: -len(",\r\n")]


def csv_number(column: Any) -> Any:
    """An integer column (or NULL) as its CSV field: its digits."""
    return func.coalesce(cast(column, Text), literal("", Text))


def csv_plain(text: Any) -> Any:
    """Text that never needs quoting nor neutralising (a time or a day written by ``sql``), or NULL."""
    return func.coalesce(text, literal("", Text))


def csv_titled(column: Any, kind: type[Enum]) -> Any:
    """An enum column as the CSV field of its member's title (each title written once per export)."""
    fields = {member.value: csv_field(member) for member in kind}
    return case(fields, value=type_coerce(column, String), else_=literal("", Text))


# --- rows --------------------------------------------------------------------------------------


def row_count(export: Table) -> int:
    if export.items is not None:
        return len(export.items)
    assert export.query is not None
    counted = select(func.count()).select_from(export.query.order_by(None).subquery())
    return int(db.session.scalar(counted) or 0)


def rows(export: Table) -> Iterator[list[Any]]:
    """The cells of each row, read in batches so that memory stays flat."""
    cells = Cells()
    if export.items is not None:
        for item in export.items:
            yield cells(column.value(export.shown(item)) for column in export.columns)
        return
    assert export.query is not None
    if export.values is not None:
        plain = export.query.with_only_columns(*export.values).order_by(*export.order)
        found = db.session.connection().execute(plain.execution_options(yield_per=BATCH))
        finish = export.finish
        for batch in found.partitions():  # a batch at a time: less work per row than iterating
            for values in batch if finish is None else map(finish, batch):
                yield cells(values)
        return
    query = export.query.order_by(*export.order).execution_options(yield_per=BATCH)
    for row in db.session.execute(query):
        item = export.shown(row)
        yield cells(column.value(item) for column in export.columns)


def headings(export: Table) -> list[str]:
    return [str(column.title) for column in export.columns]


def csv_lines(query: Select[Any]) -> Iterator[str]:
    """The lines the database writes, ``LINES`` at a time (about ``CHUNK`` characters)."""
    found = db.session.connection().execute(query.execution_options(yield_per=LINES))
    for batch in found.scalars().partitions():
        yield "".join(batch)


def csv_chunks(export: Table) -> Iterator[str]:
    """The CSV, about ``CHUNK`` characters at a time (UTF-8 with a byte order mark for spreadsheets)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headings(export))
    yield "\ufeff" + buffer.getvalue()
    if export.lines is not None:
        yield from csv_lines(export.lines.order_by(*export.order))
        return
    buffer.seek(0)
    buffer.truncate()
    for values in rows(export):
        writer.writerow(values)
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def xlsx_path(export: Table) -> str:
    """Write the XLSX (constant memory: each row is flushed as it is written) to a temporary file."""
    handle, path = tempfile.mkstemp(suffix=".xlsx", prefix="export-")
    os.close(handle)
    book = xlsxwriter.Workbook(
        path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    try:
        sheet = book.add_worksheet(export.kind)
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, headings(export), bold)
        for number, values in enumerate(rows(export), start=1):
            sheet.write_row(number, 0, values)
    finally:
        book.close()
    return path


def file_chunks(path: str) -> Iterator[bytes]:
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


# --- answering ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Enum):
        return value.value
    return str(value)


def audit_export(user: User, what: str, filters: Mapping[str, Any], count: int, fmt: str) -> None:
    """The audit entry of an export: what, which filters, how many rows; never the content."""
    audit.record(
        f"export.{what}",
        f"Exported {count} rows of {what} as {fmt}",
        actor=user,
        obj=user,
        data={"format": fmt, "rows": count, "filters": {k: _plain(v) for k, v in sorted(filters.items())}},
    )


def respond(user: User, kind: str, fmt: str, args: Mapping[str, Any], today: date) -> Response:
    """The streamed export of the list ``kind`` in ``fmt``, audited."""
    if fmt not in FORMATS:
        abort(404)
    filters = {k: v for k, v in args.items() if k not in ("after", "limit")}
    export = table(kind, user, filters, today)
    audit_export(user, kind, filters, row_count(export), fmt)
    name = f"{kind}-{today.isoformat()}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "csv":
        body: Iterator[Any] = stream_with_context(chunk.encode("utf-8") for chunk in csv_chunks(export))
    else:
        body = file_chunks(xlsx_path(export))
    return Response(body, mimetype=MEDIA_TYPES[fmt].split(";")[0], headers=headers)
