"""Attack: with the database and every server secret, map a worker's rate-limit rows back to their address.
Defence: counters are HMACs under a random key per window, deleted with them when the window ends.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from monitoring.core.db import db
from monitoring.testimony import throttle
from monitoring.testimony.models import ThrottleCounter, ThrottleWindowKey
from tests.conftest import csrf_token

NOW = datetime(2031, 3, 4, 5, 6, 30, tzinfo=UTC)
WORKER = "203.0.113.58"


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = NOW

    monkeypatch.setattr(throttle, "utcnow", lambda: Clock.now)
    return Clock


def _wrong_receipt(app, address: str) -> None:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = csrf_token(client, "/report/follow-up")
    response = client.post("/report/follow-up", data={"receipt": "1" * 20, "csrf_token": token})
    assert "No report was found" in response.get_data(as_text=True)


def _secrets(app) -> list[bytes]:
    """Every secret of the server's configuration, as a thief with the secrets file holds them."""
    found = []
    for name, value in app.config.items():
        if any(word in name for word in ("KEY", "SECRET", "PEPPER", "PASSWORD")) and value:
            found.append(value if isinstance(value, bytes) else str(value).encode())
    assert any(str(app.config["SECRET_KEY"]).encode() == s for s in found)
    return found


def _guesses(app, limit: throttle.Limit, start: datetime, address: str) -> set[str]:
    """Counter keys a thief derives from the secrets for a guessed address (old scheme and kin)."""
    guesses = set()
    for secret in _secrets(app):
        for label in (f"monitoring/throttle/{limit.scope}/{start.isoformat()}", limit.scope, ""):
            derived = hmac.new(secret, label.encode(), hashlib.sha256).digest()
            for key in (derived, secret):
                for subject in (address, throttle.client_subject(address), f"{limit.scope}\0{address}"):
                    guesses.add(hmac.new(key, subject.encode(), hashlib.sha256).hexdigest())
    return guesses


def _keys() -> set[str]:
    return set(db.session.scalars(select(ThrottleCounter.key)))


def test_secrets_do_not_link_a_counter_to_the_address_and_the_window_key_goes(app, clock):
    _wrong_receipt(app, WORKER)
    with app.app_context():
        limit = throttle.followup_client_limit()
        start = throttle.window_start(limit.window, NOW)
        stored = _keys()
        assert stored, "the wrong receipt was counted"
        # Within the window, the database plus every secret does not find the worker's row...
        assert _guesses(app, limit, start, WORKER) & stored == set()
        # ... only the window's own random key (in the database until the window ends) does.
        window = db.session.scalar(
            select(ThrottleWindowKey).where(
                ThrottleWindowKey.scope == limit.scope, ThrottleWindowKey.window_start == start
            )
        )
        assert window is not None
        assert throttle.counter_key(window.key, limit, WORKER) in stored
        assert all(str(app.config[name]).encode() != window.key for name in ("SECRET_KEY", "AUDIT_KEY"))
    # The window ends and the jobs run: its key and counters are gone, nothing is left to test.
    clock.now = NOW + timedelta(hours=2)
    with app.app_context():
        assert throttle.purge_throttle_counters(clock.now) >= 1
        db.session.commit()
        assert db.session.scalar(select(func.count(ThrottleCounter.id))) == 0
        assert db.session.scalar(select(func.count(ThrottleWindowKey.id))) == 0


def test_the_next_window_of_a_limit_removes_the_ended_one_before_any_job(app, clock):
    _wrong_receipt(app, WORKER)
    with app.app_context():
        limit = throttle.followup_client_limit()
        old_start = throttle.window_start(limit.window, NOW)
    clock.now = NOW + limit.window + timedelta(minutes=5)
    _wrong_receipt(app, "198.51.100.1")  # someone else, in the next window
    with app.app_context():
        starts = set(db.session.scalars(select(ThrottleWindowKey.window_start)))
        assert old_start not in starts
        assert (
            db.session.scalar(
                select(func.count(ThrottleCounter.id)).where(ThrottleCounter.window_start == old_start)
            )
            == 0
        )


def test_ipv6_clients_of_one_64_share_a_counter(app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "WORKER_FOLLOWUP_MAX_PER_CLIENT", 2)
    # Two addresses of one /64 (one household or phone): together they reach the limit.
    _wrong_receipt(app, "2001:db8:77:1::10")
    _wrong_receipt(app, "2001:db8:77:1:ffff:1:2:3")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "2001:db8:77:1:abcd::99"
    token = csrf_token(client, "/report/follow-up")
    refused = client.post("/report/follow-up", data={"receipt": "1" * 20, "csrf_token": token})
    assert refused.status_code == 429
    # Another /64 is another client.
    _wrong_receipt(app, "2001:db8:77:2::10")
    with app.app_context():
        limit = throttle.followup_client_limit()
        counts = sorted(
            db.session.scalars(
                select(ThrottleCounter.count)
                .join(ThrottleWindowKey, ThrottleWindowKey.id == ThrottleCounter.window_key_id)
                .where(ThrottleWindowKey.scope == limit.scope)
            )
        )
        assert counts == [1, 2]
