"""Attack: read from a database copy what people typed at the login: a password, a worker's private address.
Defence: failed logins keep a keyed digest of the name typed (or the account id), purged with throttle rows.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, inspect, select, text, update

from monitoring.accounts.models import LoginAttempt
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.types import utcnow
from tests.conftest import PASSWORD, csrf_token

# What people type into the e-mail field by mistake: a password, a private address.
TYPED = ["Tr0ub4dor&3-MyRealPassword", "Maria.Lopez.Private@mail.example"]


def _attempt(client, email, password=None, address="192.0.2.44"):
    password = "wrong password" if password is None else password
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def _tables_holding(app, needles: list[str]) -> list[str]:
    """Every table and column whose stored text or bytes contain one of ``needles`` (any case)."""
    lowered = [n.lower() for n in needles]
    found = []
    with app.app_context():
        connection = db.session.connection()
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():  # noqa: S608
                for column, value in row.items():
                    if isinstance(value, memoryview):
                        value = value.tobytes()
                    if isinstance(value, bytes):
                        value = value.decode("latin-1")
                    if isinstance(value, str) and any(n in value.lower() for n in lowered):
                        found.append(f"{table}.{column}")
    return found


def test_no_table_holds_what_was_typed(app, monitor, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for typed in TYPED:
        for _ in range(limit + 2):  # failures, then refusals of a throttled name
            _attempt(client, typed)
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"login.failure", "login.throttled"} <= actions
    assert _tables_holding(app, TYPED) == []
    assert not [r for r in caplog.records if any(t.lower() in r.getMessage().lower() for t in TYPED)]


def test_failures_of_an_existing_account_name_it_by_id(app, monitor):
    _attempt(app.test_client(), monitor.email)
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "login.failure").order_by(AuditEntry.id.desc())
        )
    assert entry.object_id == str(monitor.id)
    assert monitor.email not in entry.summary and monitor.email not in entry.data


def test_failures_of_one_typed_name_share_a_digest(app):
    client = app.test_client()
    _attempt(client, TYPED[1])
    _attempt(client, TYPED[1].upper())
    _attempt(client, "someone.else@mail.example")
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "login.failure")
            .order_by(AuditEntry.id.desc())
            .limit(3)
        ).all()
    digests = [e.data_dict["account_digest"] for e in reversed(entries)]
    assert digests[0] == digests[1] != digests[2]
    assert all(len(d) == 64 for d in digests)


def test_jobs_run_purges_the_attempts_with_the_window(app, monitor):
    _attempt(app.test_client(), TYPED[1])
    _attempt(app.test_client(), monitor.email)
    window = timedelta(minutes=app.config["LOGIN_WINDOW_MINUTES"])
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginAttempt.id))) >= 4
        db.session.execute(update(LoginAttempt).values(attempted_dt=utcnow() - window - timedelta(minutes=1)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginAttempt.id))) == 0
    # A right password still works afterwards.
    assert _attempt(app.test_client(), monitor.email, PASSWORD).status_code == 302
