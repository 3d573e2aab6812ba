"""Encryption primitives for the two encrypted confidentiality levels (DESIGN.md).

*Protected* data is encrypted with AES-256-GCM under the server :class:`Keyring`: every
ciphertext names its key id and is bound (associated data) to table, column and row, so a
ciphertext copied to another place fails to decrypt.

*Sealed* data is encrypted under a random data key; the data key is sealed with HPKE
(HKDF-SHA256, AES-256-GCM) to a monitor organisation's public key, whose private key the server
never holds at rest (see :mod:`monitoring.accounts.keys`). New key pairs use the post-quantum
hybrid KEM ML-KEM-768 + X25519 (X-Wing), so a copy of the database kept until quantum computers
exist still opens nothing; X25519 key pairs made before stay readable. A key says its suite by
its length, and every sealed blob names the suite it was sealed with. Files are encrypted in
64 KiB chunks with the STREAM construction, so truncation and reordering are detected.

Every failure to decrypt raises :class:`DecryptionError` with a generic message: which check
failed is not told to the caller.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import secrets
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Dialect, LargeBinary
from sqlalchemy.types import TypeDecorator

KEY_BYTES = 32
NONCE_BYTES = 12
CHUNK_SIZE = 64 * 1024

_PROTECTED_VERSION = 1
# Version 1 of a password-wrapped blob had no pepper; version 2 mixes in PASSWORD_PEPPER.
_WRAP_VERSION_UNPEPPERED = 1
_WRAP_VERSION = 2
_STREAM_VERSION = 1

# The HPKE suites of sealed data, by name (stored with each organisation key version).
SUITE_X25519 = "x25519"
SUITE_HYBRID = "mlkem768-x25519"
SUITES = (SUITE_X25519, SUITE_HYBRID)
_HPKE = {
    SUITE_X25519: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    SUITE_HYBRID: hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
}
# The first byte of a sealed blob names its suite.
_SEALED_MARK = {SUITE_X25519: 1, SUITE_HYBRID: 2}
# Raw key sizes. A hybrid private key is the ML-KEM-768 seed followed by the X25519 private key,
# its public key the ML-KEM-768 encapsulation key followed by the X25519 public key.
_X25519_BYTES = 32
_MLKEM_SEED_BYTES = 64
_MLKEM_PUBLIC_BYTES = 1184
HYBRID_PRIVATE_BYTES = _MLKEM_SEED_BYTES + _X25519_BYTES
HYBRID_PUBLIC_BYTES = _MLKEM_PUBLIC_BYTES + _X25519_BYTES


class CryptoError(Exception):
    """Base class of the errors below."""


class DecryptionError(CryptoError):
    """A ciphertext could not be decrypted: wrong key, wrong place, or tampered with."""

    def __init__(self, message: str = "decryption failed") -> None:
        super().__init__(message)


class KeyringError(CryptoError):
    """The keyring is missing, malformed or lacks a key that is needed."""


def _context(*parts: object) -> bytes:
    """Encode the associated data unambiguously (length-prefixed parts)."""
    out = bytearray(b"monitoring/v1")
    for part in parts:
        raw = part if isinstance(part, bytes) else str(part).encode()
        out += struct.pack(">I", len(raw)) + raw
    return bytes(out)


# --- Symmetric AEAD -----------------------------------------------------------------------


def new_key() -> bytes:
    """Return a fresh random 256-bit key."""
    return secrets.token_bytes(KEY_BYTES)


@functools.lru_cache(maxsize=256)
def _cipher(key: bytes) -> AESGCM:
    """The AES-GCM object for a key, built once: building one costs more than a short value's encryption."""
    return AESGCM(key)


def aead_encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt with AES-256-GCM under a random nonce; return nonce + ciphertext."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + _cipher(key).encrypt(nonce, plaintext, aad)


