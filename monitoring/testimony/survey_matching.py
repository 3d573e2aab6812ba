"""Fuzzy workplace matching for survey rows: a proposed site instead of an unlinked report.

A row whose ``site_name`` and ``country`` match no site exactly (same normalised name, see
:func:`monitoring.supplychain.matching.site_keys`) gets the most similar site of that country
as a *proposal*, which a monitor confirms or changes on the import's page. Similarity is the
better of two measures over the normalised names (case, accents, punctuation and legal forms
such as "Co., Ltd." folded away): the Jaccard index of their character trigrams (spelling
variants: "Lana Electronic" and "Lanna Electronics") and of their words (order: "Board Works
Penang" and "Penang Board Works"). The best site at or above :data:`MIN_SIMILARITY` is proposed,
none when two share the best score.

The candidates are the country's sites (not merged away), fetched once per import by a bounded
query (:data:`MAX_CANDIDATES`, only id and name); the comparison runs in Python, once per
distinct name.
"""

from __future__ import annotations

from sqlalchemy import select

from monitoring.core.db import db
from monitoring.supplychain.matching import COMPANY_SUFFIXES, fold, site_keys
from monitoring.supplychain.models import Site

MIN_SIMILARITY = 0.5
MAX_CANDIDATES = 5000


def _name_part(name: str) -> str:
    return site_keys(name, "", "XX").name_key.partition("|")[2]


def _words(name: str) -> frozenset[str]:
    words = fold(name).split()
    return frozenset(w for w in words if w not in COMPANY_SUFFIXES) or frozenset(words)


def trigrams(text: str) -> frozenset[str]:
    padded = f"  {text} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def similarity(a: str, b: str) -> float:
    """How alike two workplace names are, from 0 to 1 (1: the same normalised name)."""
    return max(_jaccard(trigrams(_name_part(a)), trigrams(_name_part(b))), _jaccard(_words(a), _words(b)))


class _Candidate:
    __slots__ = ("grams", "site_id", "words")

    def __init__(self, site_id: int, name: str) -> None:
        self.site_id = site_id
        self.grams = trigrams(_name_part(name))
        self.words = _words(name)


class SiteProposer:
    """Proposes sites for the names of one import; caches the candidates per country."""

    def __init__(self) -> None:
        self._countries: dict[str, list[_Candidate]] = {}
        self._proposals: dict[tuple[str, str], int | None] = {}

    def _candidates(self, country: str) -> list[_Candidate]:
        if country not in self._countries:
            rows = db.session.execute(
                select(Site.id, Site.name)
                .where(Site.country == country, Site.merged_into_id.is_(None))
                .order_by(Site.id)
                .limit(MAX_CANDIDATES)
            ).all()
            self._countries[country] = [_Candidate(site_id, name) for site_id, name in rows]
        return self._countries[country]

    def propose_id(self, name: str, country: str) -> int | None:
        """The id of the site most like ``name`` in ``country``, or None."""
        key = (_name_part(name), country)
        if key not in self._proposals:
            grams, words = trigrams(key[0]), _words(name)
            best: tuple[float, int | None] = (0.0, None)
            tied = False
            for candidate in self._candidates(country):
                score = max(_jaccard(grams, candidate.grams), _jaccard(words, candidate.words))
                if score > best[0]:
                    best, tied = (score, candidate.site_id), False
                elif score == best[0] and score > 0:
                    tied = True
            self._proposals[key] = best[1] if best[0] >= MIN_SIMILARITY and not tied else None
        return self._proposals[key]

    def propose(self, name: str, country: str) -> Site | None:
        site_id = self.propose_id(name, country)
        return db.session.get(Site, site_id) if site_id is not None else None
