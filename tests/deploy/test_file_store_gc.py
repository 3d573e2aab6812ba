"""The file-store garbage collector deletes only what it can prove was abandoned.

An upload is recorded (``stored_upload``) before its file is written. ``flask jobs run`` deletes
a stored file only when its upload record is older than the grace period and no row names it;
a file with neither a record nor a row (uploaded after the backup a database was restored from)
is reported and kept, and while there is one, nothing is deleted at all.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from monitoring.core.db import db
from monitoring.core.storage import (
    StoredUpload,
    collect_garbage,
    file_store,
    new_object_name,
    reserve_object_name,
)
from monitoring.core.types import utcnow
from monitoring.testimony.models import Evidence
from tests.testimony.monitor_helpers import add_file, make_report

HOURS_AGO = 2 * 3600


def _age(app, name: str, seconds: float = HOURS_AGO) -> None:
    """Make a stored file and its upload record look ``seconds`` old."""
    with app.app_context():
        path = file_store()._path(name)  # the directory store's own layout
        db.session.execute(
            update(StoredUpload)
            .where(StoredUpload.name == name)
            .values(started_dt=utcnow() - timedelta(seconds=seconds))
        )
        db.session.commit()
    then = time.time() - seconds
    os.utime(path, (then, then))


def _exists(app, name: str) -> bool:
    with app.app_context():
        return file_store()._path(name).exists()


def _recorded(app, name: str) -> bool:
    with app.app_context():
        return db.session.get(StoredUpload, name) is not None


def _abandoned_upload(app) -> str:
    """A file whose upload was recorded but whose row was never committed (its request failed)."""
    with app.app_context():
        name = reserve_object_name()
        file_store().write(name, [b"ciphertext nobody can open"])
        db.session.commit()
    return name


def _unknown_file(app) -> str:
    """A file this database never heard of, e.g. uploaded after the backup it was restored from."""
    with app.app_context():
        name = new_object_name()
        file_store().write(name, [b"a file of a newer database"])
    return name


def _evidence_key(app, evidence_id: int) -> str:
    with app.app_context():
        return db.session.scalar(select(Evidence.storage_key).where(Evidence.id == evidence_id))


@pytest.fixture(autouse=True)
def _empty_store(app):
    """Each test starts with a file store that holds nothing of other tests."""
    with app.app_context():
        store = file_store()
        for name in list(store.names_older_than(-60)):
            store.delete(name)


def test_an_abandoned_upload_is_deleted_and_a_finished_one_kept(app, monitor_with_keys):
    kept = _evidence_key(app, add_file(app, make_report(app, monitor_with_keys)))
    assert _recorded(app, kept)  # recorded before it was written
    abandoned, young = _abandoned_upload(app), _abandoned_upload(app)
    _age(app, kept)
    _age(app, abandoned)
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 stored files of abandoned uploads" in result.output
    assert _exists(app, kept) and _exists(app, young) and not _exists(app, abandoned)
    # The records have served: the finished upload's and the abandoned one's are gone.
    assert not _recorded(app, kept) and not _recorded(app, abandoned) and _recorded(app, young)
    with app.app_context():
        assert collect_garbage(file_store()).deleted == 0


def test_files_unknown_to_a_restored_database_are_reported_and_nothing_is_deleted(app, monitor_with_keys):
    """A restore drill: the database is older than the file store it is pointed at."""
    kept = _evidence_key(app, add_file(app, make_report(app, monitor_with_keys)))
    newer = [_unknown_file(app) for _ in range(3)]
    abandoned = _abandoned_upload(app)
    for name in [kept, *newer, abandoned]:
        _age(app, name, 30 * 24 * 3600)
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "3 stored files are unknown to this database" in result.output
    assert "1 abandoned uploads kept until the unknown files are explained" in result.output
    assert all(_exists(app, name) for name in [kept, *newer, abandoned])
    assert _recorded(app, abandoned)

    # Once the unknown files are dealt with (moved out of the store), collection resumes.
    with app.app_context():
        for name in newer:
            file_store().delete(name)
        result = collect_garbage(file_store())
    assert (result.deleted, result.unknown, result.held_back) == (1, [], 0)
    assert _exists(app, kept) and not _exists(app, abandoned)


def test_a_record_whose_file_was_never_written_is_dropped(app):
    with app.app_context():
        name = reserve_object_name()  # the write then failed (too large, disk full…)
        db.session.commit()
    with app.app_context():
        db.session.execute(
            update(StoredUpload)
            .values(started_dt=utcnow() - timedelta(hours=2))
            .where(StoredUpload.name == name)
        )
        db.session.commit()
        assert collect_garbage(file_store()).deleted == 1
    assert not _recorded(app, name)


@pytest.mark.skipif(
    not os.environ.get("MONITORING_TEST_DATABASE_URL"),
    reason="SQLite has one writer at a time: the record joins the request's transaction there",
)
def test_the_record_outlives_the_rollback_of_the_request(app):
    """On PostgreSQL the record commits on its own, so a failed request still leaves proof."""
    state = db.state(app)
    bound = state.bind
    state.bind = state.engine  # as outside the tests: each session on a connection of its own
    try:
        with app.app_context():
            name = reserve_object_name()
            db.session.rollback()
        with state.engine.connect() as connection:
            assert connection.scalar(select(StoredUpload.name).where(StoredUpload.name == name)) == name
    finally:
        with state.engine.begin() as connection:
            connection.execute(delete(StoredUpload).where(StoredUpload.name == name))
        state.bind = bound