def aead_decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Reverse :func:`aead_encrypt`."""
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionError()
    try:
        return _cipher(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError() from exc


# --- The server keyring (protected level) -------------------------------------------------


@dataclass(frozen=True)
class Keyring:
    """Versioned AES-256-GCM keys; new ciphertexts use the active key."""

    keys: dict[str, bytes]
    active: str

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyringError(f"the active key {self.active!r} is not in the keyring")
        for key_id, key in self.keys.items():
            if not key_id.isascii() or not 0 < len(key_id) < 32 or "|" in key_id:
                raise KeyringError(f"bad key id {key_id!r}")
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {key_id!r} must be {KEY_BYTES} bytes")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Keyring:
        try:
            keys = {k: base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            return cls(keys=keys, active=data["active"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise KeyringError(f"malformed keyring: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
        }

    @classmethod
    def generate(cls, key_id: str = "k1") -> Keyring:
        return cls(keys={key_id: new_key()}, active=key_id)

    def with_new_key(self) -> Keyring:
        """Return a keyring with one more key, which becomes the active one."""
        number = 1 + max((int(k[1:]) for k in self.keys if k[1:].isdigit()), default=0)
        key_id = f"k{number}"
        return Keyring(keys={**self.keys, key_id: new_key()}, active=key_id)

    def without(self, key_id: str) -> Keyring:
        if key_id == self.active:
            raise KeyringError("the active key cannot be retired")
        return Keyring(keys={k: v for k, v in self.keys.items() if k != key_id}, active=self.active)

    def encrypt(self, plaintext: bytes, *, table: str, column: str, row: object) -> bytes:
        """Encrypt under the active key, bound to the place the ciphertext is stored."""
        aad = _context("protected", table, column, row, self.active.encode())
        body = aead_encrypt(self.keys[self.active], plaintext, aad)
        return protected_prefix(self.active) + body

    def decrypt(self, blob: bytes, *, table: str, column: str, row: object) -> bytes:
        key_id = key_id_of(blob)
        key = self.keys.get(key_id)
        if key is None:
            raise DecryptionError()
        aad = _context("protected", table, column, row, key_id.encode())
        return aead_decrypt(key, blob[2 + len(key_id) :], aad)


def protected_prefix(key_id: str) -> bytes:
    """Return the bytes every protected ciphertext under ``key_id`` starts with."""
    raw = key_id.encode()
    return bytes([_PROTECTED_VERSION, len(raw)]) + raw


def key_id_of(blob: bytes) -> str:
    """Return the key id a protected ciphertext names."""
    if len(blob) < 2 or blob[0] != _PROTECTED_VERSION or len(blob) < 2 + blob[1]:
        raise DecryptionError()
    try:
        return blob[2 : 2 + blob[1]].decode("ascii")
    except UnicodeDecodeError as exc:
        raise DecryptionError() from exc


def load_keyring(config: dict[str, Any]) -> Keyring:
    """Read the keyring from ``MONITORING_KEYRING`` (JSON) or the keyring file."""
    raw = config.get("KEYRING") or ""
    if raw:
        try:
            return Keyring.from_json(json.loads(raw))
        except ValueError as exc:
            raise KeyringError(f"MONITORING_KEYRING is not valid JSON: {exc}") from exc
    path = Path(config["KEYRING_FILE"])
    if not path.exists():
        raise KeyringError(
            f"no keyring: set MONITORING_KEYRING or create {path} (`flask keys init`; "
            "`make run` makes a development keyring)"
        )
    try:
        return Keyring.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise KeyringError(f"cannot read the keyring file {path}: {exc}") from exc


def write_keyring_file(path: Path, keyring: Keyring, *, kind: str) -> None:
    """Write the keyring atomically with owner-only permissions."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"kind": kind, **keyring.to_json()}, fh, indent=2)
    os.replace(tmp, path)


class ProtectedBytes(TypeDecorator[bytes]):
    """A column that holds only protected ciphertexts.

    It refuses to store anything that is not a keyring ciphertext, so plaintext cannot reach
    the database through it by mistake. Encrypt with :func:`monitoring.core.keyring.protect`.
    """

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        key_id_of(value)  # raises unless it is a protected ciphertext
        return value


# --- Sealing to a key pair (sealed level) -------------------------------------------------


def suite_of(key: bytes) -> str:
    """Return the suite of a raw private or public key, told by its length."""
    if len(key) == _X25519_BYTES:
        return SUITE_X25519
    if len(key) in (HYBRID_PRIVATE_BYTES, HYBRID_PUBLIC_BYTES):
        return SUITE_HYBRID
    raise CryptoError(f"no sealing suite has {len(key)}-byte keys")


def generate_key_pair(suite: str = SUITE_HYBRID) -> tuple[bytes, bytes]:
    """Return a new key pair of the suite (default: the post-quantum hybrid) as (private, public)."""
    if suite == SUITE_X25519:
        private = X25519PrivateKey.generate()
        return private.private_bytes_raw(), private.public_key().public_bytes_raw()
    if suite == SUITE_HYBRID:
        mlkem, x25519 = MLKEM768PrivateKey.generate(), X25519PrivateKey.generate()
        raw = mlkem.private_bytes_raw() + x25519.private_bytes_raw()
        return raw, public_key_of(raw)
    raise CryptoError(f"unknown sealing suite {suite!r}")


def derive_private_key(secret: bytes, *, purpose: str, suite: str = SUITE_HYBRID) -> bytes:
    """Derive a private key of the suite from a high-entropy secret (always the same one)."""
    if suite == SUITE_X25519:
        return derive_key(secret, purpose=purpose)
    if suite == SUITE_HYBRID:
        hkdf = HKDF(algorithm=SHA256(), length=HYBRID_PRIVATE_BYTES, salt=None, info=_context(purpose, suite))
        return hkdf.derive(secret)
    raise CryptoError(f"unknown sealing suite {suite!r}")


