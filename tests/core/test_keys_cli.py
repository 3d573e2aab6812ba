"""``flask keys``: rotation with resumable re-encryption, retirement, verification."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core import crypto
from monitoring.core.audit import AuditEntry
from monitoring.core.crypto import Keyring
from monitoring.core.db import db
from monitoring.core.keyring import current_keyring, protect, set_keyring, unprotect


@pytest.fixture
def keyring_file(app, tmp_path, monkeypatch):
    """Point the app at a keyring file (the test config keeps it in the environment)."""
    original = app.extensions["monitoring.keyring"]
    path = tmp_path / "keyring.json"
    crypto.write_keyring_file(path, original, kind="production")
    monkeypatch.setitem(app.config, "KEYRING", "")
    monkeypatch.setitem(app.config, "KEYRING_FILE", str(path))
    yield path
    set_keyring(app, original)


@pytest.fixture
def secrets_of(app, create_user):
    """Three users with a protected TOTP secret each; returns a reader of their plaintexts."""
    ids = []
    with app.app_context():
        for n in range(3):
            user = db.session.get(User, create_user("monitor").id)
            user.totp_secret_ct = protect(
                f"SECRET{n}".encode(), table="user_account", column="totp_secret_ct", row=user.id
            )
            ids.append(user.id)
        db.session.commit()

    def read():
        with app.app_context():
            users = [db.session.get(User, i) for i in ids]
            return [
                unprotect(u.totp_secret_ct, table="user_account", column="totp_secret_ct", row=u.id)
                for u in users
            ], [crypto.key_id_of(u.totp_secret_ct) for u in users]

    return read


def _keys(app, *args):
    return app.test_cli_runner().invoke(args=["keys", *args])


def test_rotate_re_encrypts_everything_and_records_it(app, keyring_file, secrets_of):
    result = _keys(app, "rotate")
    assert result.exit_code == 0, result.output
    assert "new active key k2" in result.output
    assert json.loads(keyring_file.read_text())["active"] == "k2"
    plaintexts, key_ids = secrets_of()
    assert plaintexts == [b"SECRET0", b"SECRET1", b"SECRET2"]
    assert key_ids == ["k2"] * 3
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(2)).all()
    assert actions == ["keys.rewrap", "keys.rotate"]


def test_an_interrupted_rewrap_resumes_and_the_old_key_retires_only_when_unused(
    app, keyring_file, secrets_of
):
    with app.app_context():
        rotated = current_keyring().with_new_key()
    crypto.write_keyring_file(keyring_file, rotated, kind="production")
    set_keyring(app, rotated)

    result = _keys(app, "rewrap", "--batch-size", "1", "--max-batches", "1")
    assert "re-encrypted 1 protected values" in result.output
    plaintexts, key_ids = secrets_of()
    assert plaintexts == [b"SECRET0", b"SECRET1", b"SECRET2"]  # reads work mid-rotation
    assert sorted(key_ids) == ["k1", "k1", "k2"]

    refused = _keys(app, "retire", "k1")
    assert refused.exit_code != 0
    assert "still encrypts 2 values" in refused.output

    assert "re-encrypted 2 protected values" in _keys(app, "rewrap").output
    assert "re-encrypted 0" in _keys(app, "rewrap").output

    retired = _keys(app, "retire", "k1")
    assert retired.exit_code == 0, retired.output
    assert set(json.loads(keyring_file.read_text())["keys"]) == {"k2"}
    assert secrets_of() == ([b"SECRET0", b"SECRET1", b"SECRET2"], ["k2"] * 3)
    assert "k2 (active): 3 protected values" in _keys(app, "status").output


def test_the_active_key_cannot_be_retired(app, keyring_file):
    result = _keys(app, "retire", "k1")
    assert result.exit_code != 0
    assert "active key cannot be retired" in result.output


def test_rotation_needs_the_keyring_file(app):
    result = _keys(app, "rotate")
    assert result.exit_code != 0
    assert "MONITORING_KEYRING" in result.output


def test_verify_names_a_ciphertext_moved_to_another_row(app, keyring_file, secrets_of):
    assert _keys(app, "verify").exit_code == 0
    with app.app_context():
        a, b = db.session.scalars(
            select(User).where(User.totp_secret_ct.is_not(None)).order_by(User.id).limit(2)
        ).all()
        b.totp_secret_ct = a.totp_secret_ct
        db.session.commit()
        moved_id = b.id
    result = _keys(app, "verify")
    assert result.exit_code == 1
    assert f"user_account.totp_secret_ct row {moved_id}: does not decrypt under key k1" in result.output


def test_keys_init_refuses_to_overwrite(app, keyring_file, tmp_path, monkeypatch):
    assert _keys(app, "init").exit_code != 0
    fresh = tmp_path / "new" / "keyring.json"
    monkeypatch.setitem(app.config, "KEYRING_FILE", str(fresh))
    assert _keys(app, "init").exit_code == 0
    data = json.loads(fresh.read_text())
    assert data["kind"] == "production"
    assert Keyring.from_json(data).active == "k1"
    assert oct(fresh.stat().st_mode & 0o777) == "0o600"
