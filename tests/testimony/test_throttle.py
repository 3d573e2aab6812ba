"""Rate limits in the shared throttle_counter table: windows, random window keys, limits, purging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from monitoring.core.db import db
from monitoring.testimony import throttle
from monitoring.testimony.models import ThrottleCounter, ThrottleWindowKey

NOW = datetime(2031, 3, 4, 5, 6, 30, tzinfo=UTC)
ADDRESS = "192.0.2.44"


@pytest.fixture
def clock(monkeypatch):
    """Freeze the throttle's clock; ``clock.now`` can be moved on."""

    class Clock:
        now = NOW

    monkeypatch.setattr(throttle, "utcnow", lambda: Clock.now)
    return Clock


def _limit(limit: int = 3, minutes: int = 15, per_client: bool = True) -> throttle.Limit:
    return throttle.Limit("test", limit, timedelta(minutes=minutes), per_client=per_client)


def _rows() -> list[ThrottleCounter]:
    return list(db.session.scalars(select(ThrottleCounter).order_by(ThrottleCounter.id)))


def test_windows_are_fixed_and_aligned():
    assert throttle.window_start(timedelta(minutes=15), NOW) == datetime(2031, 3, 4, 5, 0, tzinfo=UTC)
    assert throttle.window_start(timedelta(minutes=1), NOW) == datetime(2031, 3, 4, 5, 6, tzinfo=UTC)


def test_hits_count_up_in_one_row_per_key_and_window(app, clock):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": ADDRESS}):
        limit = _limit()
        assert [throttle.hit(limit) for _ in range(3)] == [1, 2, 3]
        assert throttle.count(limit) == 3
        assert throttle.count(limit, client="192.0.2.45") == 0
        [row] = _rows()
        assert row.count == 3 and row.window_start == datetime(2031, 3, 4, 5, 0, tzinfo=UTC)
        clock.now = NOW + timedelta(minutes=15)
        assert throttle.hit(limit) == 1  # a new window starts from nothing
        # ... and, being the limit's next window, removes the ended one's key and counter.
        [row] = _rows()
        assert row.window_start == datetime(2031, 3, 4, 5, 15, tzinfo=UTC)


def test_keys_hold_no_address_and_change_with_every_window(app, clock):
    with app.test_request_context("/"):
        limit = _limit()
        start = throttle.window_start(limit.window, NOW)
        window = throttle.window_key(limit, start, NOW)
        assert len(window.key) == 32 and window.window_end == start + limit.window
        assert throttle.window_key(limit, start, NOW).id == window.id  # one key per window
        key = throttle.counter_key(window.key, limit, ADDRESS)
        assert len(key) == 64 and ADDRESS not in key
        assert key == throttle.counter_key(window.key, limit, ADDRESS)
        later = throttle.window_key(limit, start + limit.window, NOW + limit.window)
        assert later.key != window.key
        assert key != throttle.counter_key(later.key, limit, ADDRESS)
        assert key != throttle.counter_key(window.key, limit, "192.0.2.45")
        other_scope = throttle.Limit("other", 3, limit.window, per_client=True)
        assert key != throttle.counter_key(window.key, other_scope, ADDRESS)
        # A global limit counts every client under one key.
        everyone = _limit(per_client=False)
        assert throttle.counter_key(window.key, everyone, ADDRESS) == throttle.counter_key(
            window.key, everyone, "x"
        )


def test_ipv6_clients_are_counted_per_64_and_ipv4_per_address():
    assert throttle.client_subject("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert throttle.client_subject("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert throttle.client_subject("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert throttle.client_subject("::ffff:192.0.2.7") == "192.0.2.7"
    assert throttle.client_subject("192.0.2.7") != throttle.client_subject("192.0.2.8")
    assert throttle.client_subject("not an address") == throttle.client_subject(None) == "unknown"


def test_consume_refuses_over_the_limit_with_the_time_left(app, clock):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": ADDRESS}):
        limit = _limit(limit=2)
        throttle.consume(limit)
        throttle.consume(limit)
        with pytest.raises(throttle.Throttled) as refused:
            throttle.consume(limit)
        assert refused.value.retry_after == 15 * 60 - 6 * 60 - 30
        with pytest.raises(throttle.Throttled):
            throttle.check(limit)
        throttle.check(limit, client="192.0.2.45")  # another client is not affected


def test_limits_come_from_the_configuration(app, monkeypatch):
    monkeypatch.setitem(app.config, "WORKER_FOLLOWUP_MAX_PER_CLIENT", 4)
    monkeypatch.setitem(app.config, "WORKER_FOLLOWUP_WINDOW_MINUTES", 20)
    monkeypatch.setitem(app.config, "WORKER_FOLLOWUP_MAX_PER_MINUTE", 99)
    with app.app_context():
        client = throttle.followup_client_limit()
        everyone = throttle.followup_global_limit()
    assert (client.limit, client.window, client.per_client) == (4, timedelta(minutes=20), True)
    assert (everyone.limit, everyone.window, everyone.per_client) == (99, timedelta(minutes=1), False)


def test_purge_removes_ended_windows_only(app, clock):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": ADDRESS}):
        limit = _limit()
        throttle.hit(limit)
        assert throttle.purge_throttle_counters(clock.now) == 0
        clock.now = NOW + timedelta(hours=3)
        throttle.hit(limit)  # a new window of the same limit already removes the ended one
        [row] = _rows()
        assert row.window_start == throttle.window_start(limit.window, clock.now)
        assert db.session.scalar(select(func.count(ThrottleWindowKey.id))) == 1
        clock.now += timedelta(hours=1)
        assert throttle.purge_throttle_counters(clock.now) == 1
        assert _rows() == [] and db.session.scalar(select(func.count(ThrottleWindowKey.id))) == 0


def test_jobs_run_purges_old_counters(app):
    with app.app_context():
        start = datetime(2020, 1, 1, tzinfo=UTC)
        window = ThrottleWindowKey(scope="test", window_start=start, window_end=start + timedelta(hours=1))
        window.key = bytes(32)
        db.session.add(window)
        db.session.flush()
        db.session.add(ThrottleCounter(key="a" * 64, window_start=start, window_key_id=window.id, count=5))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "purged 1 rate-limit counters" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(ThrottleCounter.id))) == 0
        assert db.session.scalar(select(func.count(ThrottleWindowKey.id))) == 0
