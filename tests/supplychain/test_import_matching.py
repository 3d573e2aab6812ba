"""Site keys: one factory spelled in several ways gets one key; different ones do not."""

from __future__ import annotations

import pytest

from monitoring.supplychain.matching import (
    country_codes,
    is_country_code,
    kind_from_types,
    normalise_name,
    site_keys,
    workers_from_text,
)
from monitoring.supplychain.models import SiteKind


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Hon Hai Precision Industry Co., Ltd.", "hon hai precision industry co ltd"),
        ("Hon Hai Precision Industry Co.,Ltd.", "HON HAI  PRECISION INDUSTRY"),
        ("HonHai Precision", "Hon Hai Precision Limited"),
        ("Pardubice Electronics s.r.o.", "Pardubice Electronics, S.R.O."),
        ("Juárez Ensambles S.A. de C.V.", "Juarez Ensambles SA de CV"),
        ("Penang Circuits Sdn. Bhd.", "Penang Circuits Sdn Bhd"),
        ("Siam Display Public Company Limited", "Siam Display PCL"),
        ("\uff26\uff55\uff4c\uff4c \uff2c\uff54\uff44", "Full Ltd"),  # full-width letters
        ("Wrocław Kable Sp. z o.o.", "WROCLAW KABLE SP Z O O"),
    ],
)
def test_same_company_same_name_key(a, b):
    assert normalise_name(a) == normalise_name(b)
    assert site_keys(a, "1 Road", "cn").name_key == site_keys(b, "1 Road", "CN").name_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Hon Hai Precision", "Hon Hai Plastics"),
        ("Siam Display", "Siam Displays"),
        ("Kutna 1 Electronics", "Kutna 2 Electronics"),
    ],
)
def test_different_companies_differ(a, b):
    assert normalise_name(a) != normalise_name(b)


def test_address_spelling_and_abbreviations():
    a = site_keys("X", "No.5 Keji Road, Bldg. 3", "CN")
    b = site_keys("X", "No. 5 Keji Rd, Building 3", "CN")
    c = site_keys("X", "No. 6 Keji Road, Building 3", "CN")
    assert a.match_key == b.match_key != c.match_key


def test_country_is_part_of_both_keys():
    assert site_keys("X", "1 Road", "CN").match_key != site_keys("X", "1 Road", "TW").match_key
    assert site_keys("X", "1 Road", "CN").name_key != site_keys("X", "1 Road", "TW").name_key


def test_a_name_of_legal_words_only_keeps_them():
    assert normalise_name("Company Limited") == "companylimited"


def test_country_codes_are_iso_alpha2():
    codes = country_codes()
    assert {"CN", "TH", "MY", "CZ", "MX", "XK"} <= codes
    assert not {"EU", "UN", "ZZ", "EZ", "QO", "XA"} & codes
    assert all(len(c) == 2 and c.isupper() for c in codes)
    assert 240 < len(codes) < 260
    assert not is_country_code("cn") and is_country_code("CN")


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["Final Product Assembly", "Assembly"], SiteKind.final_assembly),
        (["", "final assembly|Packing"], SiteKind.final_assembly),
        (["Raw Material Processing or Production", "Mechanical Recycling"], SiteKind.recycling),
        (["", "Repair and refurbishment"], SiteKind.recycling),
        (["Textile or Material Production", "Molding"], SiteKind.component),
        (["Office / HQ", ""], SiteKind.component),
        (["", " "], None),
    ],
)
def test_kind_from_open_supply_hub_types(values, kind):
    assert kind_from_types(values) is kind


@pytest.mark.parametrize(
    ("text", "workers"),
    [
        ("", None),
        ("250", 250),
        ("1001-5000", 3000),
        (" 1001 - 5000 ", 3000),
        ("1,000", 1000),
        ("100|1001-5000|400", 400),
        ("100|300", 100),
        ("0", 0),
    ],
)
def test_workers_from_numbers_and_ranges(text, workers):
    assert workers_from_text(text) == workers


@pytest.mark.parametrize("text", ["about 500", "-5", "5000-1000", "1e3", "12345678"])
def test_workers_refused(text):
    with pytest.raises(ValueError):
        workers_from_text(text)
