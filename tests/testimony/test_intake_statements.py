"""Filing a sealed report costs few statements, and the audit chain it extends still verifies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from flask import Flask
from sqlalchemy import event, select

from monitoring.accounts.models import User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.testimony import sealing
from monitoring.testimony.models import IssueCategory, ReportChannel, WorkerReport
from tests.testimony.monitor_helpers import open_as


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.split(None, 1)[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def _file(monitor: User, text: str) -> WorkerReport:
    return sealing.create_report(
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
        identity=sealing.Identity(name="Somsri"),
        testimony=sealing.Testimony(text=text, categories=[IssueCategory.forced_labour]),
        workplace="Line 4",
    )


def test_a_sealed_report_is_five_statements(app: Flask, monitor_with_keys: User) -> None:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        first = _file(monitor, "The first report")
        with statements() as seen:
            second = _file(monitor, "The second report")
        # The row's id taken first (SQLite: the largest plus one; PostgreSQL: nextval), then plain
        # statements: the report with its sealed fields, its categories (one executemany), the
        # audit entry, the chain's head moved. The organisation's key and the locked head are the
        # transaction's already.
        assert len(seen) == 5, seen
        assert seen[0].startswith(("SELECT max(id) FROM worker_report", "SELECT nextval("))
        assert sum(s.startswith("INSERT INTO worker_report") for s in seen) == 1
        assert sum(s.startswith("INSERT INTO audit_entry") for s in seen) == 1
        assert sum(s.startswith("UPDATE audit_head") for s in seen) == 1
        assert not any(s.startswith(("UPDATE worker_report", "UPDATE audit_entry")) for s in seen)
        assert not any("FROM organisation_key" in s or "FROM audit_head" in s for s in seen)
        entry = audit.AuditEntry
        entries = db.session.scalars(
            select(entry).where(entry.action == "report.create").order_by(entry.id)
        ).all()
        assert [e.object_id for e in entries[-2:]] == [str(first.id), str(second.id)]
        assert entries[-1].id == entries[-2].id + 1
        assert entries[-1].data_dict["organisation_key_id"] == second.organisation_key_id
        assert audit.verify_chain(audit.audit_key()).ok
        db.session.commit()
    for report in (first, second):
        opened = open_as(app, monitor_with_keys, report.id)
        assert opened.identity is not None and opened.identity.name == "Somsri"
        assert opened.workplace == "Line 4"
    assert open_as(app, monitor_with_keys, second.id).testimony == "The second report"


def test_the_first_report_of_a_transaction_reads_the_key_and_locks_the_head(
    app: Flask, monitor_with_keys: User
) -> None:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        _file(monitor, "Before")
        db.session.commit()
        with statements() as seen:
            _file(monitor, "After the commit")
        assert sum("FROM organisation_key" in s for s in seen) == 1
        assert sum("FROM audit_head" in s for s in seen) == 1
        db.session.rollback()
        with statements() as seen:
            _file(monitor, "After the rollback")
        assert sum("FROM organisation_key" in s for s in seen) == 1
        assert sum("FROM audit_head" in s for s in seen) == 1
        db.session.commit()
        assert audit.verify_chain(audit.audit_key()).ok


def test_postgresql_takes_a_transactions_ids_a_block_at_a_time(app: Flask, monitor_with_keys: User) -> None:
    """The first report takes one value of the sequence, the second a block, those after none."""
    from monitoring.testimony import sealing_base

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            import pytest

            pytest.skip("the id blocks are PostgreSQL's sequence")
        monitor = db.session.get(User, monitor_with_keys.id)
        reports = []
        nextvals = []
        for n in range(sealing_base.ID_BLOCK + 3):
            with statements() as seen:
                reports.append(_file(monitor, f"Report {n}"))
            nextvals.append(sum(s.startswith("SELECT nextval(") for s in seen))
        assert nextvals[:3] == [1, 1, 0]
        assert sum(nextvals) == 3  # one, then two blocks
        ids = [r.id for r in reports]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        db.session.commit()
        # A new transaction starts with one value again: the spare ones were dropped.
        with statements() as seen:
            late = _file(monitor, "Later")
        assert sum(s.startswith("SELECT nextval(") for s in seen) == 1 and late.id > max(ids)
        db.session.commit()
        assert audit.verify_chain(audit.audit_key()).ok
