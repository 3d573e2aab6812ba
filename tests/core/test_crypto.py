"""The encryption primitives: AEAD binding, the keyring, HPKE sealing, password wrapping, files."""

from __future__ import annotations

import io

import pytest
from sqlalchemy.exc import StatementError

from monitoring.core import crypto
from monitoring.core.crypto import CHUNK_SIZE, DecryptionError, Keyring, KeyringError, PasswordKdf
from monitoring.core.storage import DirectoryStore, new_object_name

PLACE = {"table": "finding", "column": "summary_ct", "row": 7}


def test_aead_binds_associated_data():
    key = crypto.new_key()
    blob = crypto.aead_encrypt(key, b"secret", b"here")
    assert crypto.aead_decrypt(key, blob, b"here") == b"secret"
    with pytest.raises(DecryptionError):
        crypto.aead_decrypt(key, blob, b"there")
    with pytest.raises(DecryptionError):
        crypto.aead_decrypt(crypto.new_key(), blob, b"here")
    with pytest.raises(DecryptionError):
        crypto.aead_decrypt(key, blob[:-1] + bytes([blob[-1] ^ 1]), b"here")
    assert crypto.aead_encrypt(key, b"secret", b"here") != blob  # fresh nonce each time


def test_keyring_ciphertext_names_its_key_and_is_bound_to_its_place():
    keyring = Keyring.generate()
    blob = keyring.encrypt(b"the summary", **PLACE)
    assert crypto.key_id_of(blob) == "k1"
    assert b"the summary" not in blob
    assert keyring.decrypt(blob, **PLACE) == b"the summary"
    for moved in ({"row": 8}, {"column": "text_ct"}, {"table": "message"}):
        with pytest.raises(DecryptionError):
            keyring.decrypt(blob, **{**PLACE, **moved})


def test_keyring_rotation_keeps_old_ciphertexts_readable_until_retired():
    old = Keyring.generate()
    blob = old.encrypt(b"x", **PLACE)
    rotated = old.with_new_key()
    assert rotated.active == "k2"
    assert rotated.decrypt(blob, **PLACE) == b"x"
    assert crypto.key_id_of(rotated.encrypt(b"x", **PLACE)) == "k2"
    retired = rotated.without("k1")
    with pytest.raises(DecryptionError):
        retired.decrypt(blob, **PLACE)
    with pytest.raises(KeyringError):
        rotated.without("k2")  # the active key


def test_keyring_json_round_trip_and_validation():
    keyring = Keyring.generate().with_new_key()
    assert Keyring.from_json(keyring.to_json()) == keyring
    with pytest.raises(KeyringError):
        Keyring.from_json({"active": "k9", "keys": {"k1": "AAAA"}})
    with pytest.raises(KeyringError):
        Keyring.from_json({"active": "k1", "keys": {"k1": "c2hvcnQ="}})  # not 32 bytes
    with pytest.raises(KeyringError):
        Keyring.from_json({"keys": {}})


def test_a_protected_column_refuses_plaintext(app, create_user):
    from monitoring.accounts.models import User
    from monitoring.core.db import db

    user = create_user("monitor")
    with app.app_context():
        row = db.session.get(User, user.id)
        row.totp_secret_ct = b"JBSWY3DPEHPK3PXP"
        with pytest.raises(StatementError):
            db.session.flush()


def test_seal_opens_only_with_the_private_key_and_the_same_context():
    private, public = crypto.generate_key_pair()
    assert crypto.public_key_of(private) == public
    blob = crypto.seal(public, b"data key", context=("worker_report", 1))
    assert crypto.unseal(private, blob, context=("worker_report", 1)) == b"data key"
    with pytest.raises(DecryptionError):
        crypto.unseal(private, blob, context=("worker_report", 2))
    other, _ = crypto.generate_key_pair()
    with pytest.raises(DecryptionError):
        crypto.unseal(other, blob, context=("worker_report", 1))


def test_context_parts_cannot_be_shifted_between_fields():
    key = crypto.new_key()
    blob = crypto.encrypt_field(key, b"v", table="ab", column="c", row=1)
    with pytest.raises(DecryptionError):
        crypto.decrypt_field(key, blob, table="a", column="bc", row=1)


def test_password_wrapping():
    kdf = PasswordKdf(iterations=1, memory_kib=1024)
    pepper = b"p" * 32
    blob = crypto.wrap_with_password(
        b"private key", "a long passphrase", kdf, context=("user", 3), pepper=pepper
    )
    assert blob[0] == 2  # peppered
    assert crypto.password_wrap_is_current(blob, kdf) and not crypto.password_wrap_is_current(
        blob, PasswordKdf()
    )
    opened = crypto.unwrap_with_password(blob, "a long passphrase", context=("user", 3), pepper=pepper)
    assert opened == b"private key"
    with pytest.raises(DecryptionError):
        crypto.unwrap_with_password(blob, "a wrong passphrase", context=("user", 3), pepper=pepper)
    with pytest.raises(DecryptionError):
        crypto.unwrap_with_password(blob, "a long passphrase", context=("user", 3), pepper=b"q" * 32)
    with pytest.raises(DecryptionError):
        crypto.unwrap_with_password(blob, "a long passphrase", context=("user", 4), pepper=pepper)
    with pytest.raises(DecryptionError):
        crypto.unwrap_with_password(blob[:10], "a long passphrase", context=("user", 3), pepper=pepper)


def _encrypt(key: bytes, data: bytes) -> list[bytes]:
    return list(crypto.encrypt_stream(key, io.BytesIO(data), context=("evidence", 1)))


def _decrypt(key: bytes, parts: list[bytes]) -> bytes:
    return b"".join(crypto.decrypt_stream(key, io.BytesIO(b"".join(parts)), context=("evidence", 1)))


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5])
def test_stream_round_trip(size):
    key = crypto.new_key()
    data = bytes(i % 251 for i in range(size))
    parts = _encrypt(key, data)
    assert len(parts) == 1 + max(1, -(-size // CHUNK_SIZE))
    assert _decrypt(key, parts) == data


def test_stream_detects_truncation_reordering_and_extension():
    key = crypto.new_key()
    data = bytes(range(256)) * (3 * CHUNK_SIZE // 256)
    header, *chunks = _encrypt(key, data)
    assert len(chunks) == 3
    for tampered in (
        [header, *chunks[:2]],  # truncated at a chunk boundary
        [header, chunks[1], chunks[0], chunks[2]],  # reordered
        [header, *chunks, chunks[2]],  # extended
        [header, *chunks[:2], chunks[2][:-1]],  # last chunk cut short
    ):
        with pytest.raises(DecryptionError):
            _decrypt(key, tampered)
    with pytest.raises(DecryptionError):
        b"".join(crypto.decrypt_stream(key, io.BytesIO(b"".join([header, *chunks])), context=("evidence", 2)))


def test_directory_store(tmp_path):
    store = DirectoryStore(tmp_path)
    name = new_object_name()
    store.write(name, [b"abc", b"def"])
    with store.open(name) as fh:
        assert fh.read() == b"abcdef"
    with pytest.raises(FileExistsError):
        store.write(name, [b"again"])
    store.delete(name)
    store.delete(name)
    with pytest.raises(ValueError):
        store.open("../secrets.json")
    assert not list(tmp_path.rglob("*.part"))
