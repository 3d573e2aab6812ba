"""Figure snapshots: the dashboards and the figures API read them instead of computing each time.

The figures of the whole period (no ``from``/``to``) are read from a :class:`FigureSnapshot` of the
user's scope (the network for coordinators, the user's organisation otherwise) and breakdown. When
there is none yet, the figures are computed live once and stored. ``flask jobs worker`` recomputes
snapshots older than ``FIGURES_MAX_AGE_SECONDS`` (default 300) a few at a time between its looks at
the queue, and ``flask figures refresh`` recomputes them at once. A period with bounds is not held
in any snapshot: its figures are computed live, as before.

The rest of a dashboard that would be computed on every request (the remedy ledger and its
totals per kind, the coordinators' leverage ranking, an affiliate's portfolio) is held the same
way, the whole period's in one snapshot per scope with ``breakdown`` = "dashboard"
(:func:`read_board`), stored, refreshed and aged with the figures'. That snapshot holds the
first rows of the ledger and of the portfolio and how many there are, so that a dashboard reads
the same few rows however large they grow; an affiliate's whole portfolio is held beside it
(``breakdown`` = "portfolio", :func:`read_portfolio`), stored and refreshed with it. The
``/remedy-ledger`` API and the exports still compute the ledger on request: they are the
accounts, to the minute.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from monitoring.accounts.models import Organisation, OrganisationKind, User
from monitoring.core.db import db
from monitoring.core.transactions import attempt
from monitoring.core.types import utcnow
from monitoring.reporting.figures import (
    Breakdown,
    DurationFigure,
    Figures,
    Period,
    ShareFigure,
    compute_figures,
)
from monitoring.reporting.models import FigureSnapshot
from monitoring.reporting.permissions import NETWORK_SCOPE, SCOPE_ROLES, figure_scope, scope_user

logger = logging.getLogger(__name__)

DEFAULT_MAX_AGE_SECONDS = 300
WHOLE_PERIOD = Period()


@dataclass(frozen=True)
class DatedFigures:
    """Figures and when they were computed (``snapshot``: read from a stored snapshot)."""

    figures: Figures
    as_of: datetime
    snapshot: bool


def max_age() -> timedelta:
    return timedelta(
        seconds=float(current_app.config.get("FIGURES_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS))
    )


def _dump(figures: Figures) -> dict[str, Any]:
    return {
        "durations": [
            [d.figure, d.group, d.count, d.median_seconds, d.p90_seconds] for d in figures.durations
        ],
        "shares": [[s.figure, s.group, s.count, s.hits] for s in figures.shares],
    }


def _load(breakdown: Breakdown, data: dict[str, Any]) -> Figures:
    return Figures(
        breakdown,
        WHOLE_PERIOD,
        [DurationFigure(*row) for row in data["durations"]],
        [ShareFigure(*row) for row in data["shares"]],
    )


def _compute(scope: str, organisation_id: int, breakdown: Breakdown) -> Figures:
    return compute_figures(scope_user(scope, organisation_id), WHOLE_PERIOD, breakdown)


def _find(scope: str, organisation_id: int, breakdown: str) -> FigureSnapshot | None:
    return db.session.scalar(
        select(FigureSnapshot).where(
            FigureSnapshot.scope == scope,
            FigureSnapshot.organisation_id == organisation_id,
            FigureSnapshot.breakdown == breakdown,
        )
    )


def read_figures(user: User, period: Period, breakdown: Breakdown) -> DatedFigures:
    """The user's figures: from the scope's snapshot for the whole period, live otherwise.

    With no snapshot yet, the figures are computed once and stored (committed with the request)."""
    scope = figure_scope(user)
    if period != WHOLE_PERIOD or scope is None:
        return DatedFigures(compute_figures(user, period, breakdown), utcnow(), snapshot=False)
    found = _find(*scope, breakdown.value)
    if found is not None:
        return DatedFigures(_load(breakdown, found.data), found.computed_dt, snapshot=True)
    figures = _compute(*scope, breakdown)
    snapshot = _new(scope[0], scope[1], breakdown, figures)
    try:
        attempt(_add_and_flush, snapshot)
    except IntegrityError:
        logger.info("figure snapshot %s/%s/%s stored by another request meanwhile", *scope, breakdown.value)
    return DatedFigures(figures, snapshot.computed_dt, snapshot=False)


def _new(scope: str, organisation_id: int, breakdown: Breakdown, figures: Figures) -> FigureSnapshot:
    return FigureSnapshot(
        scope=scope,
        organisation_id=organisation_id,
        breakdown=breakdown.value,
        computed_dt=utcnow(),
        data=_dump(figures),
    )


def _add_and_flush(snapshot: FigureSnapshot) -> None:
    db.session.add(snapshot)
    db.session.flush()


def refresh(snapshot: FigureSnapshot) -> None:
    """Recompute one snapshot now (figures, or a dashboard's parts with the whole portfolio)."""
    if snapshot.breakdown in (DASHBOARD, PORTFOLIO):
        board = (
            snapshot
            if snapshot.breakdown == DASHBOARD
            else _find(snapshot.scope, snapshot.organisation_id, DASHBOARD)
        )
        _store_board(
            snapshot.scope,
            snapshot.organisation_id,
            _board_data(snapshot.scope, snapshot.organisation_id),
            board,
        )
        return
    figures = _compute(snapshot.scope, snapshot.organisation_id, Breakdown(snapshot.breakdown))
    snapshot.data = _dump(figures)
    snapshot.computed_dt = utcnow()
    db.session.flush()


def stale_snapshots(older_than: timedelta | None = None, limit: int | None = None) -> list[FigureSnapshot]:
    """The snapshots computed before ``older_than`` ago (the configured maximum age), oldest first
    (a whole portfolio is not among them: it is refreshed with its dashboard's)."""
    cutoff = utcnow() - (max_age() if older_than is None else older_than)
    query = select(FigureSnapshot).where(
        FigureSnapshot.computed_dt <= cutoff, FigureSnapshot.breakdown != PORTFOLIO
    )
    return list(
        db.session.scalars(query.order_by(FigureSnapshot.computed_dt, FigureSnapshot.id).limit(limit))
    )


def missing_scopes(breakdown: Breakdown = Breakdown.total) -> list[tuple[str, int]]:
    """The network and every monitor, affiliate and supplier organisation without a snapshot of
    the breakdown's figures or of its dashboard."""
    kinds = [OrganisationKind(scope) for scope in SCOPE_ROLES if scope != NETWORK_SCOPE]
    organisations = select(Organisation.id, Organisation.kind).where(Organisation.kind.in_(kinds))
    scopes = [(NETWORK_SCOPE, 0)] + [
        (kind.value, org_id) for org_id, kind in db.session.execute(organisations.order_by(Organisation.id))
    ]
    return [
        scope
        for scope in scopes
        if _find(*scope, breakdown.value) is None or _find(*scope, DASHBOARD) is None
    ]


def store(scope: str, organisation_id: int, breakdown: Breakdown = Breakdown.total) -> None:
    """Compute and store the figures' and the dashboard's snapshots of a scope that has none."""
    if _find(scope, organisation_id, breakdown.value) is None:
        _add_and_flush(_new(scope, organisation_id, breakdown, _compute(scope, organisation_id, breakdown)))
    if _find(scope, organisation_id, DASHBOARD) is None:
        _store_board(scope, organisation_id, _board_data(scope, organisation_id))


# --- the dashboard's other parts ---------------------------------------------------------------
# The remedy ledger and its totals per kind, the coordinators' leverage ranking and an affiliate's
# portfolio, of the whole period, in one snapshot per scope (``breakdown`` = "dashboard"), stored
# and refreshed as the figures' are. ``reporting.services`` computes them and reads them back; the
# small-cell suppression is applied when a user reads them.

DASHBOARD = "dashboard"
PORTFOLIO = "portfolio"  # an affiliate's whole portfolio; its dashboard's snapshot holds the first rows

# A dashboard snapshot's data and the whole portfolio of an affiliate's scope (None for the others).
BoardData = tuple[dict[str, Any], list[list[Any]] | None]


@dataclass(frozen=True)
class DatedData:
    data: dict[str, Any]
    as_of: datetime


def _board_data(scope: str, organisation_id: int) -> BoardData:
    from monitoring.reporting.services import scope_board_data  # services reads these snapshots

    return scope_board_data(scope, organisation_id)


def _new_board(scope: str, organisation_id: int, data: dict[str, Any]) -> FigureSnapshot:
    return FigureSnapshot(
        scope=scope, organisation_id=organisation_id, breakdown=DASHBOARD, computed_dt=utcnow(), data=data
    )


def _store_board(
    scope: str, organisation_id: int, computed: BoardData, board: FigureSnapshot | None = None
) -> FigureSnapshot:
    """Store a scope's dashboard snapshot (new, or ``board`` updated) and its whole portfolio, if
    any, with the same time; flushed."""
    data, portfolio = computed
    now = utcnow()
    if board is None:
        board = _new_board(scope, organisation_id, data)
        db.session.add(board)
    board.data, board.computed_dt = data, now
    if portfolio is not None:
        whole = _find(scope, organisation_id, PORTFOLIO)
        if whole is None:
            whole = FigureSnapshot(scope=scope, organisation_id=organisation_id, breakdown=PORTFOLIO)
            db.session.add(whole)
        whole.data, whole.computed_dt = {"rows": portfolio}, now
    db.session.flush()
    return board


def read_board(user: User, period: Period, compute: Callable[[str, int], BoardData]) -> DatedData | None:
    """The dashboard snapshot of the user's scope for the whole period (None for a bounded period).

    With no snapshot yet, ``compute`` gives it and it is stored (committed with the request)."""
    scope = figure_scope(user)
    if period != WHOLE_PERIOD or scope is None:
        return None
    found = _find(*scope, DASHBOARD)
    if found is not None:
        return DatedData(found.data, found.computed_dt)
    computed = compute(*scope)
    try:
        stored = attempt(_store_board, scope[0], scope[1], computed)
    except IntegrityError:
        logger.info("dashboard snapshot %s/%s stored by another request meanwhile", *scope)
        return DatedData(computed[0], utcnow())
    return DatedData(stored.data, stored.computed_dt)


def read_portfolio(user: User, compute: Callable[[str, int], BoardData]) -> DatedData | None:
    """The whole portfolio of the user's scope (``data["rows"]``), stored with its dashboard's
    snapshot; computed and stored with it when there is none (None for a user without a scope)."""
    scope = figure_scope(user)
    if scope is None:
        return None
    found = _find(*scope, PORTFOLIO)
    if found is not None:
        return DatedData(found.data, found.computed_dt)
    computed = compute(*scope)
    as_of = utcnow()
    try:
        as_of = attempt(_store_board, scope[0], scope[1], computed, _find(*scope, DASHBOARD)).computed_dt
    except IntegrityError:
        logger.info("dashboard snapshot %s/%s stored by another request meanwhile", *scope)
    return DatedData({"rows": computed[1] or []}, as_of)
