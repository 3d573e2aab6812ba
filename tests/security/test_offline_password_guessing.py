"""Attack: with a copy of the database alone, test password guesses against a wrapped key or a hash.
Defence: both mix in PASSWORD_PEPPER, a separate secret outside the database; production refuses weak argon2.
"""

from __future__ import annotations

import json
import secrets
import struct

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select

from monitoring.accounts import keys, operations
from monitoring.accounts.models import User
from monitoring.config import SECRET_NAMES, ConfigError, load_config
from monitoring.core import crypto
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.devkeys import ensure_dev_secrets
from tests.conftest import PASSWORD, login, session_of


def _row(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.private_key_wrapped, user.password_hash, user.public_key


def _pepper(app) -> bytes:
    return str(app.config["PASSWORD_PEPPER"]).encode()


def test_the_right_password_without_the_pepper_opens_no_key(app, monitor):
    blob, _hash, public = _row(app, monitor.id)
    context = ("user", monitor.id)
    # What a thief of the database alone has: the blob, and (say) the right password.
    for pepper in (b"", b"guess", secrets.token_urlsafe(32).encode(), str(app.config["SECRET_KEY"]).encode()):
        with pytest.raises(crypto.CryptoError):
            crypto.unwrap_with_password(blob, PASSWORD, context=context, pepper=pepper)
    # With the pepper but a wrong password: nothing either.
    for guess in ("correct horse battery stapler", PASSWORD.upper(), ""):
        with pytest.raises(crypto.DecryptionError):
            crypto.unwrap_with_password(blob, guess, context=context, pepper=_pepper(app))
    # Both together (the member's password and the server's pepper) open it.
    private = crypto.unwrap_with_password(blob, PASSWORD, context=context, pepper=_pepper(app))
    assert crypto.public_key_of(private) == public


def test_the_login_hash_confirms_no_guess_without_the_pepper(app, monitor):
    _blob, stored, _public = _row(app, monitor.id)
    assert stored.startswith(operations.PEPPERED_HASH_PREFIX)
    encoded = stored.removeprefix(operations.PEPPERED_HASH_PREFIX)
    hasher = PasswordHasher()
    # The right password, as such or under a pepper guessed wrong, does not match the hash.
    for candidate in (PASSWORD, PASSWORD.encode(), b"\0" * 32):
        with pytest.raises(VerificationError):
            hasher.verify(encoded, candidate)
    with app.app_context():
        assert operations.check_password(db.session.get(User, monitor.id), PASSWORD)
        assert not operations.check_password(db.session.get(User, monitor.id), PASSWORD + "!")


def _unpeppered_blob(private: bytes, password: str, user_id: int) -> bytes:
    """A key wrapped the way it was before the pepper (version 1): argon2id of the password only."""
    kdf = crypto.PasswordKdf(iterations=1, memory_kib=1024, lanes=1)
    salt = secrets.token_bytes(16)
    header = struct.pack(">BIIB", 1, kdf.iterations, kdf.memory_kib, kdf.lanes) + salt
    key = kdf.derive(password, salt)
    return header + crypto.aead_encrypt(key, private, crypto._context("password", header, "user", user_id))


def test_keys_and_hashes_from_before_the_pepper_are_peppered_at_the_next_login(app, monitor):
    with app.app_context():
        user = db.session.get(User, monitor.id)
        private = keys._unwrap_for(user, PASSWORD)
        # The account as it was stored before the pepper existed.
        user.private_key_wrapped = _unpeppered_blob(private, PASSWORD, user.id)
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)
        db.session.commit()
        old_blob = user.private_key_wrapped
        # The old blob opens with the password alone: exactly what the pepper ends.
        assert (
            crypto.unwrap_with_password(old_blob, PASSWORD, context=("user", user.id), pepper=b"") == private
        )
    client = app.test_client()
    assert login(client, monitor).status_code == 302
    blob, stored, public = _row(app, monitor.id)
    assert blob != old_blob and blob[0] == 2 and stored.startswith(operations.PEPPERED_HASH_PREFIX)
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap_with_password(blob, PASSWORD, context=("user", monitor.id), pepper=b"guess")
    assert (
        crypto.unwrap_with_password(blob, PASSWORD, context=("user", monitor.id), pepper=_pepper(app))
        == private
    )
    # The session is unlocked with the same key, and the re-wrap is audited.
    with session_of(app, client), app.app_context():
        assert keys.unlocked_private_key(db.session.get(User, monitor.id)) == private
        assert db.session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.action == "keys.user_rewrap", AuditEntry.object_id == str(monitor.id)
            )
        )
    assert crypto.public_key_of(private) == public


