"""Settings for a test application (the test suite, the benchmarks): throwaway secrets."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from monitoring.core.crypto import Keyring


def test_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    """Return overrides for a test application with throwaway secrets."""
    return {
        "ENV": "testing",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "AUDIT_KEY": secrets.token_urlsafe(32),
        "RECEIPT_KEY": secrets.token_urlsafe(32),
        "PASSWORD_PEPPER": secrets.token_urlsafe(32),
        "KEYRING": json.dumps(Keyring.generate().to_json()),
        "SECRETS_FILE": os.devnull + ".absent",
        # Cheap hashing keeps the suite fast; production keeps the defaults.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_KIB": 1024,
        "RECEIPT_KDF_TIME_COST": 1,
        "RECEIPT_KDF_MEMORY_KIB": 1024,
        **overrides,
    }


# Not a test, though pytest would collect it by its name wherever it is imported.
test_config.__test__ = False  # type: ignore[attr-defined]
