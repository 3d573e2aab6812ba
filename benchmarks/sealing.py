"""Sealing and opening a report with X25519 and with the post-quantum hybrid, on this machine.

``.venv/bin/python benchmarks/sealing.py``

For each HPKE suite it times what filing and opening a report cost in cryptography alone:
sealing (a fresh data key, the three sealed fields, the data key sealed to the organisation's
public key) and opening (the member's grant unsealed to the organisation's private key, the data
key unsealed with it, the three fields decrypted), making a key pair, and the sizes stored.
"""

from __future__ import annotations

import json
import time

from monitoring.core import crypto

IDENTITY = json.dumps({"name": "Somsri Test", "contact": "+66 80 000 0000", "gender": "woman"}).encode()
TESTIMONY = json.dumps(
    "We work every Sunday without overtime pay; the agency keeps our passports. " * 6
).encode()
WORKPLACE = json.dumps("Line 4, building B, the factory by the river").encode()
FIELDS = {"identity_sealed": IDENTITY, "testimony_sealed": TESTIMONY, "workplace_sealed": WORKPLACE}


def per_call_ms(fn, n: int) -> float:
    fn()  # warm up
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1000


def measure(suite: str, n: int) -> dict[str, float]:
    org_private, org_public = crypto.generate_key_pair(suite)
    member_private, member_public = crypto.generate_key_pair(suite)
    grant = crypto.seal(member_public, org_private, context=("organisation_key_grant", 1, 1))

    def seal_report() -> tuple[bytes, dict[str, bytes]]:
        data_key = crypto.new_key()
        sealed = {
            column: crypto.encrypt_field(data_key, value, table="worker_report", column=column, row=1)
            for column, value in FIELDS.items()
        }
        return crypto.seal(org_public, data_key, context=("worker_report", "data_key", 1, 1)), sealed

    wrapped, sealed = seal_report()

    def open_report() -> None:
        private = crypto.unseal(member_private, grant, context=("organisation_key_grant", 1, 1))
        data_key = crypto.unseal(private, wrapped, context=("worker_report", "data_key", 1, 1))
        for column, blob in sealed.items():
            crypto.decrypt_field(data_key, blob, table="worker_report", column=column, row=1)

    return {
        "seal": per_call_ms(seal_report, n),
        "open": per_call_ms(open_report, n),
        "keygen": per_call_ms(lambda: crypto.generate_key_pair(suite), n),
        "public": len(org_public),
        "wrapped": len(wrapped),
        "grant": len(grant),
    }


def main(n: int = 2000) -> None:
    results = {suite: measure(suite, n) for suite in crypto.SUITES}
    print(f"{'':<44} {'X25519':>12} {'ML-KEM-768 + X25519':>20}")
    rows = [
        ("seal a report (data key, 3 fields, HPKE)", "seal", "ms"),
        ("open a report (grant, data key, 3 fields)", "open", "ms"),
        ("make a key pair", "keygen", "ms"),
        ("public key", "public", "bytes"),
        ("sealed data key (per report)", "wrapped", "bytes"),
        ("organisation key sealed to a member", "grant", "bytes"),
    ]
    for label, key, unit in rows:
        x25519, hybrid = results[crypto.SUITE_X25519][key], results[crypto.SUITE_HYBRID][key]
        if unit == "ms":
            print(f"{label:<44} {x25519:>9.3f} ms {hybrid:>17.3f} ms")
        else:
            print(f"{label:<44} {x25519:>6,.0f} bytes {hybrid:>14,.0f} bytes")


if __name__ == "__main__":
    main()
