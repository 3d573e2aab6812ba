"""The facility import reads each staged row a bounded number of times, whatever the file's size.

A subquery run once per row that scans a whole table (a missing index on the staging table)
makes an import quadratic: 100,000 rows took 23 minutes instead of half a minute. Timing is no
test, so this one asks SQLite for the plan of every statement the import runs, on the direct
path and through the job path, and refuses a table scan inside a correlated subquery.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from monitoring.core import jobs
from monitoring.core.db import db
from monitoring.supplychain.import_jobs import queue_facility_import
from monitoring.supplychain.imports import import_facilities
from tests.supplychain.test_import_facilities import facility_csv, facility_row

# Rows with and without OS ids, repeated with and without one, so that every step runs.
ROWS = [
    facility_row(name="One Ltd", address="1 Road"),
    facility_row(os_id="CN2019303BBBBBB", name="Two Ltd", address="2 Road"),
    facility_row(os_id="CN2019303AAAAAA", name="ONE LIMITED", address="1, Road"),
    facility_row(name="two limited", address="2 Road"),
    facility_row(name="One Ltd", address="1 Road"),
    facility_row(os_id="CN2019303CCCCCC", name="Three Ltd", address="3 Road"),
]


def _scans_per_row(connection: Any, statement: str, parameters: Any) -> list[str]:
    """The table scans SQLite would run once per row of an outer query (in a correlated
    subquery) for the statement."""
    plan = connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
    parents = {node: parent for node, parent, _, _ in plan}
    correlated = {node for node, _, _, detail in plan if detail.startswith("CORRELATED")}

    def inside_correlated(node: int) -> bool:
        while node in parents:
            node = parents[node]
            if node in correlated:
                return True
        return False

    return [detail for node, _, _, detail in plan if detail.startswith("SCAN ") and inside_correlated(node)]


@contextmanager
def plans_checked() -> Iterator[list[tuple[str, list[str]]]]:
    """Collect, for each statement run meanwhile, the scans it would run per row."""
    found: list[tuple[str, list[str]]] = []

    def explain(conn, cursor, statement, parameters, context, executemany):
        if executemany or not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT")):
            return
        found.append((statement, _scans_per_row(conn.connection.driver_connection, statement, parameters)))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", explain)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", explain)


@pytest.fixture
def sqlite_only(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("reads SQLite's query plans")


def _staging_statements(found: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    statements = [(statement, scans) for statement, scans in found if "tmp_facility_import" in statement]
    assert any("repeats" in statement and "UPDATE" in statement for statement, _ in statements)
    return statements


def test_the_direct_import_runs_no_scan_per_row(app, sqlite_only):
    with app.app_context():
        with plans_checked() as found:
            result = import_facilities(None, io.BytesIO(facility_csv(ROWS)), filename="f.csv")
        db.session.rollback()
    assert (result.created, result.repeats_merged) == (3, 3)
    _staging_statements(found)
    assert [(statement, scans) for statement, scans in found if scans] == []


def test_the_job_path_runs_no_scan_per_row(app, sqlite_only, coordinator):
    with app.app_context():
        user = db.session.merge(coordinator)
        job = queue_facility_import(user, io.BytesIO(facility_csv(ROWS)), "f.csv")
        db.session.commit()
        job_id = job.id
        with plans_checked() as found:
            outcomes = jobs.work_once()
        assert [(o.job_id, o.state) for o in outcomes] == [(job_id, jobs.JobState.done)]
        assert db.session.get(jobs.Job, job_id, populate_existing=True).summary["repeats_merged"] == 3
    _staging_statements(found)
    assert [(statement, scans) for statement, scans in found if scans] == []
