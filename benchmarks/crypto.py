"""How fast the encryption layers are, on this machine: ``.venv/bin/python benchmarks/crypto.py``.

Measures AES-256-GCM protected values (keyring) against Fernet, HPKE sealing of a data key,
opening a sealed field end to end, chunked file encryption, and the argon2id unwrap a login does.
"""

from __future__ import annotations

import io
import time

from cryptography.fernet import Fernet

from monitoring.core import crypto

TEXT = ("Workers report 14-hour shifts and passports kept by the agency. " * 8).encode()  # ~520 bytes


def rate(label: str, fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    seconds = time.perf_counter() - start
    per_second = n / seconds
    print(f"{label:<58} {per_second:>12,.0f} /s   {seconds / n * 1e6:>9.1f} µs each")
    return per_second


def main() -> None:
    keyring = crypto.Keyring.generate()
    blob = keyring.encrypt(TEXT, table="finding", column="summary_ct", row=1)
    fernet = Fernet(Fernet.generate_key())
    token = fernet.encrypt(TEXT)
    aes = rate(
        "protected value, encrypt + decrypt (AES-256-GCM, 520 B)",
        lambda: (
            keyring.encrypt(TEXT, table="finding", column="summary_ct", row=1),
            keyring.decrypt(blob, table="finding", column="summary_ct", row=1),
        ),
        50_000,
    )
    fer = rate(
        "the same with Fernet (AES-128-CBC + HMAC)",
        lambda: (fernet.encrypt(TEXT), fernet.decrypt(token)),
        50_000,
    )
    print(f"{'  AES-GCM / Fernet':<58} {aes / fer:>12.1f} x")
    big = TEXT * 128  # ~65 KB, e.g. a long testimony
    big_blob = keyring.encrypt(big, table="finding", column="summary_ct", row=1)
    big_token = fernet.encrypt(big)
    aes = rate(
        "protected value, encrypt + decrypt (AES-256-GCM, 65 KB)",
        lambda: (
            keyring.encrypt(big, table="finding", column="summary_ct", row=1),
            keyring.decrypt(big_blob, table="finding", column="summary_ct", row=1),
        ),
        5_000,
    )
    fer = rate("the same with Fernet", lambda: (fernet.encrypt(big), fernet.decrypt(big_token)), 5_000)
    print(f"{'  AES-GCM / Fernet':<58} {aes / fer:>12.1f} x")

    private, public = crypto.generate_key_pair(crypto.SUITE_X25519)  # the hybrid: benchmarks/sealing.py
    data_key = crypto.new_key()
    sealed = crypto.seal(public, data_key, context=("worker_report", "data_key", 1))
    rate(
        "seal a data key to an organisation (HPKE X25519)",
        lambda: crypto.seal(public, data_key, context=("r", 1)),
        5_000,
    )
    field = crypto.encrypt_field(data_key, TEXT, table="worker_report", column="testimony_sealed", row=1)
    rate(
        "open a sealed field (HPKE unseal + AES-GCM)",
        lambda: crypto.decrypt_field(
            crypto.unseal(private, sealed, context=("worker_report", "data_key", 1)),
            field,
            table="worker_report",
            column="testimony_sealed",
            row=1,
        ),
        5_000,
    )

    payload = bytes(range(256)) * (16 * 1024 * 1024 // 256)  # 16 MiB
    start = time.perf_counter()
    encrypted = b"".join(crypto.encrypt_stream(data_key, io.BytesIO(payload), context=("evidence", 1)))
    middle = time.perf_counter()
    plain = b"".join(crypto.decrypt_stream(data_key, io.BytesIO(encrypted), context=("evidence", 1)))
    end = time.perf_counter()
    assert plain == payload
    label = "file in 64 KiB chunks, encrypt / decrypt (16 MiB)"
    print(f"{label:<58} {16 / (middle - start):>10,.0f} MiB/s {16 / (end - middle):>8,.0f} MiB/s")

    kdf = crypto.PasswordKdf()  # the production default: argon2id, 3 passes, 64 MiB, 4 lanes
    pepper = crypto.new_key()
    wrapped = crypto.wrap_with_password(
        private, "correct horse battery staple", kdf, context=("user", 1), pepper=pepper
    )
    rate(
        "unwrap a member's key at login (argon2id t=3, 64 MiB, p=4, pepper)",
        lambda: crypto.unwrap_with_password(
            wrapped, "correct horse battery staple", context=("user", 1), pepper=pepper
        ),
        10,
    )


if __name__ == "__main__":
    main()
