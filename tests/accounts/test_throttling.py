"""Login throttling per account and per client address, same answer for unknown accounts."""

import pytest
from sqlalchemy import select

from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.conftest import PASSWORD, csrf_token


def _attempt(client, email, password, address="192.0.2.1"):
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def test_account_is_throttled_after_repeated_failures(app, monitor):
    client = app.test_client()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        assert _attempt(client, monitor.email, "wrong password").status_code == 200
    # Now even the right password is refused, from any address.
    response = _attempt(client, monitor.email, PASSWORD, address="198.51.100.7")
    assert response.status_code == 429
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("exists", [True, False])
def test_same_answer_whether_or_not_the_account_exists(app, monitor, exists):
    client = app.test_client()
    email = monitor.email if exists else "nobody@example.org"
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    answers = [_attempt(client, email, "wrong password") for _ in range(limit + 1)]
    codes = [r.status_code for r in answers]
    assert codes == [200] * limit + [429]
    first = answers[0].get_data(as_text=True)
    assert "The e-mail address or the password is not correct." in first


def test_unknown_and_known_accounts_get_identical_pages(app, monitor):
    known = _attempt(app.test_client(), monitor.email, "wrong password").get_data(as_text=True)
    unknown = _attempt(app.test_client(), "nobody@example.org", "wrong password").get_data(as_text=True)

    def strip(html):
        import re

        return re.sub(r'value="[^"]*"', "", html)

    assert strip(known) == strip(unknown)


def test_address_is_throttled_across_accounts(app):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"], saved = 3, app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    try:
        client = app.test_client()
        for n in range(3):
            assert _attempt(client, f"guess{n}@example.org", "x", address="203.0.113.9").status_code == 200
        assert _attempt(client, "another@example.org", "x", address="203.0.113.9").status_code == 429
        assert _attempt(client, "another@example.org", "x", address="203.0.113.10").status_code == 200
    finally:
        app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = saved


def test_success_clears_the_account_counter(app, monitor):
    client = app.test_client()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit - 1):
        _attempt(client, monitor.email, "wrong password")
    assert _attempt(client, monitor.email, PASSWORD).status_code == 302
    other = app.test_client()
    for _ in range(limit - 1):
        assert _attempt(other, monitor.email, "wrong password").status_code == 200


def test_every_login_success_and_failure_is_audited(app, monitor):
    _attempt(app.test_client(), monitor.email, "wrong password")
    _attempt(app.test_client(), monitor.email, PASSWORD)
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == str(monitor.id)).order_by(AuditEntry.id)
        ).all()
        data = db.session.scalars(select(AuditEntry.data)).all()
    assert actions[-2:] == ["login.failure", "login.success"]
    assert not any("wrong password" in d or PASSWORD in d for d in data)
