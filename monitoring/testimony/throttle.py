"""Rate limits shared by every app server, counted in the ``throttle_counter`` table.

Requests are counted in fixed time windows. A per-client counter's key is an HMAC-SHA256 of
the client (its IPv4 address, or the /64 network of an IPv6 address, since one household or
phone gets a whole /64) under a **random key made for that limit and window**
(:class:`~monitoring.testimony.models.ThrottleWindowKey`). Nothing in the configuration
derives it, so ``SECRET_KEY`` and every other secret are of no help in linking a counter to an
address; keys of different windows cannot be linked to each other; and once the window has
ended its key is deleted together with its counters (by the next window of the same limit, and
by ``flask jobs run``), after which nothing, not even the database with every secret, points
back to a client. Global counters (every client together) use the same scheme with no address.

Incrementing is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement on SQLite and
PostgreSQL alike, so concurrent requests on several servers never lose a count.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, request
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.testimony.models import ThrottleCounter, ThrottleWindowKey

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


# An IPv6 client is counted by its /64: a provider gives a household or a phone a whole /64,
# and changing the rest of the address costs the client nothing.
IPV6_PREFIX = 64
# Keys of ended windows are deleted this long after the end, so that a request that chose its
# window just before the end still finds the key.
KEY_GRACE = timedelta(minutes=2)


def client_subject(address: str | None) -> str:
    """What a per-client limit counts: an IPv4 address, or the /64 network of an IPv6 address."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


def counter_key(window_key: bytes, limit: Limit, client: str | None) -> str:
    """The HMAC, under the window's random key, under which one client's events are counted."""
    subject = client_subject(client) if limit.per_client else "*"
    return hmac.new(window_key, f"{limit.scope}\0{subject}".encode(), hashlib.sha256).hexdigest()


def _window_key(limit: Limit, start: datetime) -> ThrottleWindowKey | None:
    return db.session.scalar(
        select(ThrottleWindowKey).where(
            ThrottleWindowKey.scope == limit.scope, ThrottleWindowKey.window_start == start
        )
    )


def _insert(model: type, **values: object) -> object:
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(model).values(**values)


def window_key(limit: Limit, start: datetime, now: datetime) -> ThrottleWindowKey:
    """The random key of this limit's window, made on first use (by whichever server is first).

    Making a window's key also deletes the keys and counters of the limit's ended windows.
    """
    found = _window_key(limit, start)
    if found is not None:
        return found
    _delete_ended(now, scope=limit.scope)
    statement = _insert(
        ThrottleWindowKey,
        scope=limit.scope,
        window_start=start,
        window_end=start + limit.window,
        key=secrets.token_bytes(32),
    ).on_conflict_do_nothing(  # type: ignore[attr-defined]
        index_elements=[ThrottleWindowKey.scope, ThrottleWindowKey.window_start]
    )
    db.session.execute(statement)
    made = _window_key(limit, start)  # inserted now, or by a concurrent request
    if made is None:
        raise RuntimeError(f"no key for the {limit.scope} window starting {start.isoformat()}")
    return made


def _retry_after(limit: Limit, start: datetime, now: datetime) -> int:
    return max(1, math.ceil((start + limit.window - now).total_seconds()))


def count(limit: Limit, *, client: str | None = None) -> int:
    """How many events the current window of ``limit`` holds (a window without a key: none)."""
    start = window_start(limit.window)
    found = _window_key(limit, start)
    if found is None:
        return 0
    key = counter_key(found.key, limit, client or client_address())
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
    found = window_key(limit, start, now)
    key = counter_key(found.key, limit, client or client_address())
    statement = (
        _insert(ThrottleCounter, key=key, window_start=start, window_key_id=found.id, count=1)
        .on_conflict_do_update(  # type: ignore[attr-defined]
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


def _delete_ended(now: datetime, scope: str | None = None) -> int:
    """Delete the window keys that ended (with their counters); return how many counters went."""
    ended = select(ThrottleWindowKey.id).where(ThrottleWindowKey.window_end <= now - KEY_GRACE)
    if scope is not None:
        ended = ended.where(ThrottleWindowKey.scope == scope)
    counters = db.session.execute(delete(ThrottleCounter).where(ThrottleCounter.window_key_id.in_(ended)))
    db.session.execute(delete(ThrottleWindowKey).where(ThrottleWindowKey.id.in_(ended)))
    return counters.rowcount or 0  # type: ignore[attr-defined]


def purge_throttle_counters(now: datetime | None = None) -> int:
    """Delete the keys and counters of every window that has ended; return how many counters went.

    Run often (``flask jobs run``): until a window's key is gone, someone holding the database
    could test guessed addresses against its counters.
    """
    return _delete_ended(now or utcnow())
