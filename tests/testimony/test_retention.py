"""Retention: ``flask jobs run`` erases exactly the reports whose period is over — N years after
their cases closed, M years after their last activity where there is no case — and never a report
linked to an open case."""

# ruff: noqa: F811  (the tests take the imported ``case_world`` fixture as an argument)

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select, update

from monitoring.accounts.models import User
from monitoring.cases.models import Case, CaseOutcome, CaseState
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.testimony import jobs, sealing
from monitoring.testimony.models import ErasureReason, WorkerReport
from monitoring.testimony.retention import years_before
from tests.cases.conftest import case_world  # noqa: F401  (the cases tests' world, as a fixture here)
from tests.cases.helpers import CaseWorld
from tests.cases.worker_helpers import priority_case, receipt_report
from tests.testimony.monitor_helpers import last_audit_id

FILED = datetime(2027, 3, 1, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def _years(n: int) -> datetime:
    return years_before(FILED, -n)


def _close(w: CaseWorld, case_id: int, when: datetime) -> None:
    with w.session():
        db.session.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(state=CaseState.closed, closed_dt=when, outcome=CaseOutcome.resolved)
        )


def _erased(w: CaseWorld) -> set[int]:
    with w.app.app_context():
        return set(db.session.scalars(select(WorkerReport.id).where(WorkerReport.erased_dt.is_not(None))))


def test_retention_erases_exactly_the_reports_due(app, case_world, monkeypatch):
    w = case_world
    monkeypatch.setattr(jobs, "RETENTION_BATCH", 2)  # several batches, each its own transaction
    with time_machine.travel(FILED, tick=False):
        idle, _r1 = receipt_report(w)
        talked, _r2 = receipt_report(w)
        closed, _r3 = receipt_report(w)
        still_open, _r4 = receipt_report(w)
        closed_case, _finding = priority_case(w, [closed])
        priority_case(w, [still_open], standard="FL-3")
    with time_machine.travel(_years(1), tick=False), app.app_context():
        report = db.session.get(WorkerReport, talked)
        sealing.add_message(report, body="Anything new?", author=db.session.get(User, w.users["monitor"].id))
        db.session.commit()
    _close(w, closed_case, _years(2))

    since = last_audit_id(app)
    with app.app_context():
        # Three years of inactivity (the default) less a day: nothing yet.
        assert jobs.run_retention_jobs(_years(3) - DAY).startswith("retention: 0 ")
        assert jobs.run_retention_jobs(_years(3) + DAY) == (
            "retention: 1 worker reports erased after their retention period"
        )
    assert _erased(w) == {idle}
    with app.app_context():
        jobs.run_retention_jobs(_years(4) + DAY)  # three years after the last message
    assert _erased(w) == {idle, talked}
    with app.app_context():
        jobs.run_retention_jobs(_years(7) - DAY)  # five years after the case closed, less a day
    assert _erased(w) == {idle, talked}
    with app.app_context():
        jobs.run_retention_jobs(_years(7) + DAY)
        jobs.run_retention_jobs(_years(40))
    assert _erased(w) == {idle, talked, closed}  # never the report of the open case

    with app.app_context():
        entries = list(
            db.session.scalars(
                select(AuditEntry).where(AuditEntry.id > since, AuditEntry.action == "report.erased")
            )
        )
        assert sorted(int(e.object_id) for e in entries) == sorted([idle, talked, closed])
        assert {e.data_dict["reason"] for e in entries} == {"retention"}
        assert db.session.get(WorkerReport, closed).erasure_reason is ErasureReason.retention


def test_the_settings_change_the_periods(app, case_world):
    w = case_world
    with time_machine.travel(FILED, tick=False):
        idle, _receipt = receipt_report(w)
    app.config["RETENTION_YEARS_AFTER_LAST_ACTIVITY"], saved = (
        10,
        app.config["RETENTION_YEARS_AFTER_LAST_ACTIVITY"],
    )
    try:
        with app.app_context():
            jobs.run_retention_jobs(_years(9))
        assert _erased(w) == set()
        with app.app_context():
            jobs.run_retention_jobs(_years(10) + DAY)
        assert _erased(w) == {idle}
    finally:
        app.config["RETENTION_YEARS_AFTER_LAST_ACTIVITY"] = saved


def test_flask_jobs_run_includes_retention(app, case_world):
    w = case_world
    with time_machine.travel(FILED, tick=False):
        idle, _receipt = receipt_report(w)
    with time_machine.travel(_years(3) + DAY, tick=False):
        result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "retention: 1 worker reports erased" in result.output
    assert _erased(w) == {idle}
