"""Per-call costs the pages pay many times: ``.venv/bin/python benchmarks/micro.py``.

Each line compares the way it was done before (measured here by doing it the old way) with the
code as it is: an enum's translated title (the titles dictionary was rebuilt on every call; it is
now cached per class and locale) and AES-256-GCM on a short value (a cipher object was built on
every call; it is now cached per key), against Fernet.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask_babel import force_locale

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitoring import create_app  # noqa: E402 - needs ROOT on the path
from monitoring.cases.models import Severity  # noqa: E402
from monitoring.core import crypto  # noqa: E402
from monitoring.core.testing import test_config  # noqa: E402

SHORT = b"Workers report 14-hour shifts."  # ~30 bytes: a name, a title, a short field
TEXT = ("Workers report 14-hour shifts and passports kept by the agency. " * 8).encode()  # ~520 bytes


def each(fn: Callable[[], object], n: int) -> float:
    """Return the best of three runs of n calls, in microseconds per call."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best


def line(label: str, before: float, after: float) -> None:
    print(f"{label:<52} {before:>9.2f} µs {after:>9.2f} µs {before / after:>7.1f} x")


def titles() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(test_config(f"sqlite:///{tmp}/micro.sqlite3", INSTANCE_PATH=tmp))
        with app.test_request_context("/"), force_locale("es"):
            member = Severity.priority
            line(
                f"TitledEnum.title (es: {member.title})",
                each(lambda: str(type(member).__titles__()[member]), 20_000),
                each(lambda: member.title, 20_000),
            )


def old_encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(crypto.NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def old_decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(blob[: crypto.NONCE_BYTES], blob[crypto.NONCE_BYTES :], aad)


def cipher_line(label: str, value: bytes, n: int = 20_000) -> None:
    key = crypto.new_key()
    fernet = Fernet(Fernet.generate_key())
    keyring = crypto.Keyring(keys={"k1": key}, active="k1")
    place = {"table": "finding", "column": "summary_ct", "row": 1}

    def old_way() -> bytes:
        return old_decrypt(key, old_encrypt(key, value, b"aad"), b"aad")

    def new_way() -> bytes:
        return crypto.aead_decrypt(key, crypto.aead_encrypt(key, value, b"aad"), b"aad")

    def protected() -> bytes:
        return keyring.decrypt(keyring.encrypt(value, **place), **place)  # type: ignore[arg-type]

    def with_fernet() -> bytes:
        return fernet.decrypt(fernet.encrypt(value))

    before, after = each(old_way, n), each(new_way, n)
    fer, kept = each(with_fernet, n), each(protected, n)
    line(f"AES-GCM encrypt + decrypt, {label}", before, after)
    print(f"  Fernet {fer:.2f} µs: AES-GCM {fer / before:.2f} x as fast before, {fer / after:.2f} x after")
    print(f"  a protected value (keyring, {label}): {kept:.2f} µs, {fer / kept:.2f} x as fast as Fernet")


def ciphers() -> None:
    cipher_line("30 B", SHORT)
    cipher_line("520 B", TEXT)


def main() -> None:
    print(f"{'':<52} {'before':>12} {'after':>12} {'speed-up':>9}")
    titles()
    ciphers()


if __name__ == "__main__":
    main()
