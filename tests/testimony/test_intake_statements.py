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


def test_a_sealed_report_takes_seven_statements_and_its_audit_entry_one_insert(
    app: Flask, monitor_with_keys: User
) -> None:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        first = _file(monitor, "The first report")
        db.session.flush()
        with statements() as seen:
            second = _file(monitor, "The second report")
        # The organisation's key, the report, its category, its sealed fields (bound to its id),
        # and the audit entry: the chain's head locked, the entry inserted whole, the head moved.
        assert len(seen) == 7, seen
        assert sum(s.startswith("INSERT INTO audit_entry") for s in seen) == 1
        assert not any(s.startswith("UPDATE audit_entry") for s in seen)
        entry = audit.AuditEntry
        entries = db.session.scalars(
            select(entry).where(entry.action == "report.create").order_by(entry.id)
        ).all()
        assert [e.object_id for e in entries[-2:]] == [str(first.id), str(second.id)]
        assert entries[-1].id == entries[-2].id + 1
        assert audit.verify_chain(audit.audit_key()).ok
