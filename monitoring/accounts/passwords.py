"""Passwords: argon2id hashes of the peppered password, and the rules a new password must meet."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

from monitoring.accounts.models import User
from monitoring.core.operations import OperationError

logger = logging.getLogger(__name__)


@functools.cache
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    # Verified against when an account does not exist, so both answers take as long.
    return hasher, PEPPERED_HASH_PREFIX + hasher.hash(secrets.token_urlsafe(16))


def _hasher() -> tuple[PasswordHasher, str]:
    """argon2id with the configured cost (RFC 9106's second profile by default)."""
    config = current_app.config
    return _hasher_for(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"], config["ARGON2_PARALLELISM"])


MIN_PASSWORD_LENGTH = 12
# Marks a hash of the peppered password; hashes from before the pepper lack it (and are
# replaced at the next successful login).
PEPPERED_HASH_PREFIX = "peppered:"


def _peppered(password: str) -> bytes:
    """HMAC-SHA256 of the password under PASSWORD_PEPPER: what argon2id hashes.

    The pepper is kept outside the database, so a copy of the database alone cannot test
    guesses against the stored hash.
    """
    pepper = str(current_app.config["PASSWORD_PEPPER"]).encode()
    return hmac.new(pepper, b"login password\0" + password.encode(), hashlib.sha256).digest()


def hash_password(password: str) -> str:
    return PEPPERED_HASH_PREFIX + _hasher()[0].hash(_peppered(password))


def check_password(user: User | None, password: str) -> bool:
    """Verify a password in constant work whether or not the user exists."""
    hasher, dummy = _hasher()
    stored = user.password_hash if user else dummy
    try:
        if stored.startswith(PEPPERED_HASH_PREFIX):
            hasher.verify(stored.removeprefix(PEPPERED_HASH_PREFIX), _peppered(password))
        else:  # a hash from before the pepper
            hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return user is not None


def password_needs_rehash(user: User) -> bool:
    """Unpeppered, or hashed with other argon2id parameters than configured now."""
    stored = user.password_hash
    if not stored.startswith(PEPPERED_HASH_PREFIX):
        return True
    return _hasher()[0].check_needs_rehash(stored.removeprefix(PEPPERED_HASH_PREFIX))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def temporary_password() -> str:
    """A random password for an administrator to hand over; it must be changed at first login."""
    return secrets.token_urlsafe(12)


# zxcvbn refuses to rate longer passwords; a strong start makes the whole strong.
_ZXCVBN_MAX_LENGTH = 72


def validate_password(password: str, email: str = "", *, name: str = "") -> None:
    """Refuse short passwords and guessable ones (NIST SP 800-63B: check common passwords).

    zxcvbn rates the password against its lists of common and breached passwords, names, words
    and keyboard patterns, and against the person's own name and address: a password that is
    itself on a list, or rated below 3 of 4, is refused with the reason.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise OperationError(
            _l("The password must be at least %(num)d characters long.", num=MIN_PASSWORD_LENGTH),
            field="password",
        )
    if email and password.strip().lower() == email.lower():
        raise OperationError(_l("The password must not be your e-mail address."), field="password")
    personal = [part for part in (email, *email.split("@"), name, *name.split()) if part]
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=personal)
    sequence = result["sequence"]
    if len(sequence) == 1 and sequence[0]["pattern"] == "dictionary":
        if sequence[0].get("dictionary_name") == "user_inputs":
            raise OperationError(
                _l("The password must not be made of your name or e-mail address."), field="password"
            )
        raise OperationError(
            _l(
                "This password is on the lists of common and breached passwords that attackers try "
                "first. Please choose another."
            ),
            field="password",
        )
    if result["score"] < 3:
        raise OperationError(
            _l(
                "This password is too easy to guess: it is made of common words, names, dates, "
                "repeats or keyboard patterns. A few unrelated words, or a longer password, make "
                "a strong one."
            ),
            field="password",
        )