def _hybrid_private(raw: bytes) -> hpke.MLKEM768X25519PrivateKey:
    return hpke.MLKEM768X25519PrivateKey(
        MLKEM768PrivateKey.from_seed_bytes(raw[:_MLKEM_SEED_BYTES]),
        X25519PrivateKey.from_private_bytes(raw[_MLKEM_SEED_BYTES:]),
    )


def public_key_of(private_key: bytes) -> bytes:
    """Return the raw public key of a raw private key of either suite."""
    if suite_of(private_key) == SUITE_X25519:
        return X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()
    if len(private_key) != HYBRID_PRIVATE_BYTES:
        raise CryptoError("not a private key")
    mlkem = MLKEM768PrivateKey.from_seed_bytes(private_key[:_MLKEM_SEED_BYTES]).public_key()
    x25519 = X25519PrivateKey.from_private_bytes(private_key[_MLKEM_SEED_BYTES:]).public_key()
    return mlkem.public_bytes_raw() + x25519.public_bytes_raw()


def seal(
    public_key: bytes, plaintext: bytes, *, context: Iterable[object], suite: str | None = None
) -> bytes:
    """Seal a (short) secret to a public key with HPKE, bound to a context.

    The key's length selects the suite; ``suite``, when given, must agree with it.
    """
    found = suite_of(public_key)
    if suite is not None and suite != found:
        raise CryptoError(f"a {found} key where a {suite} key was expected")
    recipient: X25519PublicKey | hpke.MLKEM768X25519PublicKey
    if found == SUITE_X25519:
        recipient = X25519PublicKey.from_public_bytes(public_key)
    elif len(public_key) == HYBRID_PUBLIC_BYTES:
        recipient = hpke.MLKEM768X25519PublicKey(
            MLKEM768PublicKey.from_public_bytes(public_key[:_MLKEM_PUBLIC_BYTES]),
            X25519PublicKey.from_public_bytes(public_key[_MLKEM_PUBLIC_BYTES:]),
        )
    else:
        raise CryptoError("not a public key")
    sealed = _HPKE[found].encrypt(plaintext, recipient, info=_context("seal", *context))
    return bytes([_SEALED_MARK[found]]) + sealed


def sealed_suite(blob: bytes) -> str | None:
    """Return the suite a sealed blob names (None: not a sealed blob)."""
    return next((name for name, mark in _SEALED_MARK.items() if blob[:1] == bytes([mark])), None)


def unseal(private_key: bytes, blob: bytes, *, context: Iterable[object]) -> bytes:
    """Reverse :func:`seal`."""
    try:
        suite = suite_of(private_key)
    except CryptoError as exc:
        raise DecryptionError() from exc
    if sealed_suite(blob) != suite:
        raise DecryptionError()
    try:
        recipient: X25519PrivateKey | hpke.MLKEM768X25519PrivateKey
        if suite == SUITE_X25519:
            recipient = X25519PrivateKey.from_private_bytes(private_key)
        elif len(private_key) == HYBRID_PRIVATE_BYTES:
            recipient = _hybrid_private(private_key)
        else:
            raise DecryptionError()
        return _HPKE[suite].decrypt(blob[1:], recipient, info=_context("seal", *context))
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError() from exc


def encrypt_field(data_key: bytes, plaintext: bytes, *, table: str, column: str, row: object) -> bytes:
    """Encrypt one sealed field under its record's data key, bound to table, column and row."""
    return aead_encrypt(data_key, plaintext, _context("field", table, column, row))


def decrypt_field(data_key: bytes, blob: bytes, *, table: str, column: str, row: object) -> bytes:
    return aead_decrypt(data_key, blob, _context("field", table, column, row))


# --- Keys derived from a password or a high-entropy secret --------------------------------


@dataclass(frozen=True)
class PasswordKdf:
    """argon2id parameters for deriving a wrapping key from a password.

    The defaults are RFC 9106's second recommended profile (t=3, 64 MiB, 4 lanes).
    """

    iterations: int = 3
    memory_kib: int = 65536
    lanes: int = 4

    def derive(self, password: str, salt: bytes) -> bytes:
        return Argon2id(
            salt=salt,
            length=KEY_BYTES,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_kib,
        ).derive(password.encode())


_WRAP_HEADER = ">BIIB"
_WRAP_HEADER_BYTES = struct.calcsize(_WRAP_HEADER) + 16  # the parameters, then a 16-byte salt


def _peppered(argon2_key: bytes, pepper: bytes) -> bytes:
    """Mix the server's password pepper into an argon2id output (HKDF-SHA256, pepper as salt).

    The pepper is a server secret kept outside the database, so a copy of the database alone
    cannot test password guesses against a wrapped key.
    """
    if not pepper:
        raise CryptoError("the password pepper is empty")
    hkdf = HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=pepper, info=_context("password-pepper"))
    return hkdf.derive(argon2_key)


