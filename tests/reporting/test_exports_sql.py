"""The findings' export reads plain SQL columns: the same cells as the per-role view of each finding.

Findings with 3 and with 12 workers affected, in a case and outside one; each role's SQL row
(``finding_values`` and its ``finish``) is compared with the cells of ``show_finding`` for that role,
including the roles whose findings list has no export (buyers and suppliers: suppressed counts,
hidden fields), and the exported CSV with the ORM path it replaces.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Integer, Text, literal, null, select, union_all

from monitoring.accounts.models import Organisation
from monitoring.cases import services_shown as shown
from monitoring.cases.models import Finding
from monitoring.core.db import db
from monitoring.reporting import exports
from monitoring.reporting.permissions import suppresses_small_cells
from monitoring.supplychain.models import Site
from tests.cases.helpers import CaseWorld

ROLES = ("coordinator", "monitor", "other_monitor", "affiliate", "supplier")


@pytest.fixture
def finding_world(case_world: CaseWorld) -> CaseWorld:
    w = case_world
    w.case(findings=[w.finding(workers_affected=3), w.finding(workers_affected=12)])
    w.finding(workers_affected=4, severity="priority")
    w.finding(by="other_monitor", site_id=w.other_site, workers_affected=40)
    return w


@pytest.mark.parametrize("role", ROLES)
def test_sql_cells_are_the_per_role_views_cells(app: Flask, finding_world: CaseWorld, role: str) -> None:
    with app.test_request_context():
        user = finding_world.user(role)
        findings = list(db.session.scalars(select(Finding).order_by(Finding.id)))
        by_view = [
            exports.Cells()(column.value(shown.show_finding(user, f)) for column in exports.FINDING_COLUMNS)
            for f in findings
        ]
        plain = db.session.execute(select(*exports.finding_values(user)).order_by(Finding.id)).all()
        finish: Callable[[Any], Any] = exports._suppress_workers if suppresses_small_cells(user) else list
        by_sql = [exports.Cells()(finish(values)) for values in plain]
    assert by_sql == by_view
    workers = {row[5] for row in by_sql}
    if role in ("affiliate", "supplier"):
        assert workers == {"fewer than 5", 12, 40}
        organisations = {str(row[6]).split(" ")[0] for row in by_sql}
        assert organisations == ({""} if role == "supplier" else {"monitors", "other_monitors"})
    else:
        assert workers == {3, 4, 12, 40}


@pytest.mark.parametrize("role", ["coordinator", "monitor"])
def test_the_findings_export_gives_the_rows_of_the_orm_path(
    app: Flask, finding_world: CaseWorld, role: str
) -> None:
    with app.test_request_context():
        user = finding_world.user(role)
        table = exports.table("findings", user, {}, date(2026, 12, 7))
        assert table.values is not None
        by_sql = list(exports.rows(table))
        by_orm = list(exports.rows(dataclasses.replace(table, values=None)))
    assert by_sql == by_orm
    assert len(by_sql) == (4 if role == "coordinator" else 3)


def test_the_reports_export_gives_the_cells_of_the_orm_path(app: Flask, case_world: CaseWorld) -> None:
    """Times, days and titles made by the database: the same text as the cells made in Python."""
    w = case_world
    for _ in range(3):
        w.report()
    with app.test_request_context():
        table = exports.table("reports", w.user("monitor"), {}, date(2026, 12, 7))
        by_sql = list(exports.rows(table))
        by_orm = list(exports.rows(dataclasses.replace(table, values=None)))
    assert len(by_sql) == 3
    assert by_sql == by_orm
    assert all(len(str(row[1])) == 16 for row in by_sql)  # "YYYY-MM-DD HH:MM"


# Values csv.writer quotes (comma, double quote, CR, LF), text a spreadsheet would run as a formula,
# non-ASCII, separators it does not quote, the empty string and NULL.
TRICKY = [
    "plain",
    "a,b",
    'say "hi"',
    '"',
    '""',
    "line\nbreak",
    "cr\rhere",
    "crlf\r\n",
    "=1+1",
    "+1",
    "-1",
    "-",
    "@SUM(A1)",
    "\tTab first",
    "\rCR first",
    '=HYPERLINK("http://evil.example","x")',
    "Ünïcødé 工厂, Ltd",
    "emoji 🏭 ; tab\tinside",
    " leading and trailing ",
    "it's 'quoted'",
    "'=already",
    "back\\slash",
    "\u2028 line separator",
    "",
    None,
]


def _written(cells: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


def test_csv_text_is_what_csv_writer_writes(app: Flask) -> None:
    """Each tricky value, and a line of them with numbers, byte for byte as csv.writer writes its cells."""
    table = union_all(
        *(select(literal(n, Integer).label("n"), literal(v, Text).label("x")) for n, v in enumerate(TRICKY))
    ).subquery()
    line = exports.csv_line(
        exports.csv_number(table.c.n), exports.csv_text(table.c.x), exports.csv_text(null())
    )
    with app.app_context():
        found = db.session.execute(
            select(table.c.n, exports.csv_text(table.c.x), line).order_by(table.c.n)
        ).all()
    assert [field for _, field, _ in found] == [exports.csv_field(value) for value in TRICKY]
    assert [text for _, _, text in found] == [
        _written(exports.Cells()([n, v, None])) for n, v in enumerate(TRICKY)
    ]
    assert exports.csv_field('=a,"b"') == '"\'=a,""b"""'


