"""The chain is extended by plain statements: the session's objects never lag what they wrote."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, update

from monitoring.core import audit
from monitoring.core.audit import AuditEntry, AuditHead
from monitoring.core.db import db


def test_a_loaded_entry_from_a_rolled_back_savepoint_is_read_again(app: Flask) -> None:
    """A savepoint rolled back frees its entry's id; the entry that reuses it is what the session reads."""
    with app.app_context():
        audit.record("test.event", "Before")
        savepoint = db.session.begin_nested()
        undone = audit.record("test.event", "Undone")
        loaded = db.session.get(AuditEntry, undone.id)
        assert loaded is not None and loaded.summary == "Undone"
        savepoint.rollback()
        kept = audit.record("test.event", "Kept")
        assert kept.id == undone.id  # the id is the head's plus one again: no gap
        again = db.session.get(AuditEntry, kept.id)
        assert again is loaded and again.summary == "Kept" and again.hash == kept.hash
        db.session.commit()
        assert audit.verify_chain(audit.audit_key()).ok


def test_a_loaded_head_follows_the_chain(app: Flask) -> None:
    with app.app_context():
        audit.record("test.event", "First")
        head = db.session.get(AuditHead, 1)
        assert head is not None
        entry = audit.record("test.event", "Second")
        assert (head.last_id, head.last_hash) == (entry.id, entry.hash)
        db.session.commit()


def test_a_head_moved_through_the_session_is_the_one_extended(app: Flask) -> None:
    """The remembered end of the chain is not used once the head's object was changed meanwhile."""
    with app.app_context():
        first = audit.record("test.event", "First")
        second = audit.record("test.event", "Second")
        head = db.session.get(AuditHead, 1)
        assert head is not None
        db.session.delete(db.session.get(AuditEntry, second.id))
        head.last_id, head.last_hash = first.id, first.hash  # unflushed
        third = audit.record("test.event", "Third")
        assert (third.id, third.prev_hash) == (first.id + 1, first.hash)
        db.session.commit()
        assert audit.verify_chain(audit.audit_key()).ok


def test_entries_read_back_verify_and_link(app: Flask) -> None:
    with app.app_context():
        made = [audit.record("test.event", f"Event {n}", data={"n": n, "é": "ü"}) for n in range(3)]
        db.session.commit()
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.id.in_([m.id for m in made]))).all()
        by_id = {row.id: row for row in rows}
        for recorded in made:
            row = by_id[recorded.id]
            assert row.hash == recorded.hash == audit.compute_hash(audit.audit_key(), row)
            assert row.prev_hash == recorded.prev_hash
            assert row.created_dt == recorded.created_dt
        assert [by_id[m.id].prev_hash for m in made[1:]] == [m.hash for m in made[:-1]]


def test_a_head_without_a_key_check_gets_one_only_under_the_chains_key(app: Flask, monkeypatch) -> None:
    with app.app_context():
        audit.record("test.event", "Written before the key check existed")
        db.session.execute(update(AuditHead).values(key_check=None))
        db.session.commit()
        monkeypatch.setitem(app.config, "AUDIT_KEY", "not-the-key-this-log-was-written-with-0123456789")
        with pytest.raises(audit.AuditKeyMismatch):
            audit.record("test.event", "Under the wrong key")
        db.session.rollback()
        monkeypatch.undo()
        audit.record("test.event", "Under the chain's key")
        db.session.commit()
        head = db.session.get(AuditHead, 1)
        assert head is not None and head.key_check == audit.key_check_value(audit.audit_key())
        assert audit.verify_chain(audit.audit_key()).ok
