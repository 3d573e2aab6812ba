"""Intake remembers the organisation's newest key and the locked audit head for one transaction
only: a rotation, a retirement or a rolled-back savepoint in the same transaction is seen."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, update

from monitoring.accounts import keys
from monitoring.accounts.models import OrganisationKey, User
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.testimony.models import WorkerReport
from tests.testimony.monitor_helpers import open_as
from tests.testimony.test_intake_statements import _file, statements


def test_a_rotation_in_the_same_transaction_seals_the_next_report_to_the_new_version(
    app: Flask, monitor_with_keys: User
) -> None:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        before = _file(monitor, "Sealed to the first version")
        first_key = before.organisation_key_id
        rotated = keys.rotate_organisation_key(monitor, monitor.organisation)
        after = _file(monitor, "Sealed to the second version")
        assert rotated.id != first_key
        assert (after.organisation_key_id, after.data_key_generation) == (rotated.id, rotated.version)
        assert before.organisation_key_id == first_key
        db.session.commit()
        report_ids = before.id, after.id
    assert open_as(app, monitor_with_keys, report_ids[1]).testimony == "Sealed to the second version"
    assert open_as(app, monitor_with_keys, report_ids[0]).testimony == "Sealed to the first version"


def test_a_key_retired_by_a_bulk_update_is_not_sealed_to(app: Flask, monitor_with_keys: User) -> None:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        _file(monitor, "Sealed while the key was current")
        db.session.execute(
            update(OrganisationKey)
            .where(OrganisationKey.organisation_id == monitor.organisation_id)
            .values(retired_dt=utcnow())
        )
        with pytest.raises(OperationError, match="no key"):
            _file(monitor, "Nothing to seal it to")
        db.session.rollback()


def test_a_key_changed_but_not_yet_flushed_is_looked_up_again(app: Flask, monitor_with_keys: User) -> None:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        report = _file(monitor, "Sealed while the key was current")
        key = db.session.get(OrganisationKey, report.organisation_key_id)
        key.retired_dt = utcnow()  # pending: the look-up's autoflush writes it
        with pytest.raises(OperationError, match="no key"):
            _file(monitor, "Nothing to seal it to")
        db.session.rollback()


def test_a_rolled_back_savepoint_leaves_the_chain_whole(app: Flask, monitor_with_keys: User) -> None:
    with app.app_context():
        monitor = db.session.get(User, monitor_with_keys.id)
        kept = _file(monitor, "Kept")
        with pytest.raises(RuntimeError), db.session.begin_nested():
            undone = _file(monitor, "Undone")
            undone_id = undone.id
            raise RuntimeError("the operation refused")
        with statements() as seen:
            last = _file(monitor, "After the savepoint")
        # The head is read (and locked) again: what the savepoint wrote to it was undone.
        assert sum("FROM audit_head" in s for s in seen) == 1
        db.session.commit()
        # SQLite numbers the next report as the undone one was (the largest id plus one).
        reports = db.session.scalars(
            select(WorkerReport.id).where(WorkerReport.organisation_id == monitor.organisation_id)
        ).all()
        assert sorted(reports) == sorted({kept.id, last.id}) and last.id >= undone_id
        entries = db.session.scalars(
            select(audit.AuditEntry.object_id).where(audit.AuditEntry.action == "report.create")
        ).all()
        assert sorted(entries[-2:]) == sorted([str(kept.id), str(last.id)])
        assert audit.verify_chain(audit.audit_key()).ok
        last_id = last.id
    assert open_as(app, monitor_with_keys, last_id).testimony == "After the savepoint"
