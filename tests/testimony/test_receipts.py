"""Receipts: random, shown in groups, typed in any script, derived into a lookup and a key pair."""

from __future__ import annotations

import pytest

from monitoring.core import crypto
from monitoring.testimony import receipts

RECEIPT = "01234567890123456789"


@pytest.mark.parametrize(
    "typed",
    [
        RECEIPT,
        "0123 4567 8901 2345 6789",
        "0123-4567-8901-2345-6789",
        "0123.4567.8901.2345.6789",
        "  0123\u00a04567\t8901\n2345 6789 ",
        "๐๑๒๓ ๔๕๖๗ ๘๙๐๑ ๒๓๔๕ ๖๗๘๙",  # Thai
        "၀၁၂၃ ၄၅၆၇ ၈၉၀၁ ၂၃၄၅ ၆၇၈၉",  # Burmese
        "०१२३ ४५६७ ८९०१ २३४५ ६७८९",  # Devanagari (Nepali)
        "٠١٢٣ ٤٥٦٧ ٨٩٠١ ٢٣٤٥ ٦٧٨٩",  # Arabic-Indic
        "\uff10\uff11\uff12\uff13\u3000\uff14\uff15\uff16\uff17\uff18\uff19\uff10\uff11\uff12\uff13"
        "\uff14\uff15\uff16\uff17\uff18\uff19",  # full-width, with an ideographic space
        "๐๑๒๓ 4567 ၈၉၀၁ २३४५ 6789",  # mixed scripts
        "0123\u20134567\u20148901-2345 6789",  # en and em dashes
    ],
)
def test_digits_of_any_script_normalise_to_ascii(typed):
    assert receipts.normalise_receipt(typed) == RECEIPT


@pytest.mark.parametrize(
    "typed",
    [
        None,
        "",
        "0123456789012345678",
        "012345678901234567890",
        "0123456789O123456789",
        "0123 4567 8901 2345 678x",
        "1" * 500,
    ],
)
def test_anything_else_is_not_a_receipt(typed):
    assert receipts.normalise_receipt(typed) is None


def test_new_receipts_are_twenty_random_digits():
    made = {receipts.new_receipt() for _ in range(200)}
    assert len(made) == 200
    assert all(len(r) == 20 and r.isascii() and r.isdigit() for r in made)
    # Every digit shows up in every position over many receipts (no fixed prefix or checksum).
    for position in range(20):
        assert len({r[position] for r in made}) == 10


def test_receipts_are_shown_in_five_groups_of_four():
    assert receipts.format_receipt(RECEIPT) == "0123 4567 8901 2345 6789"
    assert receipts.receipt_groups(RECEIPT) == ["0123", "4567", "8901", "2345", "6789"]


def test_secrets_are_deterministic_and_contain_no_receipt(app):
    with app.app_context():
        one = receipts.receipt_secrets(RECEIPT)
        again = receipts.receipt_secrets(RECEIPT)
        other = receipts.receipt_secrets("98765432109876543210")
    assert one == again
    assert len(one.lookup) == 64 and int(one.lookup, 16) >= 0
    assert one.lookup != other.lookup and one.public_key != other.public_key
    assert crypto.public_key_of(one.private_key) == one.public_key
    assert RECEIPT not in one.lookup and RECEIPT.encode() not in one.public_key
    assert one.lookup[:8] in repr(one) and one.private_key.hex() not in repr(one)
    # The reply key works: what is sealed to the public key opens with the private key.
    blob = crypto.seal(one.public_key, b"reply key", context=("test",))
    assert crypto.unseal(one.private_key, blob, context=("test",)) == b"reply key"


def test_secrets_depend_on_the_receipt_key_only(app, monkeypatch):
    with app.app_context():
        first = receipts.receipt_secrets(RECEIPT)
        monkeypatch.setitem(app.config, "SECRET_KEY", "a rotated secret key, 32+ characters long")
        assert receipts.receipt_secrets(RECEIPT) == first
        monkeypatch.setitem(app.config, "RECEIPT_KEY", "another deployment's receipt key, 32+ chars")
        second = receipts.receipt_secrets(RECEIPT)
    assert first.lookup != second.lookup and first.public_key != second.public_key


def test_secrets_use_the_configured_kdf_cost(app, monkeypatch):
    with app.app_context():
        cheap = receipts.receipt_secrets(RECEIPT)
        monkeypatch.setitem(app.config, "RECEIPT_KDF_TIME_COST", app.config["RECEIPT_KDF_TIME_COST"] + 1)
        costlier = receipts.receipt_secrets(RECEIPT)
    assert cheap.lookup != costlier.lookup


def test_secrets_need_a_normalised_receipt(app):
    with app.app_context(), pytest.raises(ValueError):
        receipts.receipt_secrets("0123 4567 8901 2345 6789")


def test_production_defaults_are_slow_and_tests_cheap(app):
    from monitoring.config import DEFAULTS

    assert DEFAULTS["RECEIPT_KDF_TIME_COST"] >= 3 and DEFAULTS["RECEIPT_KDF_MEMORY_KIB"] >= 65536
    assert app.config["RECEIPT_KDF_MEMORY_KIB"] <= 1024
