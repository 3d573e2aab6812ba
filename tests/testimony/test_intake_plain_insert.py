"""A report written by plain statements is an object of the session as a flush would leave it."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import inspect, select

from monitoring.accounts.models import User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.testimony import sealing
from monitoring.testimony.models import (
    IssueCategory,
    ReportCategory,
    ReportChannel,
    ReportStatus,
    WorkerReport,
)
from tests.testimony.monitor_helpers import open_as
from tests.testimony.test_intake_statements import _file, statements


def test_the_report_reads_like_a_flushed_one(app: Flask, monitor_with_keys: User) -> None:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        report = _file(monitor, "Read back")
        state = inspect(report)
        assert state.persistent and not state.modified
        assert db.session.get(WorkerReport, report.id) is report
        with statements() as seen:
            columns = {c.key: getattr(report, c.key) for c in WorkerReport.__table__.columns}
            assert report.organisation is monitor.organisation  # from the identity map
        assert seen == []  # every column was given: nothing is read back
        assert columns["status"] is ReportStatus.received and columns["created_dt"] is not None
        with statements() as seen:
            assert [c.category for c in report.categories] == [IssueCategory.forced_labour]
        assert len(seen) == 1  # the categories are read when first used
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(WorkerReport, report.id)
        assert {c.key: getattr(stored, c.key) for c in WorkerReport.__table__.columns} == columns


def test_its_categories_are_one_statement(app: Flask, monitor_with_keys: User) -> None:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        _file(monitor, "First")
        categories = [
            IssueCategory.forced_labour,
            IssueCategory.recruitment_fees,
            IssueCategory.forced_labour,
        ]
        with statements() as seen:
            report = sealing.create_report(
                organisation=monitor.organisation,
                site=None,
                country="TH",
                channel=ReportChannel.survey,
                collected_date=date(2026, 11, 30),
                language="th",
                consent_share_buyers=False,
                consent_share_supplier=False,
                consent_contact=False,
                retaliation_risk=None,
                identity=None,
                testimony=sealing.Testimony(text="Two categories", categories=categories),
            )
        assert len(seen) == 5 and sum(s.startswith("INSERT INTO report_category") for s in seen) == 1
        assert report.identity_sealed is None and report.workplace_sealed is None
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(WorkerReport, report.id)
        assert sorted(c.category.value for c in stored.categories) == ["forced_labour", "recruitment_fees"]


def test_a_change_to_the_report_is_flushed_as_an_update(app: Flask, monitor_with_keys: User) -> None:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        report = _file(monitor, "Then changed")
        report.consent_contact = True
        with statements() as seen:
            db.session.flush()
        assert [s.split(None, 1)[0] for s in seen] == ["UPDATE"]
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(WorkerReport, report.id).consent_contact is True


def test_a_report_of_a_rolled_back_savepoint_leaves_the_session(app: Flask, monitor_with_keys: User) -> None:
    """As an object the flush inserted: transient again, and its freed id is free in the session too."""
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        kept = _file(monitor, "Kept")
        savepoint = db.session.begin_nested()
        undone = _file(monitor, "Undone")
        undone_id = undone.id
        savepoint.rollback()
        assert inspect(undone).transient and inspect(kept).persistent
        # SQLite gives the freed id to the next report; the session holds no object under it.
        again = _file(monitor, "Again")
        assert again.id >= undone_id
        assert db.session.get(WorkerReport, again.id) is again
        if again.id != undone_id:
            assert db.session.get(WorkerReport, undone_id) is None
        db.session.commit()
        assert audit.verify_chain(audit.audit_key()).ok
        again_id = again.id
    assert open_as(app, monitor_with_keys, again_id).testimony == "Again"


def test_a_released_savepoints_report_goes_with_its_transaction(app: Flask, monitor_with_keys: User) -> None:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        db.session.commit()
        before = _file(monitor, "Before the savepoint")
        with db.session.begin_nested():
            inside = _file(monitor, "In a savepoint that is released")
        assert inspect(inside).persistent
        with pytest.raises(RuntimeError), db.session.begin_nested():
            _file(monitor, "In one that is rolled back")
            raise RuntimeError("refused")
        assert inspect(before).persistent and inspect(inside).persistent
        db.session.rollback()
        assert inspect(before).transient and inspect(inside).transient
        ids = before.id, inside.id
        assert db.session.scalars(select(WorkerReport.id).where(WorkerReport.id.in_(ids))).all() == []
        assert (
            db.session.scalars(select(ReportCategory.id).where(ReportCategory.report_id.in_(ids))).all() == []
        )
        after = _file(monitor, "In the next transaction")
        assert inspect(after).persistent
        db.session.commit()
        assert inspect(after).persistent
        assert audit.verify_chain(audit.audit_key()).ok
