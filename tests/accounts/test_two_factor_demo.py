"""The demo may switch two-factor sign-in off for its own accounts only, and says so on every page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitoring.accounts import two_factor
from monitoring.accounts.models import User
from monitoring.config import ConfigError, load_config
from monitoring.core.db import db
from monitoring.demo import LOGINS, load_demo
from tests.accounts.two_factor_helpers import (
    SETUP_URL,
    VERIFY_URL,
    enrol_directly,
    give_code,
    password_only_login,
)
from tests.conftest import PASSWORD

NOTICE = "Two-factor sign-in is switched off for this demo account."
BY_ROLE = {demo.role.value: demo for demo in LOGINS}


@pytest.fixture
def demo_data(app):
    with app.app_context():
        load_demo()
        db.session.commit()


@pytest.fixture
def relaxed(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_RELAX_TWO_FACTOR", True)


def test_every_demo_account_is_under_the_demo_domain():
    assert all(demo.email.endswith(two_factor.DEMO_EMAIL_SUFFIX) for demo in LOGINS)


@pytest.mark.parametrize("role", ["admin", "coordinator", "monitor"])
def test_strict_by_default_even_for_demo_accounts(app, demo_data, role):
    demo = BY_ROLE[role]
    client = app.test_client()
    response = password_only_login(client, demo.email, demo.password)
    assert response.headers["Location"].startswith(SETUP_URL)
    assert client.get("/account").headers["Location"].startswith(SETUP_URL)
    assert NOTICE not in client.get(SETUP_URL).get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "coordinator", "monitor"])
def test_relaxed_demo_accounts_skip_the_code_and_are_told(app, demo_data, relaxed, role):
    demo = BY_ROLE[role]
    client = app.test_client()
    response = password_only_login(client, demo.email, demo.password)
    assert not response.headers["Location"].startswith((SETUP_URL, VERIFY_URL))
    for url in ("/", "/account", "/account/two-factor"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert NOTICE in page.get_data(as_text=True), url
    assert "not in this demo" in client.get("/account/two-factor").get_data(as_text=True)


@pytest.mark.parametrize("role", ["affiliate", "supplier"])
def test_no_notice_where_nothing_is_relaxed(app, demo_data, relaxed, role):
    demo = BY_ROLE[role]
    client = app.test_client()
    assert password_only_login(client, demo.email, demo.password).headers["Location"] == "/"
    assert NOTICE not in client.get("/").get_data(as_text=True)


def test_relaxation_is_for_demo_accounts_only(app, demo_data, relaxed, create_user):
    monitor = create_user("monitor")
    client = app.test_client()
    assert password_only_login(client, monitor.email, PASSWORD).headers["Location"].startswith(SETUP_URL)
    assert client.get("/").headers["Location"].startswith(SETUP_URL)
    # A look-alike address is no demo account.
    lookalike = create_user("coordinator", email="someone@demo.example.org")
    other = app.test_client()
    assert password_only_login(other, lookalike.email, PASSWORD).headers["Location"].startswith(SETUP_URL)


def test_a_demo_account_that_enrolled_needs_its_code(app, demo_data, relaxed):
    demo = BY_ROLE["monitor"]
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == demo.email))
    enrol_directly(app, user_id)
    client = app.test_client()
    assert password_only_login(client, demo.email, demo.password).headers["Location"].startswith(VERIFY_URL)
    give_code(client, demo.email)
    assert NOTICE not in client.get("/").get_data(as_text=True)


def test_production_refuses_the_relaxation(monkeypatch, tmp_path):
    for name in (
        "ENV",
        "SECRET_KEY",
        "AUDIT_KEY",
        "RECEIPT_KEY",
        "PASSWORD_PEPPER",
        "DATABASE_URL",
        "SECRETS_FILE",
        "KEYRING",
    ):
        monkeypatch.delenv(f"MONITORING_{name}", raising=False)
    monkeypatch.setenv("MONITORING_ENV", "production")
    monkeypatch.setenv("MONITORING_DATABASE_URL", "postgresql+psycopg://db/monitoring")
    monkeypatch.setenv("MONITORING_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("MONITORING_AUDIT_KEY", "a" * 40)
    monkeypatch.setenv("MONITORING_RECEIPT_KEY", "r" * 40)
    monkeypatch.setenv("MONITORING_PASSWORD_PEPPER", "p" * 40)
    monkeypatch.setenv("MONITORING_DEMO_RELAX_TWO_FACTOR", "1")
    with pytest.raises(ConfigError, match="MONITORING_DEMO_RELAX_TWO_FACTOR"):
        load_config({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.setenv("MONITORING_DEMO_RELAX_TWO_FACTOR", "0")
    assert load_config({"INSTANCE_PATH": str(tmp_path)})["DEMO_RELAX_TWO_FACTOR"] is False


def test_demo_load_says_whether_two_factor_is_relaxed(app, monkeypatch):
    runner = app.test_cli_runner()
    strict = runner.invoke(args=["demo", "load"])
    assert strict.exit_code == 0, strict.output
    assert "set up two-factor sign-in" in strict.output
    monkeypatch.setitem(app.config, "DEMO_RELAX_TWO_FACTOR", True)
    relaxed = runner.invoke(args=["demo", "load"])
    assert "switched off for these demo accounts" in relaxed.output
