"""The per-call caches: enum titles per class and locale, AES-GCM objects per key."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask_babel import force_locale

from monitoring import create_app
from monitoring.cases.models import Severity
from monitoring.config import ROOT
from monitoring.core import crypto
from monitoring.core.i18n import compile_catalogs
from monitoring.core.testing import test_config


def test_titles_are_cached_and_still_follow_the_locale(tmp_path: Path) -> None:
    compile_catalogs(ROOT / "translations")
    app = create_app(test_config(f"sqlite:///{tmp_path / 'unused.sqlite3'}", INSTANCE_PATH=str(tmp_path)))
    with app.test_request_context("/"):
        with force_locale("es"):
            assert Severity.priority.title == "Prioritaria"
            assert Severity.priority.title == "Prioritaria"  # from the cache
        with force_locale("en"):
            assert Severity.priority.title == "Priority"
        with force_locale("nl"):
            assert Severity.priority.title == "Prioriteit"
        with force_locale("es"):
            assert Severity.priority.title == "Prioritaria"


def test_titles_outside_a_request_are_english() -> None:
    assert Severity.major.title == "Major"


def test_one_cipher_per_key_and_the_same_results_as_without_cache() -> None:
    one, two = crypto.new_key(), crypto.new_key()
    assert crypto._cipher(one) is crypto._cipher(one)
    assert crypto._cipher(one) is not crypto._cipher(two)
    blob = crypto.aead_encrypt(one, b"testimony", b"aad")
    nonce, body = blob[: crypto.NONCE_BYTES], blob[crypto.NONCE_BYTES :]
    assert AESGCM(one).decrypt(nonce, body, b"aad") == b"testimony"  # what an uncached cipher reads
    assert body == AESGCM(one).encrypt(nonce, b"testimony", b"aad")  # and writes, byte for byte
    uncached = AESGCM(two).encrypt(nonce, b"testimony", b"aad")
    assert crypto.aead_decrypt(two, nonce + uncached, b"aad") == b"testimony"
