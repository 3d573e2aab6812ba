# ruff: noqa: F811  (app and _rollback, fixtures imported from test_survey_bulk_concurrency, are arguments)
"""Two writers filing sealed reports at the same time each get ids of their own, and every report
opens: the id a report's sealing names is taken before its insert (PostgreSQL: ``nextval``;
SQLite: the largest id plus one under the write lock), never guessed across transactions.

Commits are real here, on a database of this module's own.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core import audit
from monitoring.core import db as core_db
from monitoring.core.db import db
from monitoring.testimony.models import WorkerReport
from tests.testimony.monitor_helpers import open_as
from tests.testimony.test_intake_statements import _file
from tests.testimony.test_survey_bulk_concurrency import _rollback, app  # noqa: F401

PER_WRITER = 15


def _writer(app: Flask, user_id: int, name: str, start: threading.Barrier, seen: dict[str, Any]) -> None:
    with app.app_context():
        # As a request that writes, or the import worker: SQLite's write lock from the first statement.
        token = core_db.write_intent.set(True)
        try:
            start.wait(timeout=30)
            monitor = db.session.get(User, user_id)
            ids = [_file(monitor, f"{name} {i}").id for i in range(PER_WRITER)]
            db.session.commit()
            seen[name] = ids
        except Exception as exc:  # reported by the test
            db.session.rollback()
            seen[f"{name} failed"] = repr(exc)
        finally:
            core_db.write_intent.reset(token)
            db.session.remove()


def test_two_writers_get_their_own_ids_and_every_report_opens(app, monitor_with_keys: User) -> None:
    start = threading.Barrier(2)
    seen: dict[str, Any] = {}
    threads = [
        threading.Thread(target=_writer, args=(app, monitor_with_keys.id, name, start, seen))
        for name in ("first", "second")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(key.endswith("failed") for key in seen), seen
    ids = seen["first"] + seen["second"]
    assert len(set(ids)) == 2 * PER_WRITER
    with app.app_context():
        reports = db.session.scalars(select(WorkerReport).where(WorkerReport.id.in_(ids))).all()
        assert len(reports) == 2 * PER_WRITER
        entries = db.session.scalars(
            select(audit.AuditEntry.object_id).where(audit.AuditEntry.action == "report.create")
        ).all()
        assert sorted(int(e) for e in entries if int(e) in ids) == sorted(ids)
        assert audit.verify_chain(audit.audit_key()).ok
    for name in ("first", "second"):
        for i in (0, PER_WRITER - 1):
            assert open_as(app, monitor_with_keys, seen[name][i]).testimony == f"{name} {i}"
