"""Normalised keys for matching sites across imports: case, spacing, punctuation and company
suffixes ("Co., Ltd.", "GmbH", "s.r.o." ...) are ignored."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# Legal-form words dropped from names, compared after punctuation is removed.
COMPANY_SUFFIXES = frozenset(
    {
        "co",
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
_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")


class SiteKeys(NamedTuple):
    match_key: str
    name_key: str


def fold(text: str) -> str:
    """Fold case, width and accents, turn punctuation into spaces and collapse spacing."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _PUNCTUATION.sub(" ", text.replace(".", ""))
    return _SPACES.sub(" ", text).strip()


def normalise_name(name: str) -> str:
    """Fold a company name and drop its legal-form words."""
    words = [w for w in fold(name).split(" ") if w and w not in COMPANY_SUFFIXES]
    return " ".join(words)


def site_keys(name: str, address: str, country: str) -> SiteKeys:
    """Return the keys a site is matched by: name + address + country, and name + country."""
    country = country.strip().upper()
    name_part = normalise_name(name)
    return SiteKeys(
        match_key=f"{country}|{name_part}|{fold(address)}"[:900],
        name_key=f"{country}|{name_part}"[:400],
    )
