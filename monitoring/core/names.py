"""Display names people compare by eye: normalised, and compared on a confusables skeleton.

An organisation named "Straits Labour Watch" and one named "Straits Labour Watch" with a
zero-width space, a Cyrillic "a" (U+0430), a right-to-left mark or fullwidth letters look the same on
every page. :func:`normalise_display_name` removes what cannot be seen (Unicode format
characters such as zero-width and bidi controls, other invisible fillers), folds
compatibility forms (NFKC: fullwidth letters, ligatures) and collapses every kind of space to
one. :func:`name_skeleton` then maps what still only *looks* alike onto one form, after
Unicode TR39's confusables data (shipped by the ``confusable-homoglyphs`` package) plus
case folding, so "Straits" in Cyrillic and "Straits" in Latin have the same skeleton. Two
names with one skeleton are look-alikes; the database keeps the skeleton's digest unique.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata

# Invisible code points that are not format characters (Cf): fillers, the combining grapheme
# joiner and variation selectors (Unicode's Default_Ignorable_Code_Point, outside Cf).
_INVISIBLE = frozenset(
    [
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0),
        *range(0x180B, 0x1810),
        *range(0xFE00, 0xFE10),
        *range(0xE0100, 0xE01F0),
    ]
)
# Spaces and line breaks of every kind collapse to one ASCII space.
_SPACE_CATEGORIES = frozenset({"Zs", "Zl", "Zp"})
_LRM = "\u200e"  # the data file wraps right-to-left characters in it for display


def _visible(char: str) -> str:
    category = unicodedata.category(char)
    if category in _SPACE_CATEGORIES or char in "\t\n\r\v\f":
        return " "
    if category in ("Cf", "Cc", "Cs", "Co", "Cn") or ord(char) in _INVISIBLE:
        return ""
    return char


def normalise_display_name(value: str) -> str:
    """NFKC, without invisible and bidi control characters, spaces collapsed to one, trimmed."""
    text = unicodedata.normalize("NFKC", value or "")
    text = "".join(_visible(char) for char in text)
    # NFKC again: removing a joiner can bring together what composes.
    return " ".join(unicodedata.normalize("NFKC", text).split())


@functools.cache
def _prototypes() -> dict[str, str]:
    """Each confusable character and the prototype (TR39) it looks like.

    The package lists, for each character, the characters it can be confused with, in both
    directions of each line of Unicode's ``confusables.txt``: every class is a star around its
    prototype, the member with the most partners (a multi-character prototype such as "rn"
    wins a tie, as it cannot be a source in the data).
    """
    from confusable_homoglyphs.utils import load

    data: dict[str, list[dict[str, str]]] = load("confusables.json")
    parent: dict[str, str] = {}

    def find(item: str) -> str:
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    partners: dict[str, int] = {}
    for raw, entries in data.items():
        key = raw.replace(_LRM, "")
        partners[key] = max(partners.get(key, 0), len(entries))
        for entry in entries:
            other = entry["c"].replace(_LRM, "")
            a, b = find(key), find(other)
            if a != b:
                parent[a] = b
    classes: dict[str, list[str]] = {}
    for item in list(parent):
        classes.setdefault(find(item), []).append(item)
    mapping: dict[str, str] = {}
    for members in classes.values():
        prototype = max(sorted(members), key=lambda m: (partners.get(m, 0), len(m) > 1, m.isascii()))
        for member in members:
            if len(member) == 1 and member != prototype:
                mapping[member] = prototype
    return mapping


def _map(text: str) -> str:
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(char, char) for char in decomposed))


def skeleton(value: str) -> str:
    """The TR39 skeleton of the normalised name, case-folded: equal for names that look alike."""
    text = normalise_display_name(value)
    # Map, fold case, map again: a Cyrillic or Latin capital I becomes "l" before folding, and
    # a capital that only folds into a confusable (Cyrillic capital A to small a) after it.
    return _map(_map(text).casefold())


def name_skeleton(value: str) -> str:
    """The SHA-256 of the skeleton: a fixed-size value the database can keep unique."""
    return hashlib.sha256(skeleton(value).encode()).hexdigest()


def looks_alike(a: str, b: str) -> bool:
    """Whether two names look alike (the same skeleton) or differ only in case."""
    first, second = normalise_display_name(a), normalise_display_name(b)
    return first.casefold() == second.casefold() or skeleton(first) == skeleton(second)


# Letters that Unicode does not decompose into a base letter and an accent.
_PLAIN_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "\u0131": "i"}
)


def _search_char(char: str) -> str:
    if 0x0300 <= ord(char) < 0x0370:
        # The accents of Latin, Greek and Cyrillic letters go; the marks of other scripts (Thai
        # vowels and tones, Devanagari and Arabic signs) are part of their letters and stay.
        return ""
    return " " if unicodedata.category(char).startswith("P") else char


def search_text(value: str) -> str:
    """The form a name is searched by, in any script: what :func:`normalise_display_name`
    keeps, case-folded, without accents and punctuation, spaces collapsed.

    "Công ty ĐIỆN TỬ" and "cong ty dien tu" give the same text, fullwidth letters and ASCII
    ones too, and "重庆富士康科技有限公司" contains "重庆". A name and a query folded alike
    can be compared with ``LIKE`` on any database, without its own idea of case.
    """
    text = normalise_display_name(value).casefold().translate(_PLAIN_LETTERS)
    text = "".join(_search_char(char) for char in unicodedata.normalize("NFD", text))
    return " ".join(unicodedata.normalize("NFKC", text).split())
