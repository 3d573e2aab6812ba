"""The recovery code of an organisation's key: its format and the recovery key it gives."""

from __future__ import annotations

import hashlib
import hmac

from flask_babel import lazy_gettext as _l

from monitoring.core import crypto
from monitoring.core.operations import OperationError

# A recovery code: 240 random bits and a 20-bit checksum, in 52 Crockford base32 characters.
RECOVERY_SECRET_BYTES = 30
_CHECKSUM_BITS = 20
RECOVERY_CODE_LENGTH = (RECOVERY_SECRET_BYTES * 8 + _CHECKSUM_BITS) // 5
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = {"O": "0", "I": "1", "L": "1"}


def _recovery_private_key(secret: bytes) -> bytes:
    """The recovery key of new versions: a post-quantum hybrid derived from the code."""
    return crypto.derive_private_key(secret, purpose="organisation-recovery-key", suite=crypto.SUITE_HYBRID)


def _recovery_private_for(secret: bytes, recovery_public_key: bytes) -> bytes | None:
    """The private recovery key the code gives for a version's recovery key, if it is its code.

    Versions made before December 2026 have an X25519 recovery key, derived from the same code.
    """
    for suite in (crypto.SUITE_HYBRID, crypto.SUITE_X25519):
        private = crypto.derive_private_key(secret, purpose="organisation-recovery-key", suite=suite)
        if hmac.compare_digest(crypto.public_key_of(private), recovery_public_key):
            return private
    return None


def _checksum(secret: bytes) -> int:
    digest = hashlib.sha256(b"monitoring recovery code\0" + secret).digest()
    return int.from_bytes(digest[:4], "big") >> (32 - _CHECKSUM_BITS)


def format_recovery_code(secret: bytes) -> str:
    """Write a recovery secret as 52 base32 characters in groups of four, with a checksum."""
    value = (int.from_bytes(secret, "big") << _CHECKSUM_BITS) | _checksum(secret)
    chars = [_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(RECOVERY_CODE_LENGTH))]
    return "-".join("".join(chars[i : i + 4]) for i in range(0, RECOVERY_CODE_LENGTH, 4))


def parse_recovery_code(text: str) -> bytes:
    """Read a recovery code as typed (any case, spaces or dashes, O for 0, I or L for 1)."""
    cleaned = "".join(ch for ch in text.upper() if not ch.isspace() and ch not in "-_.")
    cleaned = "".join(_READ_AS.get(ch, ch) for ch in cleaned)
    if len(cleaned) != RECOVERY_CODE_LENGTH or any(ch not in _ALPHABET for ch in cleaned):
        raise OperationError(
            _l(
                "A recovery code has %(num)d letters and digits in groups of four. Please check it.",
                num=RECOVERY_CODE_LENGTH,
            ),
            field="recovery_code",
        )
    value = 0
    for ch in cleaned:
        value = (value << 5) | _ALPHABET.index(ch)
    secret = (value >> _CHECKSUM_BITS).to_bytes(RECOVERY_SECRET_BYTES, "big")
    if value & ((1 << _CHECKSUM_BITS) - 1) != _checksum(secret):
        raise OperationError(
            _l("This recovery code contains a typing error. Please check each group of four."),
            field="recovery_code",
        )
    return secret
