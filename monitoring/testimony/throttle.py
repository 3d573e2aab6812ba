"""Rate limits shared by every app server, counted in the ``throttle_counter`` table.

Requests are counted in fixed time windows. A per-client counter's key is an HMAC-SHA256 of
the client address under a key derived from ``SECRET_KEY`` *and the window*, so the table never
holds an address, keys of different windows cannot be linked to each other, and once
``flask jobs run`` has purged a window nothing in the database points back to a client.
Global counters (every client together) use the same scheme with no address.

Incrementing is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement on SQLite and
PostgreSQL alike, so concurrent requests on several servers never lose a count.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, request
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.testimony.models import ThrottleCounter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` counted events per ``window`` for one scope."""

    scope: str
    limit: int
    window: timedelta
    per_client: bool


class Throttled(Exception):
    """A limit is reached; ``retry_after`` is the number of seconds until its window ends."""

    def __init__(self, limit: Limit, retry_after: int) -> None:
        super().__init__(f"{limit.scope} limit reached")
        self.limit = limit
        self.retry_after = retry_after


def followup_client_limit() -> Limit:
    """Failed receipts of one client at /report/follow-up."""
    config = current_app.config
    return Limit(
        "followup-client",
        int(config["WORKER_FOLLOWUP_MAX_PER_CLIENT"]),
        timedelta(minutes=int(config["WORKER_FOLLOWUP_WINDOW_MINUTES"])),
        per_client=True,
    )


def followup_global_limit() -> Limit:
    """Every receipt checked at /report/follow-up, all clients together (each costs a slow KDF)."""
    return Limit(
        "followup-global",
        int(current_app.config["WORKER_FOLLOWUP_MAX_PER_MINUTE"]),
        timedelta(minutes=1),
        per_client=False,
    )


def report_client_limit() -> Limit:
    """Reports filed by one client."""
    config = current_app.config
    return Limit(
        "report-client",
        int(config["WORKER_REPORT_MAX_PER_CLIENT"]),
        timedelta(minutes=int(config["WORKER_REPORT_WINDOW_MINUTES"])),
        per_client=True,
    )


def report_global_limit() -> Limit:
    """Reports filed by every client together."""
    return Limit(
        "report-global",
        int(current_app.config["WORKER_REPORT_MAX_PER_MINUTE"]),
        timedelta(minutes=1),
        per_client=False,
    )


def window_start(window: timedelta, now: datetime | None = None) -> datetime:
    """The start of the fixed window that contains ``now``."""
    now = now or utcnow()
    seconds = window.total_seconds()
    start = math.floor(now.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(start, UTC)


def client_address() -> str:
    """The client's address as the WSGI server (or ProxyFix behind trusted proxies) reports it."""
    return request.remote_addr or "unknown"


def counter_key(limit: Limit, start: datetime, client: str | None) -> str:
    """The HMAC under which one scope's events (of one client, if per client) are counted."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    window_key = hmac.new(
        secret, f"monitoring/throttle/{limit.scope}/{start.isoformat()}".encode(), hashlib.sha256
    ).digest()
    subject = client if limit.per_client else "*"
    return hmac.new(window_key, (subject or "unknown").encode(), hashlib.sha256).hexdigest()


def _retry_after(limit: Limit, start: datetime, now: datetime) -> int:
    return max(1, math.ceil((start + limit.window - now).total_seconds()))


def count(limit: Limit, *, client: str | None = None) -> int:
    """How many events the current window of ``limit`` holds."""
    start = window_start(limit.window)
    key = counter_key(limit, start, client or client_address())
    value = db.session.scalar(
        select(ThrottleCounter.count).where(ThrottleCounter.key == key, ThrottleCounter.window_start == start)
    )
    return int(value or 0)


def check(limit: Limit, *, client: str | None = None) -> None:
    """Raise :class:`Throttled` if the window is already full; count nothing."""
    now = utcnow()
    if count(limit, client=client) >= limit.limit:
        raise Throttled(limit, _retry_after(limit, window_start(limit.window, now), now))


def hit(limit: Limit, *, client: str | None = None) -> int:
    """Count one event (atomically, shared by every server) and return the window's new count."""
    now = utcnow()
    start = window_start(limit.window, now)
    key = counter_key(limit, start, client or client_address())
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(ThrottleCounter)
        .values(key=key, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=[ThrottleCounter.key, ThrottleCounter.window_start],
            set_={"count": ThrottleCounter.count + 1},
        )
        .returning(ThrottleCounter.count)
    )
    return int(db.session.execute(statement).scalar_one())


def consume(limit: Limit, *, client: str | None = None) -> None:
    """Count one event and raise :class:`Throttled` if it is over the limit."""
    now = utcnow()
    if hit(limit, client=client) > limit.limit:
        logger.info("throttled: %s", limit.scope)
        raise Throttled(limit, _retry_after(limit, window_start(limit.window, now), now))


def all_limits() -> list[Limit]:
    return [followup_client_limit(), followup_global_limit(), report_client_limit(), report_global_limit()]


def purge_throttle_counters(now: datetime | None = None) -> int:
    """Delete the counters of every window that has ended; return how many rows went.

    Run often (``flask jobs run``): until a window's rows are gone, someone holding the
    database and ``SECRET_KEY`` could test guessed addresses against them.
    """
    longest = max(limit.window for limit in all_limits())
    cutoff = (now or utcnow()) - longest
    result = db.session.execute(delete(ThrottleCounter).where(ThrottleCounter.window_start < cutoff))
    return result.rowcount or 0
