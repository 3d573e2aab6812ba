"""Small-cell suppression: one rule for every figure shown to affiliates, suppliers or the public.

A figure resting on fewer than ``MIN_WORKERS`` workers or fewer than ``MIN_REPORTS`` reports (or
items: cases, actions) is replaced by :data:`SUPPRESSED`, which templates render as "fewer than 5"
and the API as ``{"suppressed": true}``.
"""

from __future__ import annotations

from typing import Final, TypeVar

from monitoring.accounts.models import User
from monitoring.reporting.permissions import suppresses_small_cells

MIN_WORKERS: Final = 5
MIN_REPORTS: Final = 3

T = TypeVar("T")


class Suppressed:
    """The typed marker of a suppressed figure ("fewer than 5")."""

    _instance: Suppressed | None = None

    def __new__(cls) -> Suppressed:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "SUPPRESSED"

    def __bool__(self) -> bool:
        return False


SUPPRESSED: Final = Suppressed()


def is_small(*, workers: int | None = None, reports: int | None = None) -> bool:
    """Whether a cell rests on too few workers or reports to be shown outside the monitors."""
    if workers is not None and workers < MIN_WORKERS:
        return True
    return reports is not None and reports < MIN_REPORTS


def shown(
    value: T, *, public: bool = False, workers: int | None = None, reports: int | None = None
) -> T | Suppressed:
    """The value, or :data:`SUPPRESSED` for a small cell shown to the public (``public=True``)."""
    if public and is_small(workers=workers, reports=reports):
        return SUPPRESSED
    return value


def shown_to(
    user: User, value: T, *, workers: int | None = None, reports: int | None = None
) -> T | Suppressed:
    """The value as ``user`` may see it: suppressed for affiliates and suppliers when small."""
    return shown(value, public=suppresses_small_cells(user), workers=workers, reports=reports)
