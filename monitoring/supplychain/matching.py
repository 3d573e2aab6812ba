"""Normalised keys for matching sites across imports, and the codes a site is described with.

Two spellings of one factory should give the same key: case, accents, width, spacing,
punctuation and legal-form words ("Co., Ltd.", "GmbH", "s.r.o.", "S.A. de C.V." ...) are
ignored, and a few common address abbreviations ("Rd." / "Road") are made one.
"""

from __future__ import annotations

import difflib
import functools
import re
import statistics
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from monitoring.supplychain.models import SiteKind

# Legal-form words, compared after punctuation is removed and runs of single letters are
# joined ("s.r.o." -> "sro", "S.A. de C.V." -> "sa de cv"). They are dropped wherever they
# stand in a name: "Hon Hai Precision Co., Ltd. (Shenzhen)" keeps its branch suffix.
COMPANY_SUFFIXES = frozenset(
    {
        "co",
        "coltd",
        "company",
        "corp",
        "corporation",
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "plc",
        "gmbh",
        "kg",
        "ag",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "ab",
        "as",
        "oy",
        "sro",
        "kft",
        "sp",
        "zoo",
        "sdn",
        "bhd",
        "berhad",
        "pte",
        "pvt",
        "pt",
        "tbk",
        "jsc",
        "cv",
        "de",
        "rl",
        "sapi",
        "public",
        "pcl",
        "group",
        "holdings",
    }
)

# Address words written in several ways, mapped to one spelling.
ADDRESS_WORDS = {
    "rd": "road",
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "av": "avenue",
    "blvd": "boulevard",
    "bldg": "building",
    "dist": "district",
    "ind": "industrial",
    "indus": "industrial",
    "hwy": "highway",
    "no": "",
    "nr": "",
}

_TOKENS = re.compile(r"[^\W_]+", re.UNICODE)

# Open Supply Hub ids: the country code and 13 letters or digits (e.g. CN2019303BQ3FZP).
OS_ID_PATTERN = re.compile(r"^[A-Z]{2}[0-9A-Z]{13}$")

