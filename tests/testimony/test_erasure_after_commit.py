"""An erasure shreds the report's files only once it is committed: rolled back, the report keeps
its files as its rows still name them."""

# ruff: noqa: F811  (the tests take the imported ``case_world`` fixture as an argument)

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from monitoring.core.db import db
from monitoring.testimony import operations_erasure
from monitoring.testimony.models import ErasureReason, Evidence, WorkerReport
from tests.cases.conftest import case_world  # noqa: F401  (the cases tests' world, as a fixture here)
from tests.testimony.test_erasure import _full_report


def _stored(app, name: str) -> bool:
    return any(p.name == name for p in Path(app.config["FILE_STORE_PATH"]).rglob("*"))


def test_an_erasure_rolled_back_keeps_the_files_and_a_committed_one_shreds_them(app, case_world):
    report_id, _receipt = _full_report(case_world)
    with app.app_context():
        key = db.session.scalar(select(Evidence.storage_key).where(Evidence.report_id == report_id))
        assert key and _stored(app, key)
        operations_erasure.erase_report(db.session.get(WorkerReport, report_id), ErasureReason.worker_request)
        assert _stored(app, key)
        db.session.rollback()
        assert _stored(app, key)
        assert db.session.get(WorkerReport, report_id, populate_existing=True).erased_dt is None
        assert db.session.scalar(select(Evidence.storage_key).where(Evidence.report_id == report_id)) == key

        operations_erasure.erase_report(db.session.get(WorkerReport, report_id), ErasureReason.worker_request)
        db.session.commit()
        assert not _stored(app, key)
