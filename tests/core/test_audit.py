"""The audit chain detects edits, deletions and a truncated tail; it never holds secrets."""

import itertools

import pytest
from sqlalchemy import delete, select, update

from monitoring.core import audit
from monitoring.core.audit import AuditEntry, AuditHead
from monitoring.core.db import db


@pytest.fixture
def entries(app):
    """Five fresh entries; returns their ids."""
    with app.app_context():
        ids = [audit.record("test.event", f"Event {n}", data={"n": n}).id for n in range(5)]
        db.session.commit()
    return ids


def _verify(app):
    with app.app_context():
        return audit.verify_chain(str(app.config["AUDIT_KEY"]).encode())


def _cli(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_intact_chain_verifies(app, entries):
    result = _verify(app)
    assert result.ok and result.checked >= 5
    cli = _cli(app)
    assert cli.exit_code == 0 and "intact" in cli.output


def test_edited_entry_is_named(app, entries):
    with app.app_context():
        db.session.execute(update(AuditEntry).where(AuditEntry.id == entries[2]).values(summary="Nothing"))
        db.session.commit()
    result = _verify(app)
    assert not result.ok and result.broken_id == entries[2]
    assert "changed" in result.reason
    cli = _cli(app)
    assert cli.exit_code == 1 and f"entry {entries[2]}" in cli.output


def test_edited_data_is_detected(app, entries):
    with app.app_context():
        db.session.execute(update(AuditEntry).where(AuditEntry.id == entries[1]).values(data='{"n": 99}'))
        db.session.commit()
    assert _verify(app).broken_id == entries[1]


def test_deleted_entry_breaks_the_next(app, entries):
    with app.app_context():
        db.session.execute(delete(AuditEntry).where(AuditEntry.id == entries[2]))
        db.session.commit()
    result = _verify(app)
    assert not result.ok and result.broken_id == entries[3]
    assert "removed" in result.reason


def test_truncated_tail_is_detected(app, entries):
    with app.app_context():
        db.session.execute(delete(AuditEntry).where(AuditEntry.id >= entries[3]))
        db.session.commit()
    result = _verify(app)
    assert not result.ok and "head" in result.reason


def test_recomputed_hash_without_the_key_is_detected(app, entries):
    """Someone with the database but not the HMAC key cannot forge a consistent entry."""
    with app.app_context():
        entry = db.session.get(AuditEntry, entries[4])
        entry.summary = "Forged"
        entry.hash = audit.compute_hash(b"guessed key", entry)
        head = db.session.get(AuditHead, 1)
        head.last_hash = entry.hash
        db.session.commit()
    assert _verify(app).broken_id == entries[4]


def test_secrets_never_enter_audit_data(app):
    with app.app_context(), pytest.raises(ValueError):
        audit.record("test.bad", "Leaks", data={"password": "hunter2"})


def test_entries_link_in_order(app, entries):
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.id.in_(entries)).order_by(AuditEntry.id)
        ).all()
    for previous, current in itertools.pairwise(rows):
        assert current.prev_hash == previous.hash
