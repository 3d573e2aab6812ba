"""SQLite in WAL mode with a busy timeout: concurrent writers wait their turn instead of failing.

A deferred transaction that has read cannot wait for the write lock: when another writer
committed after its first read, SQLite refuses its write at once ("database is locked"), whatever
the busy timeout. So a request that may write begins with ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command as alembic
from babel.numbers import list_currencies
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from monitoring import create_app
from monitoring.accounts import operations
from monitoring.accounts.models import Organisation, OrganisationKind, UserRole
from monitoring.core.db import READ_METHODS, db, make_engine, sqlite_begin_statement
from monitoring.core.migrate import alembic_config
from monitoring.core.testing import test_config

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("MONITORING_TEST_DATABASE_URL")), reason="SQLite's locking; PostgreSQL has its own"
)

WRITERS = 6
WRITES_EACH = 15


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO counter (id, n) VALUES (1, 0)")
    yield engine
    engine.dispose()


def test_wal_and_busy_timeout_are_set_on_every_connection(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_requests_that_write_begin_immediate(app: Flask) -> None:
    assert sqlite_begin_statement() == "BEGIN"  # no request: a command, a job
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        with app.test_request_context("/", method=method):
            assert sqlite_begin_statement() == "BEGIN IMMEDIATE"
    for method in READ_METHODS:
        with app.test_request_context("/", method=method):
            assert sqlite_begin_statement() == "BEGIN"


def test_a_deferred_reader_that_then_writes_fails_at_once(engine: Engine) -> None:
    """Why: the failure that BEGIN IMMEDIATE avoids, shown without threads."""
    with engine.connect() as first, engine.connect() as second:
        transaction = first.begin()  # no request: deferred
        first.execute(text("SELECT n FROM counter")).scalar()
        with second.begin():
            second.execute(text("UPDATE counter SET n = n + 1"))
        with pytest.raises(OperationalError, match="locked"):
            first.execute(text("UPDATE counter SET n = n + 1"))
        transaction.rollback()


def _increment(app: Flask, engine: Engine, failures: list[BaseException]) -> None:
    try:
        for _ in range(WRITES_EACH):
            # As in a POST request: read, then write what was read, in one transaction.
            with app.test_request_context("/", method="POST"), engine.begin() as conn:
                n = conn.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
                conn.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
    except BaseException as exc:  # collected for the main thread to report
        failures.append(exc)


def test_parallel_read_then_write_transactions_all_succeed(app: Flask, engine: Engine) -> None:
    failures: list[BaseException] = []
    threads = [threading.Thread(target=_increment, args=(app, engine, failures)) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with engine.connect() as conn:
        # Not one increment lost: each writer read the value the previous one committed.
        assert conn.execute(text("SELECT n FROM counter")).scalar() == WRITERS * WRITES_EACH


@pytest.fixture
def own_app(tmp_path: Path) -> Iterator[Flask]:
    """An application on a file database of its own, without the suite's rolled-back connection."""
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    application = create_app(test_config(url, INSTANCE_PATH=str(tmp_path / "instance")))
    alembic.upgrade(alembic_config(url), "heads")
    yield application
    db.state(application).engine.dispose()


def _coordinator_token(app: Flask) -> str:
    with app.app_context():
        org = operations.create_organisation(None, "Operator", OrganisationKind.operator)
        org = db.session.get(Organisation, org.id)
        given = operations.temporary_password()
        user = operations.create_user(
            None,
            email="coordinator@example.org",
            name="Coordinator",
            role=UserRole.coordinator,
            organisation=org,
            password=given,
            must_change_password=True,
        )
        operations.change_password(user, given, "correct horse battery staple")
        _token, clear = operations.create_token(user, "parallel")
        db.session.commit()
        return clear


def test_parallel_api_writers_get_no_server_error(own_app: Flask) -> None:
    """Several clients set currency rates at once through the API: every write lands."""
    token = _coordinator_token(own_app)
    codes = sorted(code for code in list_currencies() if len(code) == 3 and code != "EUR")
    statuses: list[int] = []
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        client = own_app.test_client()
        try:
            for i in range(WRITES_EACH):
                currency = codes[worker * WRITES_EACH + i]
                response: Any = client.put(
                    f"/api/v1/currency-rates/{currency}",
                    json={"eur_per_unit": f"{worker + 1}.{i:02d}"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                statuses.append(response.status_code)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(set(statuses)) == [200], statuses
    with own_app.app_context():
        rates = db.session.execute(text("SELECT count(*) FROM currency_rate")).scalar()
        audited = db.session.execute(
            text("SELECT count(*) FROM audit_entry WHERE action LIKE 'currency_rate%'")
        ).scalar()
    assert rates == WRITERS * WRITES_EACH
    assert audited == WRITERS * WRITES_EACH


def test_a_page_that_touches_its_session_is_not_broken_by_another_writer(own_app: Flask) -> None:
    """A GET saves its session (the last-seen time) in a transaction that reads, then writes.
    Another writer committing in between made it fail with "database is locked" (a 500 under
    load, found by ``make soak``); the save now takes the write lock when it begins, so the other
    writer waits for it instead."""
    import sqlite3
    from datetime import timedelta

    from sqlalchemy import event, update

    from monitoring.core.sessions import WebSession
    from monitoring.core.types import utcnow
    from tests.conftest import login

    _coordinator_token(own_app)
    client = own_app.test_client()
    assert login(client, "coordinator@example.org", "correct horse battery staple").status_code == 302
    with own_app.app_context():
        db.session.execute(update(WebSession).values(last_seen_dt=utcnow() - timedelta(minutes=2)))
        db.session.commit()
        engine = db.engine
    database = engine.url.database
    outcomes: list[str] = []
    armed: list[bool] = []
    own_app.after_request_funcs.setdefault(None, []).append(lambda response: armed.append(True) or response)

    def other_writer(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if (
            statement.lstrip().upper().startswith("SELECT")
            and "FROM web_session" in statement
            and armed
            and not outcomes
        ):
            other = sqlite3.connect(str(database), timeout=0)
            try:
                other.execute("UPDATE web_session SET last_seen_dt = last_seen_dt")
                other.commit()
                outcomes.append("other writer committed")
            except sqlite3.OperationalError as exc:
                outcomes.append(str(exc))
            finally:
                other.close()

    event.listen(engine, "after_cursor_execute", other_writer)
    try:
        response = client.get("/")
    finally:
        event.remove(engine, "after_cursor_execute", other_writer)
    assert response.status_code < 500, response.headers.get("Location")
    assert outcomes == ["database is locked"]  # it waited for the session's write lock