# Two-letter region codes of CLDR that are not countries (ISO 3166-1 alpha-2): groupings,
# pseudo-locales and exceptionally reserved codes. XK (Kosovo) stays: Open Supply Hub uses it.
_NOT_COUNTRIES = frozenset(
    {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
)


@functools.cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, from Babel's list of territories."""
    from babel import Locale

    return frozenset(
        code
        for code in Locale("en").territories
        if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    )


def is_country_code(code: str) -> bool:
    return code in country_codes()


# Names that Open Supply Hub, the UN or ISO give a country where CLDR's English name differs.
COUNTRY_ALIASES = {
    "viet nam": "VN",
    "myanmar": "MM",
    "burma": "MM",
    "turkey": "TR",
    "turkiye": "TR",
    "korea": "KR",
    "korea republic of": "KR",
    "republic of korea": "KR",
    "korea south": "KR",
    "korea democratic people s republic of": "KP",
    "north korea": "KP",
    "taiwan province of china": "TW",
    "taiwan republic of china": "TW",
    "hong kong": "HK",
    "macao": "MO",
    "macau": "MO",
    "czech republic": "CZ",
    "russian federation": "RU",
    "iran islamic republic of": "IR",
    "lao people s democratic republic": "LA",
    "laos": "LA",
    "moldova republic of": "MD",
    "tanzania united republic of": "TZ",
    "bolivia plurinational state of": "BO",
    "venezuela bolivarian republic of": "VE",
    "syrian arab republic": "SY",
    "united states of america": "US",
    "usa": "US",
    "uk": "GB",
    "great britain": "GB",
    "ivory coast": "CI",
    "cote d ivoire": "CI",
    "swaziland": "SZ",
    "macedonia": "MK",
    "palestine state of": "PS",
    "congo the democratic republic of the": "CD",
    "kosovo": "XK",
}


def _country_key(text: str) -> str:
    return " ".join(_TOKENS.findall(fold(text)))


@functools.cache
def _country_names() -> dict[str, str]:
    """Country names (English, CLDR's and the aliases) and ISO 3166 alpha-3 codes, folded."""
    from babel import Locale
    from babel.core import get_global

    codes = country_codes()
    names: dict[str, str] = {}
    for alias, replacement in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and len(replacement) == 1 and replacement[0] in codes:
            names[alias.casefold()] = replacement[0]
    for code, name in Locale("en").territories.items():
        if code in codes:
            names[_country_key(name)] = code
            # "Myanmar (Burma)", "Hong Kong SAR China": the name without its qualifier too.
            names.setdefault(_country_key(name.split("(")[0].replace(" SAR China", "")), code)
    names.update(COUNTRY_ALIASES)
    return names


def country_from_text(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country given by that code, its alpha-3 code or its
    English name, in any case (``MYANMAR``, ``Viet Nam``, ``Türkiye``, ``DEU``); None if unknown."""
    value = text.strip()
    if len(value) == 2 and value.upper() in country_codes():
        return value.upper()
    if not value:
        return None
    return _country_names().get(_country_key(value))


# Characters that export tools leave in names and addresses: the white square a missing glyph
# becomes, zero-width spaces and joiners, the word joiner, a stray BOM and soft hyphens.
_STRAY = dict.fromkeys(map(ord, "\u25a1\u200b\u200c\u200d\u2060\ufeff\u00ad\ufffc"), " ")


def clean_text(text: str) -> str:
    """Drop stray characters and control characters, and collapse spacing (NBSP included)."""
    text = text.translate(_STRAY)
    if not text.isascii() or any(ord(c) < 32 for c in text):
        text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return " ".join(text.split())


class SiteKeys(NamedTuple):
    match_key: str
    name_key: str


def fold(text: str) -> str:
    """Fold case, width and accents, turn punctuation into spaces and collapse spacing."""
    return " ".join(_words(text))


# Letters that Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "\u0131": "i"}
)


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_LETTERS))
        text = "".join(c for c in text if not unicodedata.combining(c))
    words = _TOKENS.findall(text)
    # Join runs of single letters, so "s.r.o." and "sro", "A B C" and "ABC" agree.
    joined: list[str] = []
    run = ""
    for word in words:
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            joined.append(run)
            run = ""
        joined.append(word)
    if run:
        joined.append(run)
    return joined


def normalise_name(name: str) -> str:
    """Fold a company name and drop its legal-form words (all of them if nothing else is left)."""
    words = _words(name)
    kept = [w for w in words if w not in COMPANY_SUFFIXES]
    return "".join(kept or words)


def normalise_address(address: str) -> str:
    """Fold an address and make common abbreviations one word."""
    return "".join(ADDRESS_WORDS.get(w, w) for w in _words(address))


def site_keys(name: str, address: str, country: str) -> SiteKeys:
    """Return the keys a site is matched by: name + address + country, and name + country."""
    country = country.strip().upper()
    name_part = normalise_name(name)
    return SiteKeys(
        match_key=f"{country}|{name_part}|{normalise_address(address)}"[:900],
        name_key=f"{country}|{name_part}"[:400],
    )


def site_similarity(one: tuple[str, str, str], other: tuple[str, str, str]) -> int:
    """How alike two sites (name, address, country) look, from 0 to 100: their normalised names
    count 60 %, their normalised addresses 40 % (each as :class:`difflib.SequenceMatcher`'s
    ratio); sites in different countries are 0."""
    if one[2].strip().upper() != other[2].strip().upper():
        return 0
    name = difflib.SequenceMatcher(None, normalise_name(one[0]), normalise_name(other[0])).ratio()
    address = difflib.SequenceMatcher(None, normalise_address(one[1]), normalise_address(other[1])).ratio()
    return round(100 * (0.6 * name + 0.4 * address))


# --- Open Supply Hub values ---------------------------------------------------------------------

_FINAL_ASSEMBLY = re.compile(r"final\s*(product\s*)?assembl")
_RECYCLING = re.compile(r"recycl|repair|refurbish|disassembl|dismantl|e\s*waste")


def kind_from_types(values: Iterable[str]) -> SiteKind | None:
    """The kind of site described by Open Supply Hub facility and processing types.

    Any "final product assembly" makes a final-assembly site; else any recycling, repair,
    refurbishment or disassembly makes a recycling site; else any other type makes a
    component site. No type at all gives None (unknown).
    """
    texts = [v.casefold() for value in values for v in value.split("|") if v.strip()]
    if not texts:
        return None
    if any(_FINAL_ASSEMBLY.search(t) for t in texts):
        return SiteKind.final_assembly
    if any(_RECYCLING.search(t) for t in texts):
        return SiteKind.recycling
    return SiteKind.component


_WORKERS = re.compile(r"^(\d{1,7})(?:\s*[-\u2013\u2014]\s*(\d{1,7}))?$")
# Open Supply Hub's open-ended ranges: "Less than 1000", "More than 10000", "10000+".
_FEWER = re.compile(r"^(?:less than|fewer than|under|up to|below|<)\s*(\d{1,7})$")
_MORE = re.compile(r"^(?:more than|over|above|>)\s*(\d{1,7})$|^(\d{1,7})\s*(?:\+|or more)$")


def _worker_range(part: str) -> tuple[int, int]:
    """The lowest and highest count a value stands for; raise ValueError if it is none."""
    part = " ".join(part.casefold().replace(",", "").split())
    match = _WORKERS.match(part)
    if match is not None:
        low = int(match[1])
        high = int(match[2]) if match[2] else low
        if high < low:
            raise ValueError(part)
        return low, high
    match = _FEWER.match(part)
    if match is not None:
        return 1, max(int(match[1]) - 1, 1)
    match = _MORE.match(part)
    if match is not None:
        low = int(match[1] or match[2])
        return low + (1 if match[1] else 0), low + (1 if match[1] else 0)
    raise ValueError(part)


def workers_from_text(text: str) -> int | None:
    """A representative number of workers from Open Supply Hub's ``number_of_workers``.

    A value is a number ("250") or a range ("1001-5000", "1000 - 5000"), which counts as its
    midpoint rounded down (3000); "Less than 1000" is the range 1-999 (500); an open range
    ("More than 10000", "10000+") counts as its lower bound (10001, 10000); several
    contributions separated by "|" give the median of their values (the lower middle one for an
    even count). Empty gives None; anything else raises ValueError.
    """
    values = []
    for part in text.split("|"):
        if not part.strip():
            continue
        low, high = _worker_range(part)
        values.append((low + high) // 2)
    if not values:
        return None
    return int(statistics.median_low(values))
