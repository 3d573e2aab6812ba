"""The leverage ranking of every linked site, stored and read a page at a time.

Ranking the sites (:func:`queries.ranking_rows`) aggregates every current disclosure's reach,
one statement that takes seconds at full size (20,000 sites). It is computed once and stored in
:class:`SiteLeverage`, one row per site with its rank, with a :class:`LeverageSnapshot` saying
when and for which day; the page and the API read a page of it by (rank, site) from an index.

The stored ranking is recomputed on the next read (or by :func:`refresh_if_stale`, for a
worker) when it is missing, computed for another day (contracts come into force and end by the
day), older than ``LEVERAGE_MAX_AGE_SECONDS`` (default 3,600), or out of date: any flush that
adds, changes or removes a contract, a contract's product, a disclosure or a currency rate, or
merges or removes a site, deletes the snapshot row (:func:`_forget_on_change`), and so do the
bulk imports and merges that write with SQL (:func:`invalidate`). Readers see the same ranking
as a live computation, "as of" the time it was computed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any, cast

from flask import current_app
from sqlalchemy import Connection, Table, delete, event, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from monitoring.core.db import db
from monitoring.core.transactions import attempt
from monitoring.core.types import utcnow
from monitoring.supplychain import buyer_reach, queries
from monitoring.supplychain.models import (
    CurrencyRate,
    LeverageSnapshot,
    Site,
    SiteLeverage,
)

logger = logging.getLogger(__name__)

DEFAULT_MAX_AGE_SECONDS = 3600
SNAPSHOT_ID = 1
site_leverage_table = cast(Table, SiteLeverage.__table__)
snapshot_table = cast(Table, LeverageSnapshot.__table__)
COLUMNS = ("site_id", "affiliates", "contracts", "spend_cents", "unconverted", "rank")


@dataclass(frozen=True)
class Ranking:
    """The ranking's query (rows as :func:`queries.ranked` takes them), its keyset, and when it
    was computed."""

    query: Any  # a Select of (Site, rank, affiliates, contracts, spend_cents, unconverted)
    keys: list[Any]
    as_of: datetime


def max_age() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("LEVERAGE_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS)))


def _stored_as_of(today: date) -> datetime | None:
    """When the stored ranking was computed, if it is valid for ``today``."""
    row = db.session.execute(
        select(LeverageSnapshot.computed_dt, LeverageSnapshot.computed_for).where(
            LeverageSnapshot.id == SNAPSHOT_ID
        )
    ).first()
    if row is None or row.computed_for != today or row.computed_dt < utcnow() - max_age():
        return None
    return row.computed_dt


def refresh(today: date) -> datetime:
    """Compute the ranking for ``today`` and store it in place of the last one; flushed."""
    db.session.flush()
    now = utcnow()
    db.session.execute(delete(site_leverage_table))
    ranking = queries.ranking_rows(today).subquery("ranking")
    db.session.execute(
        insert(site_leverage_table).from_select(list(COLUMNS), select(*(ranking.c[n] for n in COLUMNS)))
    )
    db.session.execute(delete(snapshot_table))
    db.session.execute(insert(snapshot_table).values(id=SNAPSHOT_ID, computed_dt=now, computed_for=today))
    return now


def refresh_if_stale(today: date | None = None) -> bool:
    """Recompute the stored ranking if it is not valid for today (for a worker); the caller
    commits. True when it was recomputed."""
    today = today or date.today()
    if _stored_as_of(today) is not None:
        return False
    refresh(today)
    return True


def ranking(today: date) -> Ranking:
    """The ranking to page through: the stored one, recomputed and stored first when it is not
    valid (committed with the request); computed live if another request is storing it now."""
    as_of = _stored_as_of(today)
    if as_of is None:
        try:
            as_of = attempt(refresh, today)
        except (IntegrityError, DBAPIError):
            logger.info("leverage ranking stored by another request meanwhile: computed live")
            live, keys = queries.leverage_ranking(today)
            return Ranking(live, keys, utcnow())
    query = (
        select(
            Site,
            SiteLeverage.rank,
            SiteLeverage.affiliates,
            SiteLeverage.contracts,
            SiteLeverage.spend_cents,
            SiteLeverage.unconverted,
        )
        .select_from(SiteLeverage)
        .join(Site, Site.id == SiteLeverage.site_id)
    )  # merged sites were left out when it was stored; a merge since makes it out of date
    return Ranking(query, [SiteLeverage.rank, SiteLeverage.site_id], as_of)


def invalidate(connection: Connection | Session) -> None:
    """Mark the stored ranking, and every buyer's stored sites, out of date (for writes made
    with SQL, not through the ORM)."""
    connection.execute(delete(snapshot_table))
    buyer_reach.invalidate(connection)


def _changes_ranking(instance: object, deleted: bool) -> bool:
    """The chains (as for the buyers' stored sites) or a currency rate (spend in EUR)."""
    return isinstance(instance, CurrencyRate) or buyer_reach.changes_chains(instance, deleted)


@event.listens_for(Session, "after_flush")
def _forget_on_change(session: Session, flush_context: Any) -> None:
    changed = any(_changes_ranking(o, False) for o in chain(session.new, session.dirty)) or any(
        _changes_ranking(o, True) for o in session.deleted
    )
    if changed:  # the buyers' stored sites watch their own changes (not the rates)
        session.connection().execute(delete(snapshot_table))
