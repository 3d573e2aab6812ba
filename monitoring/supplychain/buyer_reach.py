"""The sites each buyer's contracts in force reach, stored per buyer and looked up by key.

Which sites concern a buyer (:func:`queries.walk_up`: up its chains from the products of its
contracts in force) is what an affiliate's case board, the case counts of its pages and its API
scope cases by. Walking up costs more as the registry grows (the generated buyer reaches a third
of all sites at full size) and ran twice a page; the set is stored in :class:`BuyerSite`, with a
:class:`BuyerSiteSnapshot` per buyer saying when and for which day, and read by its key.

A buyer's set is recomputed on its next read when it is missing, computed for another day
(contracts and disclosures begin and end by the day), older than ``LEVERAGE_MAX_AGE_SECONDS``
(the leverage ranking's setting), or out of date: a flush that adds, changes or removes a
contract, a contract's product or a disclosure, or merges or removes a site, deletes every
buyer's snapshot row (:func:`_forget_on_change`), and so do the bulk writes made with SQL
(``leverage.invalidate`` calls :func:`invalidate`). If another request stores the same buyer's
set at the same moment, or a change to the chains is being committed, the walk is used live
instead; a set cannot be stored from chains a change is replacing (see
:func:`_exclude_changes_to_the_chains`).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import lru_cache
from itertools import chain
from typing import Any, cast

from flask import current_app
from sqlalchemy import Connection, Select, Table, delete, event, insert, inspect, literal, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from monitoring.core.db import db
from monitoring.core.transactions import attempt
from monitoring.core.types import utcnow
from monitoring.supplychain import queries
from monitoring.supplychain.models import (
    BuyerSite,
    BuyerSiteSnapshot,
    Contract,
    ContractProduct,
    Disclosure,
    Site,
)

logger = logging.getLogger(__name__)

DEFAULT_MAX_AGE_SECONDS = 3600
# How long a buyer's set waits for a change to the chains to commit before it is walked live.
_LOCK_WAIT = "2s"
buyer_site_table = cast(Table, BuyerSite.__table__)
snapshot_table = cast(Table, BuyerSiteSnapshot.__table__)
# session.info key: the (day, buyer) pairs whose stored set this transaction found valid.
_CHECKED = "monitoring.buyer_sites_checked"


@lru_cache(maxsize=1024)
def _stored(affiliate_id: int) -> Select[Any]:
    return select(BuyerSite.site_id).where(BuyerSite.affiliate_id == affiliate_id)


def _max_age() -> timedelta:
    """The leverage ranking's setting: both are stored answers about the same chains."""
    return timedelta(seconds=int(current_app.config.get("LEVERAGE_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS)))


def _is_valid(today: date, affiliate_id: int) -> bool:
    row = db.session.execute(
        select(BuyerSiteSnapshot.computed_dt, BuyerSiteSnapshot.computed_for).where(
            BuyerSiteSnapshot.affiliate_id == affiliate_id
        )
    ).first()
    return row is not None and row.computed_for == today and row.computed_dt >= utcnow() - _max_age()


def _exclude_changes_to_the_chains() -> None:
    """Keep the set stored here from missing a change to the chains made at the same moment.

    A change deletes the snapshot rows when it is flushed, before its transaction commits. On
    PostgreSQL this transaction therefore takes a lock on the snapshot table that conflicts
    with those deletes: it waits for a transaction that has deleted them to end (then walks
    what it committed), and one that deletes them later waits for this one to commit (and then
    deletes the set stored here). Without it, a set walked just before a change commits could
    be stored after the change's delete and outlive it until ``LEVERAGE_MAX_AGE_SECONDS``:
    an affiliate would see the cases of a contract that had ended. After ``_LOCK_WAIT`` (a
    long import, say) the lock is given up and the caller walks live. SQLite needs nothing:
    its writers take turns, and a transaction that read before another committed cannot write.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(text(f"SET LOCAL lock_timeout = '{_LOCK_WAIT}'"))
    db.session.execute(text(f"LOCK TABLE {snapshot_table.name} IN SHARE ROW EXCLUSIVE MODE"))
    db.session.execute(text("RESET lock_timeout"))


def refresh(today: date, affiliate_id: int) -> None:
    """Compute one buyer's sites for ``today`` and store them in place of its last set; flushed."""
    db.session.flush()
    _exclude_changes_to_the_chains()
    db.session.execute(delete(buyer_site_table).where(buyer_site_table.c.affiliate_id == affiliate_id))
    walked = queries.walk_up(today, affiliate_id).subquery("walked")
    db.session.execute(
        insert(buyer_site_table).from_select(
            ["affiliate_id", "site_id"],
            select(literal(affiliate_id), walked.c.site_id).distinct(),
        )
    )
    db.session.execute(delete(snapshot_table).where(snapshot_table.c.affiliate_id == affiliate_id))
    db.session.execute(
        insert(snapshot_table).values(affiliate_id=affiliate_id, computed_dt=utcnow(), computed_for=today)
    )


def buyer_sites(today: date, affiliate_id: int) -> Select[Any]:
    """The ids of the sites one buyer's contracts in force reach today (as ``queries.links``
    links them), read from the stored set, which is stored first when it is not valid
    (committed with the request); the live walk if another request is storing it now."""
    checked: set[tuple[date, int]] = db.session.info.setdefault(_CHECKED, set())
    if (today, affiliate_id) not in checked:
        if not _is_valid(today, affiliate_id):
            try:
                attempt(refresh, today, affiliate_id)
            except (IntegrityError, DBAPIError):
                logger.info(
                    "sites of buyer %s not stored (being stored or changed by another request): walked live",
                    affiliate_id,
                )
                return queries.walk_up(today, affiliate_id)
        db.session.info.setdefault(_CHECKED, set()).add((today, affiliate_id))
    return _stored(affiliate_id)


def invalidate(connection: Connection | Session) -> None:
    """Mark every buyer's stored set out of date (for writes made with SQL, not through the ORM)."""
    connection.execute(delete(snapshot_table))
    if isinstance(connection, Session):
        connection.info.pop(_CHECKED, None)


_WATCHED = (Contract, ContractProduct, Disclosure)


def changes_chains(instance: object, deleted: bool) -> bool:
    """Whether flushing ``instance`` (added, changed, or ``deleted``) changes whose chains reach
    which sites: a contract, a contract's product, a disclosure, a site merged or removed."""
    if isinstance(instance, _WATCHED):
        return True
    if isinstance(instance, Site):
        return deleted or inspect(instance).attrs.merged_into_id.history.has_changes()
    return False


@event.listens_for(Session, "after_flush")
def _forget_on_change(session: Session, flush_context: Any) -> None:
    changed = any(changes_chains(o, False) for o in chain(session.new, session.dirty)) or any(
        changes_chains(o, True) for o in session.deleted
    )
    if changed:
        session.info.pop(_CHECKED, None)
        session.connection().execute(delete(snapshot_table))


@event.listens_for(Session, "after_transaction_end")
def _forget_checks(session: Session, transaction: Any) -> None:
    """What a transaction found valid may not be by the next one (or after a rollback)."""
    session.info.pop(_CHECKED, None)
