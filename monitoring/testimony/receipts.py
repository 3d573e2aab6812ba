"""Receipts of anonymous worker reports.

A receipt is 20 random decimal digits (about 66 bits) shown once to the worker who files a
report at /report. The database never holds the receipt, nor anything that opens the worker's
side of the conversation without it: a slow, deterministic KDF (argon2id, keyed with the
server's ``RECEIPT_KEY`` as a pepper and a fixed per-deployment salt) turns the receipt into a
master secret, from which HKDF derives

* a *lookup* id, stored in ``WorkerReport.receipt_lookup`` to find the report again, and
* a key pair of the post-quantum hybrid suite (ML-KEM-768 + X25519): the public key is stored
  as ``WorkerReport.receipt_public_key`` and every reply to the worker is sealed to it; the
  private key exists only while a request that carries the receipt is being answered. Receipts
  given before the hybrid keep their X25519 public key; the same receipt derives that key too, so
  their replies still open.

The pepper means a copy of the database alone cannot even test guesses; the slow KDF and the
throttle at /report/follow-up make guessing with the server expensive. Changing
``RECEIPT_KEY`` or the receipt KDF parameters therefore orphans every existing receipt, which is
why it is a secret of its own: ``SECRET_KEY`` can be rotated freely.

Workers type digits in their own script: :func:`normalise_receipt` accepts decimal digits of
any Unicode script (Thai, Burmese, Devanagari, Arabic-Indic, full-width...) and ignores
spaces, dashes and dots.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from flask import current_app

from monitoring.core import crypto

RECEIPT_DIGITS = 20
GROUP_SIZE = 4

# Characters a worker may type between the digits; everything else makes the receipt invalid.
_SEPARATORS = frozenset("._/\u00b7\u2022\u2027\u3002\u30fb\uff0e")  # dots of several scripts


@dataclass(frozen=True)
class ReceiptSecrets:
    """What the server derives from a receipt; none of it is the receipt itself."""

    lookup: str
    private_key: bytes = b""
    public_key: bytes = b""
    x25519_private_key: bytes = b""  # for reports whose receipt key is from before the hybrid

    def private_key_for(self, public_key: bytes | None) -> bytes:
        """The private key that matches a report's stored receipt public key."""
        if public_key is not None and crypto.suite_of(public_key) == crypto.SUITE_X25519:
            return self.x25519_private_key
        return self.private_key

    def __repr__(self) -> str:  # never print the private key into a log or a traceback
        return f"ReceiptSecrets(lookup={self.lookup[:8]}…)"


def new_receipt() -> str:
    """Return a fresh receipt: 20 decimal digits from the operating system's CSPRNG."""
    return "".join(str(secrets.randbelow(10)) for _ in range(RECEIPT_DIGITS))


def format_receipt(receipt: str) -> str:
    """Show a receipt in groups of four digits: ``1234 5678 9012 3456 7890``."""
    return " ".join(receipt[i : i + GROUP_SIZE] for i in range(0, len(receipt), GROUP_SIZE))


def receipt_groups(receipt: str) -> list[str]:
    return format_receipt(receipt).split(" ")


def _digit_value(char: str) -> int | None:
    value = unicodedata.decimal(char, None)
    if value is None:
        value = unicodedata.digit(char, None)
    return value


def normalise_receipt(text: str | None) -> str | None:
    """Return the receipt as 20 ASCII digits, or None if ``text`` is not one.

    Digits of every script count (``๑๒๓``, ``၁၂၃``, ``१२३``, ``١٢٣``, full-width...);
    white space, dashes and dots between them are ignored.
    """
    if not text or len(text) > 200:
        return None
    digits = []
    for char in unicodedata.normalize("NFC", text):
        value = _digit_value(char)
        if value is not None:
            digits.append(str(value))
        elif char.isspace() or unicodedata.category(char) == "Pd" or char in _SEPARATORS:
            continue
        else:
            return None
    receipt = "".join(digits)
    return receipt if len(receipt) == RECEIPT_DIGITS else None


def _pepper() -> bytes:
    return str(current_app.config["RECEIPT_KEY"]).encode()


def _salt(pepper: bytes) -> bytes:
    # Fixed for the deployment (it depends on nothing but the server secret), so the same
    # receipt always derives the same lookup; another deployment's table is useless here.
    return hmac.new(pepper, b"monitoring/receipt-salt/v1", hashlib.sha256).digest()[:16]


def _master_secret(receipt: str) -> bytes:
    config = current_app.config
    pepper = _pepper()
    kdf = Argon2id(
        salt=_salt(pepper),
        length=crypto.KEY_BYTES,
        iterations=int(config["RECEIPT_KDF_TIME_COST"]),
        lanes=1,
        memory_cost=int(config["RECEIPT_KDF_MEMORY_KIB"]),
        secret=pepper,
    )
    return kdf.derive(receipt.encode("ascii"))


def receipt_secrets(receipt: str) -> ReceiptSecrets:
    """Derive the lookup id and the reply key pair of a (normalised) receipt. Slow on purpose."""
    if len(receipt) != RECEIPT_DIGITS or not receipt.isascii() or not receipt.isdigit():
        raise ValueError("a receipt is 20 ASCII digits; normalise it first")
    master = _master_secret(receipt)
    lookup = crypto.derive_key(master, purpose="receipt/lookup").hex()
    private_key = crypto.derive_private_key(master, purpose="receipt/hybrid", suite=crypto.SUITE_HYBRID)
    return ReceiptSecrets(
        lookup=lookup,
        private_key=private_key,
        public_key=crypto.public_key_of(private_key),
        x25519_private_key=crypto.derive_private_key(
            master, purpose="receipt/x25519", suite=crypto.SUITE_X25519
        ),
    )
