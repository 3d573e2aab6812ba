"""Attack: with the database and the audit key, delete the newest audit entries and move the head back.
Defence: signed checkpoints outside the database (file, log); `flask audit verify` holds the chain to them.

The chain itself stays valid after such a cut, so only an anchor outside the database shows it.
A forged or edited checkpoint file fails its Ed25519 signature; a wrong audit key is named as
such, never reported as tampering.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from monitoring.core import audit
from monitoring.core.audit import AuditEntry, AuditHead
from monitoring.core.db import db


@pytest.fixture
def entries(app):
    """Six fresh audit entries; returns their ids."""
    with app.app_context():
        ids = [audit.record("test.event", f"Event {n}", data={"n": n}).id for n in range(6)]
        db.session.commit()
    return ids


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def _checkpoint_file(app) -> Path:
    return Path(app.config["AUDIT_CHECKPOINT_FILE"])


def _checkpoints(app) -> list[dict]:
    return [json.loads(line) for line in _checkpoint_file(app).read_text().splitlines()]


def _cut_tail(app, count: int) -> None:
    """The attack: delete the newest ``count`` entries and move the head back onto a valid chain."""
    with app.app_context():
        newest = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(count)).all()
        db.session.execute(delete(AuditEntry).where(AuditEntry.id.in_(newest)))
        last = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        head = db.session.get(AuditHead, 1)
        head.last_id, head.last_hash = last.id, last.hash
        db.session.commit()


def test_untouched_log_matches_its_checkpoints(app, entries, caplog):
    caplog.set_level(logging.INFO, logger="monitoring.audit.checkpoint")
    run = _cli(app, "jobs", "run")
    assert run.exit_code == 0, run.output
    assert "audit checkpoint 1" in run.output
    (written,) = _checkpoints(app)
    assert written["last_id"] == entries[-1] and written["entries"] >= 6
    # The same checkpoint went to the application log, for syslog or journald to keep.
    logged = [r.getMessage() for r in caplog.records if r.name == "monitoring.audit.checkpoint"]
    assert any(written["sig"] in message for message in logged)
    # Nothing new: no second checkpoint.
    assert "unchanged" in _cli(app, "audit", "checkpoint").output
    with app.app_context():
        audit.record("test.event", "One more")
        db.session.commit()
    assert _cli(app, "audit", "checkpoint").exit_code == 0
    assert [c["seq"] for c in _checkpoints(app)] == [1, 2]
    verify = _cli(app, "audit", "verify")
    assert verify.exit_code == 0, verify.output
    assert "intact" in verify.output and "matching 2 checkpoints" in verify.output


def test_truncated_tail_fails_against_the_checkpoint(app, entries):
    assert _cli(app, "audit", "checkpoint").exit_code == 0
    (checkpoint,) = _checkpoints(app)
    _cut_tail(app, 3)
    with app.app_context():
        # Without the anchor the cut is invisible: the chain and its head agree.
        assert audit.verify_chain(audit.audit_key()).ok
    verify = _cli(app, "audit", "verify")
    assert verify.exit_code == 1
    assert f"truncated after checkpoint 1 of {checkpoint['created']}" in verify.output
    assert f"recorded {checkpoint['entries']} entries" in verify.output
    # Nor can the next jobs run launder the cut into a fresh checkpoint.
    run = _cli(app, "jobs", "run")
    assert run.exit_code == 1 and "no audit checkpoint written" in run.output
    assert len(_checkpoints(app)) == 1


def test_cut_then_continued_log_fails_as_rewritten(app, entries):
    """After the cut new entries follow (SQLite may even reuse the ids): still caught."""
    assert _cli(app, "audit", "checkpoint").exit_code == 0
    (checkpoint,) = _checkpoints(app)
    _cut_tail(app, 3)
    with app.app_context():
        for n in range(4):
            audit.record("test.event", f"Replacement {n}")
        db.session.commit()
        assert audit.verify_chain(audit.audit_key()).ok
    verify = _cli(app, "audit", "verify")
    assert verify.exit_code == 1
    assert "TRUNCATED OR REWRITTEN" in verify.output
    assert f"after checkpoint 1 of {checkpoint['created']}" in verify.output


def test_rewritten_checkpoint_file_is_tampering(app, entries):
    """The attacker cuts the tail and rewrites the checkpoint to match, without the signing key."""
    assert _cli(app, "audit", "checkpoint").exit_code == 0
    _cut_tail(app, 3)
    with app.app_context():
        head = db.session.get(AuditHead, 1)
        last_id, last_hash = head.last_id, head.last_hash
    (checkpoint,) = _checkpoints(app)
    checkpoint.update(entries=checkpoint["entries"] - 3, last_id=last_id, head_hash=last_hash)
    _checkpoint_file(app).write_text(json.dumps(checkpoint) + "\n")
    verify = _cli(app, "audit", "verify")
    assert verify.exit_code == 1
    assert "checkpoint file tampered" in verify.output and "line 1" in verify.output


def test_removed_checkpoint_line_is_tampering(app, entries):
    for n in range(3):
        with app.app_context():
            audit.record("test.event", f"Batch {n}")
            db.session.commit()
        assert _cli(app, "audit", "checkpoint").exit_code == 0
    lines = _checkpoint_file(app).read_text().splitlines()
    _checkpoint_file(app).write_text("\n".join([lines[0], lines[2]]) + "\n")
    verify = _cli(app, "audit", "verify")
    assert verify.exit_code == 1
    assert "checkpoint file tampered" in verify.output and "line 2" in verify.output


def test_without_a_checkpoint_file_verify_warns_and_still_checks(app, entries):
    assert not _checkpoint_file(app).exists()
    verify = _cli(app, "audit", "verify")
    assert verify.exit_code == 0 and "no audit checkpoint" in verify.output and "intact" in verify.output
    with app.app_context():
        db.session.execute(delete(AuditEntry).where(AuditEntry.id == entries[2]))
        db.session.commit()
    verify = _cli(app, "audit", "verify")
    assert verify.exit_code == 1 and f"BROKEN at entry {entries[3]}" in verify.output


def test_wrong_audit_key_is_named_not_taken_for_tampering(app, entries, monkeypatch):
    assert _cli(app, "audit", "checkpoint").exit_code == 0
    monkeypatch.setitem(app.config, "AUDIT_KEY", "another key, e.g. from the wrong secrets file")
    verify = _cli(app, "audit", "verify")
    assert verify.exit_code == 2
    assert "the audit key does not match this database" in verify.output
    assert "BROKEN" not in verify.output and "tampered" not in verify.output
    # Nor is any entry chained under the wrong key.
    with app.app_context(), pytest.raises(audit.AuditKeyMismatch):
        audit.record("test.event", "Under the wrong key")


def test_edited_key_check_with_the_right_key_is_tampering(app, entries):
    """Someone cannot pass tampering off as a key mix-up by changing the head's key check."""
    with app.app_context():
        db.session.get(AuditHead, 1).key_check = "0" * 64
        db.session.commit()
    verify = _cli(app, "audit", "verify")
    assert verify.exit_code == 1 and "key-check value was changed" in verify.output