def _chunks(table: exports.Table) -> bytes:
    return "".join(exports.csv_chunks(table)).encode()


def test_the_reports_lines_are_the_csv_of_their_cells(app: Flask, case_world: CaseWorld) -> None:
    """Reports at a site with a tricky name, in tricky countries: the lines the database writes are
    the bytes csv.writer writes for the cells of the rows, in the same order."""
    w = case_world
    with w.session():
        db.session.get_one(Site, w.site).name = '=HYPERLINK("http://evil.example","x"), Ünïcødé\r\nLtd'
    for country in ("CN", '",', "=1", "é\n"):
        w.report(country=country)
    w.report(site_id=w.other_site)
    with app.test_request_context():
        table = exports.table("reports", w.user("monitor"), {}, date(2026, 12, 7))
        assert table.lines is not None
        by_sql = _chunks(table)
        by_writer = _chunks(dataclasses.replace(table, lines=None))
    assert by_sql == by_writer
    assert by_sql.count(b'"\'=HYPERLINK(""http://evil.example"",""x""), ') == 4
    assert len(list(csv.reader(io.StringIO(by_sql.decode())))) == 6


@pytest.fixture
def tricky_findings(finding_world: CaseWorld) -> CaseWorld:
    """A tricky site name, organisation name and standard, and a finding without a worker count."""
    w = finding_world
    tricky = w.finding(workers_affected=None)
    with w.session():
        db.session.get_one(Finding, tricky).standard = '-"FL",1'
        db.session.get_one(Site, w.site).name = '+Plant, "Ünïcødé"\nNorth'
        db.session.get_one(Organisation, w.orgs["monitors"]).name = "@monitors, étrangers"
    return w


@pytest.mark.parametrize("role", ROLES)
def test_the_findings_lines_are_the_csv_of_each_roles_cells(
    app: Flask, tricky_findings: CaseWorld, role: str
) -> None:
    """Suppressed counts and hidden fields per role, as csv.writer writes the cells of the SQL rows."""
    with app.test_request_context():
        user = tricky_findings.user(role)
        lines = db.session.scalars(exports.finding_lines(user, select(Finding)).order_by(Finding.id)).all()
        plain = db.session.execute(select(*exports.finding_values(user)).order_by(Finding.id)).all()
        finish: Callable[[Any], Any] = exports._suppress_workers if suppresses_small_cells(user) else list
        written = [_written(exports.Cells()(finish(values))) for values in plain]
    assert lines == written
    assert len(lines) == 5
    assert sum("fewer than 5" in line for line in lines) == (2 if role in ("affiliate", "supplier") else 0)


@pytest.mark.parametrize("role", ["coordinator", "monitor"])
def test_the_findings_csv_is_the_csv_of_the_orm_path(
    app: Flask, tricky_findings: CaseWorld, role: str
) -> None:
    with app.test_request_context():
        table = exports.table("findings", tricky_findings.user(role), {}, date(2026, 12, 7))
        assert table.lines is not None
        by_sql = _chunks(table)
        by_writer = _chunks(dataclasses.replace(table, lines=None))
        by_orm = _chunks(dataclasses.replace(table, lines=None, values=None))
    assert by_sql == by_writer == by_orm
    assert by_sql.count('"\'+Plant, ""Ünïcødé""\nNorth"'.encode()) == 4
    assert by_sql.count(b'"\'-""FL"",1"') == 1
