# ruff: noqa: F811  (setup, a fixture imported from test_survey, is an argument)
"""While a survey import's apply holds SQLite's write lock, a login waits for it and succeeds.

The apply seals every row in one transaction; a login writes its session and waits for the
write lock at most the busy timeout. This module runs on an SQLite file of its own, with a busy
timeout of a few seconds and real commits (no test transaction around it), so a login made
while a 1,000-row apply runs fails if the apply holds the lock longer than that (as it did
when each report was sealed through the ORM: ~25 ms a report, 25 s for 1,000).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command as alembic
from flask import Flask
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

BUSY_TIMEOUT = 5  # seconds; the application's is 30
ROWS = 1000


@pytest.fixture(scope="module")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An application on an SQLite file of its own with a short busy timeout."""
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("SQLite's database-wide write lock; PostgreSQL locks rows")
    folder = tmp_path_factory.mktemp("concurrent")
    url = f"sqlite:///{folder / 'test.sqlite3'}"
    with pytest.MonkeyPatch.context() as patch:
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


def test_a_login_succeeds_while_the_apply_holds_the_lock(app, setup, client_for, create_user, monkeypatch):
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
    assert seen["apply_ended"] - seen["apply_started"] < BUSY_TIMEOUT
    assert counts(app) == (ROWS, 1)
    assert job_of(app, job_id).state == JobState.done
