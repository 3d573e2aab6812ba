"""The cases at each site, as the registry's pages show them (site, product, contract, my supply chain).

The cases feature is above this one: it registers the *source* that counts them (in
``cases/subscribers.py``), over the cases the user may see. Without a source (a registry on its
own) the pages show no case status.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from monitoring.accounts.models import User


@dataclass(frozen=True)
class SiteCases:
    """A site's cases the user may see: open (of them overdue), closed, and the worst severity
    of the open ones (an enum member with a ``title``, and its rank: 0 is the worst; None without
    open cases)."""

    open: int = 0
    overdue: int = 0
    closed: int = 0
    worst_severity: Any = None
    worst_rank: int | None = None

    @property
    def any(self) -> bool:
        return bool(self.open or self.closed)


Source = Callable[[User, Collection[int], date], dict[int, SiteCases]]
_sources: list[Source] = []


def register_source(source: Source) -> Source:
    """Set the source of case counts (usable as a decorator); registering twice has no effect."""
    if source not in _sources:
        _sources.append(source)
    return source


def cases_at(user: User, site_ids: Collection[int], today: date) -> dict[int, SiteCases]:
    """Each site's cases as the user may see them; a site without any is absent."""
    if not site_ids:
        return {}
    found: dict[int, SiteCases] = {}
    for source in _sources:
        found.update(source(user, site_ids, today))
    return found


def total(statuses: Collection[SiteCases]) -> SiteCases:
    """The sum over several sites (a product's, a contract's), with the worst severity."""
    ranked = [s for s in statuses if s.worst_rank is not None]
    worst = min(ranked, key=lambda s: s.worst_rank or 0) if ranked else None
    return SiteCases(
        open=sum(s.open for s in statuses),
        overdue=sum(s.overdue for s in statuses),
        closed=sum(s.closed for s in statuses),
        worst_severity=worst.worst_severity if worst else None,
        worst_rank=worst.worst_rank if worst else None,
    )
