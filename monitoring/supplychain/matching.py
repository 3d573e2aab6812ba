"""Normalised keys for matching sites across imports, and the codes a site is described with.

Two spellings of one factory should give the same key: case, accents, width, spacing,
punctuation and legal-form words ("Co., Ltd.", "GmbH", "s.r.o.", "S.A. de C.V." ...) are
ignored, and a few common address abbreviations ("Rd." / "Road") are made one.
"""

from __future__ import annotations

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


_WORKERS = re.compile(r"^(\d{1,7})(?:\s*-\s*(\d{1,7}))?$")


def workers_from_text(text: str) -> int | None:
    """A representative number of workers from Open Supply Hub's ``number_of_workers``.

    A value is a number ("250") or a range ("1001-5000"), which counts as its midpoint
    rounded down (3000); several contributions separated by "|" give the median of their
    values (the lower middle one for an even count). Empty gives None; anything else
    raises ValueError.
    """
    values = []
    for part in text.split("|"):
        part = part.strip().replace(",", "")
        if not part:
            continue
        match = _WORKERS.match(part)
        if match is None:
            raise ValueError(part)
        low = int(match[1])
        high = int(match[2]) if match[2] else low
        if high < low:
            raise ValueError(part)
        values.append((low + high) // 2)
    if not values:
        return None
    return int(statistics.median_low(values))
