"""`flask jobs run` deletes stored files that no row refers to, once they are old enough."""

from __future__ import annotations

import os
import time

from sqlalchemy import select

from monitoring.core.db import db
from monitoring.core.storage import file_store, new_object_name, purge_orphans
from monitoring.testimony.models import Evidence
from tests.testimony.monitor_helpers import add_file, make_report


def _age(app, name: str, seconds: float) -> None:
    with app.app_context():
        path = file_store()._path(name)  # the directory store's own layout
    then = time.time() - seconds
    os.utime(path, (then, then))


def _exists(app, name: str) -> bool:
    with app.app_context():
        return file_store()._path(name).exists()


def test_only_old_files_without_a_row_are_deleted(app, monitor_with_keys):
    evidence_id = add_file(app, make_report(app, monitor_with_keys))
    with app.app_context():
        kept = db.session.scalar(select(Evidence.storage_key).where(Evidence.id == evidence_id))
        orphan, young = new_object_name(), new_object_name()
        # As left by an upload whose transaction rolled back after the file was written.
        file_store().write(orphan, [b"ciphertext nobody can open"])
        file_store().write(young, [b"an upload still in flight"])
    _age(app, kept, 7200)
    _age(app, orphan, 7200)
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 stored files that no row refers to" in result.output
    assert _exists(app, kept) and _exists(app, young) and not _exists(app, orphan)
    with app.app_context():
        assert purge_orphans(file_store()) == 0
