# ruff: noqa: F811  (setup, a fixture imported from test_survey, is an argument)
"""While a survey import's apply runs, a login succeeds: on SQLite it waits for the write lock,
on PostgreSQL it does not wait at all.

The apply seals every row in one transaction. This module runs on a database of its own with
real commits (no test transaction around it). On SQLite a login writes its session and waits
for the write lock at most the busy timeout, here a few seconds, so a login made while a
1,000-row apply runs fails if the apply holds the lock longer than that (as it did when each
report was sealed through the ORM: ~25 ms a report, 25 s for 1,000). On PostgreSQL a login
made inside the apply's transaction finishes before it ends (the per-report audit entries kept
the audit chain's head locked from the first report on, so a login waited for the whole apply).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command as alembic
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitoring import create_app
from monitoring.accounts.models import UserRole
from monitoring.config import ROOT
from monitoring.core import db as core_db
from monitoring.core.db import db
from monitoring.core.i18n import compile_catalogs
from monitoring.core.jobs import JobState
from monitoring.core.migrate import alembic_config
from monitoring.core.testing import test_config
from monitoring.testimony import survey
from tests.conftest import login
from tests.testimony.test_survey import _upload, counts, run_worker, setup  # noqa: F401
from tests.testimony.test_survey_jobs import job_id_of, job_of, many_rows

BUSY_TIMEOUT = 15  # seconds; the application's is 30 (the old per-report apply of 1,000 rows took ~40 s)
ROWS = 1000


@contextmanager
def _own_database(database_url: str, folder: Path) -> Iterator[str]:
    """An empty database of this module's own: an SQLite file, or a PostgreSQL database beside the suite's."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{folder / 'test.sqlite3'}"
        return
    name = f"{url.database}_concurrent"
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="module")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An application on a database of its own (SQLite: with a short busy timeout)."""
    folder = tmp_path_factory.mktemp("concurrent")
    with pytest.MonkeyPatch.context() as patch, _own_database(database_url, folder) as url:
        patch.setattr(core_db, "SQLITE_BUSY_TIMEOUT", BUSY_TIMEOUT)
        compile_catalogs(ROOT / "translations")
        application = create_app(test_config(url, INSTANCE_PATH=str(folder / "instance")))
        alembic.upgrade(alembic_config(url), "heads")
        yield application
        db.state(application).engine.dispose()


@pytest.fixture(autouse=True)
def _rollback() -> Iterator[None]:
    """Commits are real here: the login and the worker use connections of their own."""
    yield


def _locked(path: str) -> bool:
    """Whether another connection holds the write lock now."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def _sqlite(app: Flask) -> bool:
    return make_url(app.config["DATABASE_URL"]).get_backend_name() == "sqlite"


@pytest.fixture
def on_sqlite(app: Flask) -> None:
    """Skip (before anything is written: commits are real here) unless the database is SQLite."""
    if not _sqlite(app):
        pytest.skip("SQLite's database-wide write lock")


@pytest.fixture
def on_postgresql(app: Flask) -> None:
    if _sqlite(app):
        pytest.skip("PostgreSQL; on SQLite the login waits for the write lock")


def test_a_login_succeeds_while_the_apply_holds_the_lock(
    app, on_sqlite, setup, client_for, create_user, monkeypatch
):
    other = create_user(UserRole.monitor)
    job_id = job_id_of(_upload(client_for(setup.monitor), many_rows(ROWS)))
    path = make_url(app.config["DATABASE_URL"]).database
    seen: dict[str, Any] = {}

    def log_in() -> None:
        seen["login_started"] = time.perf_counter()
        seen["login"] = login(app.test_client(), other).status_code
        seen["login_ended"] = time.perf_counter()

    thread = threading.Thread(target=log_in)
    import_rows = survey.import_rows

    def import_rows_while_someone_logs_in(*args: Any, **kwargs: Any) -> Any:
        seen["locked"] = _locked(path)  # the apply's transaction took the lock when it began
        thread.start()
        time.sleep(0.2)  # the login is waiting for the lock before the sealing starts
        seen["apply_started"] = time.perf_counter()
        try:
            return import_rows(*args, **kwargs)
        finally:
            seen["apply_ended"] = time.perf_counter()

    monkeypatch.setattr(survey, "import_rows", import_rows_while_someone_logs_in)
    outcomes = run_worker(app)
    thread.join(timeout=BUSY_TIMEOUT * 4)
    assert [o.state for o in outcomes] == [JobState.done]
    assert seen["locked"] is True
    assert seen["login"] == 302
    # The login began before the apply and could finish only after its commit.
    assert seen["login_started"] < seen["apply_started"] < seen["apply_ended"] < seen["login_ended"]
    assert counts(app) == (ROWS, 1)
    assert job_of(app, job_id).state == JobState.done


def test_a_login_does_not_wait_for_the_apply_on_postgresql(
    app, on_postgresql, setup, client_for, create_user, monkeypatch
):
    """PostgreSQL locks rows: a login made inside the apply's transaction, after the first reports
    are written, finishes before that transaction ends (it waited for the whole apply while each
    report's audit entry kept the audit chain's head locked)."""
    other = create_user(UserRole.monitor)
    job_id = job_id_of(_upload(client_for(setup.monitor), many_rows(ROWS)))
    seen: dict[str, Any] = {}

    def log_in() -> None:
        seen["login"] = login(app.test_client(), other).status_code

    def during_the_apply(_done: int) -> None:
        if "joined" in seen:
            return
        seen["thread"] = thread = threading.Thread(target=log_in, daemon=True)
        thread.start()
        thread.join(timeout=BUSY_TIMEOUT * 2)
        seen["joined"] = not thread.is_alive()

    import_rows = survey.import_rows

    def import_rows_with_progress(*args: Any, **kwargs: Any) -> Any:
        return import_rows(*args, **kwargs, progress=during_the_apply)

    monkeypatch.setattr(survey, "import_rows", import_rows_with_progress)
    outcomes = run_worker(app)
    seen["thread"].join(timeout=BUSY_TIMEOUT * 4)  # a login that waited can end once the apply did
    assert [o.state for o in outcomes] == [JobState.done]
    assert seen["joined"] is True
    assert seen["login"] == 302
    assert counts(app) == (ROWS, 1)
    assert job_of(app, job_id).state == JobState.done