def wrap_with_password(
    secret: bytes, password: str, kdf: PasswordKdf, *, context: Iterable[object], pepper: bytes
) -> bytes:
    """Encrypt a secret under a key derived from a password and the server pepper.

    The argon2id parameters and the salt travel with the blob, whose first byte is its version:
    2, peppered (version 1 blobs, from before the pepper, are still read).
    """
    salt = secrets.token_bytes(16)
    header = struct.pack(_WRAP_HEADER, _WRAP_VERSION, kdf.iterations, kdf.memory_kib, kdf.lanes) + salt
    key = _peppered(kdf.derive(password, salt), pepper)
    return header + aead_encrypt(key, secret, _context("password", header, *context))


def _wrap_parameters(blob: bytes) -> tuple[int, PasswordKdf]:
    if len(blob) < _WRAP_HEADER_BYTES:
        raise DecryptionError()
    version, iterations, memory_kib, lanes = struct.unpack(_WRAP_HEADER, blob[: _WRAP_HEADER_BYTES - 16])
    if version not in (_WRAP_VERSION_UNPEPPERED, _WRAP_VERSION) or not (
        1 <= iterations <= 100 and 8 <= memory_kib <= 4 * 1024 * 1024 and 1 <= lanes <= 64
    ):
        raise DecryptionError()
    return version, PasswordKdf(iterations, memory_kib, lanes)


def unwrap_with_password(blob: bytes, password: str, *, context: Iterable[object], pepper: bytes) -> bytes:
    """Reverse :func:`wrap_with_password`; a version 1 blob opens with the password alone."""
    version, kdf = _wrap_parameters(blob)
    header = blob[:_WRAP_HEADER_BYTES]
    key = kdf.derive(password, header[-16:])
    if version == _WRAP_VERSION:
        key = _peppered(key, pepper)
    return aead_decrypt(key, blob[_WRAP_HEADER_BYTES:], _context("password", header, *context))


def password_wrap_is_current(blob: bytes, kdf: PasswordKdf) -> bool:
    """Whether a blob is peppered and uses these argon2id parameters (else: wrap it again)."""
    try:
        version, used = _wrap_parameters(blob)
    except DecryptionError:
        return False
    return version == _WRAP_VERSION and used == kdf


def derive_key(secret: bytes, *, purpose: str, salt: bytes = b"") -> bytes:
    """Derive a 256-bit key from a high-entropy secret (HKDF-SHA256)."""
    hkdf = HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=salt or None, info=_context(purpose))
    return hkdf.derive(secret)


def wrap_with_key(key: bytes, secret: bytes, *, context: Iterable[object]) -> bytes:
    return aead_encrypt(key, secret, _context("wrap", *context))


def unwrap_with_key(key: bytes, blob: bytes, *, context: Iterable[object]) -> bytes:
    return aead_decrypt(key, blob, _context("wrap", *context))


# --- Files in chunks (STREAM) -------------------------------------------------------------


def _chunk_nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)


def encrypt_stream(key: bytes, source: IO[bytes], *, context: Iterable[object]) -> Iterator[bytes]:
    """Encrypt a stream in 64 KiB chunks; yield the header and then each encrypted chunk.

    Each chunk's nonce holds its position and whether it is the last one, so a reordered,
    truncated or extended file fails to decrypt.
    """
    prefix = secrets.token_bytes(7)
    aad = _context("stream", *context)
    yield bytes([_STREAM_VERSION]) + prefix
    aead = AESGCM(key)
    counter = 0
    current = source.read(CHUNK_SIZE)
    while True:
        following = source.read(CHUNK_SIZE) if len(current) == CHUNK_SIZE else b""
        last = not following
        yield aead.encrypt(_chunk_nonce(prefix, counter, last), current, aad)
        if last:
            return
        counter += 1
        if counter >= 2**32:
            raise CryptoError("file too large")
        current = following


def decrypt_stream(key: bytes, source: IO[bytes], *, context: Iterable[object]) -> Iterator[bytes]:
    """Decrypt what :func:`encrypt_stream` wrote, chunk by chunk."""
    header = source.read(8)
    if len(header) != 8 or header[0] != _STREAM_VERSION:
        raise DecryptionError()
    prefix = header[1:]
    aad = _context("stream", *context)
    aead = AESGCM(key)
    size = CHUNK_SIZE + 16
    counter = 0
    current = source.read(size)
    while True:
        following = source.read(size) if len(current) == size else b""
        last = not following
        try:
            yield aead.decrypt(_chunk_nonce(prefix, counter, last), current, aad)
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError() from exc
        if last:
            return
        counter += 1
        current = following
