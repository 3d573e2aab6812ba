"""The findings' export reads plain SQL columns: the same cells as the per-role view of each finding.

Findings with 3 and with 12 workers affected, in a case and outside one; each role's SQL row
(``finding_values`` and its ``finish``) is compared with the cells of ``show_finding`` for that role,
including the roles whose findings list has no export (buyers and suppliers: suppressed counts,
hidden fields), and the exported CSV with the ORM path it replaces.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from monitoring.cases import services_shown as shown
from monitoring.cases.models import Finding
from monitoring.core.db import db
from monitoring.reporting import exports
from monitoring.reporting.permissions import suppresses_small_cells
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