# --- the secret and the cost in production ------------------------------------------------------

PRODUCTION = {
    "MONITORING_ENV": "production",
    "MONITORING_DATABASE_URL": "postgresql+psycopg://db/monitoring",
    "MONITORING_SECRET_KEY": "s" * 40,
    "MONITORING_AUDIT_KEY": "a" * 40,
    "MONITORING_RECEIPT_KEY": "r" * 40,
    "MONITORING_PASSWORD_PEPPER": "p" * 40,
}


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    for name in ("SECRETS_FILE", "KEYRING", "ARGON2_TIME_COST", "ARGON2_MEMORY_KIB", "ARGON2_PARALLELISM"):
        monkeypatch.delenv(f"MONITORING_{name}", raising=False)
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_the_pepper_is_a_secret_of_its_own_and_production_needs_it(production_env, tmp_path):
    assert "PASSWORD_PEPPER" in SECRET_NAMES
    assert load_config({"INSTANCE_PATH": str(tmp_path)})["PASSWORD_PEPPER"] == "p" * 40
    production_env.delenv("MONITORING_PASSWORD_PEPPER")
    with pytest.raises(ConfigError, match="MONITORING_PASSWORD_PEPPER"):
        load_config({"INSTANCE_PATH": str(tmp_path)})
    production_env.setenv("MONITORING_PASSWORD_PEPPER", "short")
    with pytest.raises(ConfigError, match="MONITORING_PASSWORD_PEPPER must be at least 32"):
        load_config({"INSTANCE_PATH": str(tmp_path)})


def test_development_generates_a_pepper(tmp_path):
    path, _created = ensure_dev_secrets(tmp_path)
    data = json.loads(path.read_text())
    assert len(data["password_pepper"]) >= 32 and data["password_pepper"] != data["secret_key"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("ARGON2_TIME_COST", "2"), ("ARGON2_MEMORY_KIB", "32768"), ("ARGON2_PARALLELISM", "1")],
)
def test_production_refuses_argon2_below_rfc_9106s_second_profile(production_env, tmp_path, name, value):
    production_env.setenv(f"MONITORING_{name}", value)
    with pytest.raises(ConfigError, match=f"RFC 9106.*MONITORING_{name}={value}") as excinfo:
        load_config({"INSTANCE_PATH": str(tmp_path)})
    assert "\n" not in str(excinfo.value)


def test_production_defaults_are_the_second_profile_for_hash_and_key(production_env, tmp_path, app):
    config = load_config({"INSTANCE_PATH": str(tmp_path)})
    assert (config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"], config["ARGON2_PARALLELISM"]) == (
        3,
        65536,
        4,
    )
    assert crypto.PasswordKdf() == crypto.PasswordKdf(iterations=3, memory_kib=65536, lanes=4)
    # The login hash and the key wrap both follow the configuration.
    with app.app_context():
        hasher = operations._hasher()[0]
        assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
            app.config["ARGON2_TIME_COST"],
            app.config["ARGON2_MEMORY_KIB"],
            app.config["ARGON2_PARALLELISM"],
        )
        kdf = keys._password_kdf()
        assert (kdf.iterations, kdf.memory_kib, kdf.lanes) == (
            app.config["ARGON2_TIME_COST"],
            app.config["ARGON2_MEMORY_KIB"],
            app.config["ARGON2_PARALLELISM"],
        )
