"""``flask users …``: organisations, users and API tokens from the shell."""

import re

import pytest
from sqlalchemy import func, select

from monitoring.accounts.models import ApiToken, Organisation, OrganisationKind, User, UserRole
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.conftest import PASSWORD, login

SECRET = re.compile(r"\(shown once, not stored\): (\S+)")


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args, **kwargs):
        return runner.invoke(args=["users", *args], **kwargs)

    return invoke


def _count(app, model, *conditions):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def _secret(output):
    match = SECRET.search(output)
    assert match, output
    return match.group(1)


def _last_entry(app, action):
    with app.app_context():
        return db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
        )


def test_create_org(app, cli):
    result = cli("create-org", "Electronics  Watch", "--kind", "monitor", "--country", "se")
    assert result.exit_code == 0, result.output
    assert "created monitor organisation" in result.output
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "Electronics Watch"))
        assert (org.kind, org.country) == (OrganisationKind.monitor, "SE")
    entry = _last_entry(app, "organisation.create")
    assert entry.actor_id is None and entry.object_id == str(org.id)


def test_create_org_refusals_write_nothing(app, cli, create_organisation):
    create_organisation(OrganisationKind.supplier, name="Pegatron")
    before = _count(app, Organisation)
    result = cli("create-org", "pegatron", "--kind", "supplier")
    assert result.exit_code == 1
    assert "already exists" in result.output
    result = cli("create-org", "Elsewhere", "--kind", "supplier", "--country", "Sweden")
    assert result.exit_code == 1
    assert "two-letter ISO code" in result.output
    assert cli("create-org", "Elsewhere", "--kind", "bank").exit_code == 2  # click's usage error
    assert _count(app, Organisation) == before


def test_create_user_prints_a_temporary_password(app, cli, create_organisation):
    org = create_organisation(OrganisationKind.affiliate, name="Region Stockholm")
    result = cli(
        "create", "Buyer@Example.org", "--name", "Ana Buyer", "--role", "affiliate",
        "--org", "region stockholm", "--locale", "sv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    password = _secret(result.output)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "buyer@example.org"))
        assert (user.role, user.organisation_id, user.locale) == (UserRole.affiliate, org.id, "sv")
        assert user.must_change_password is True
    entry = _last_entry(app, "user.create")
    assert entry.actor_id is None and password not in entry.data
    response = login(app.test_client(), "buyer@example.org", password)
    assert response.headers["Location"] == "/account/password"


def test_create_user_with_password_from_stdin(app, cli, create_organisation):
    create_organisation(OrganisationKind.operator, name="Network")
    result = cli(
        "create", "root@example.org", "--name", "Root", "--role", "admin", "--org", "Network",
        "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "shown once" not in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "root@example.org"))
        assert user.must_change_password is False
    response = login(app.test_client(), "root@example.org", PASSWORD)
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "supplier", "--org", "Watchers"], "must belong to an organisation of the kind"),
        (["--role", "monitor", "--org", "Nobody"], "no organisation named"),
        (["--role", "monitor", "--org", "Watchers", "--locale", "xx"], "unknown locale"),
    ],
)
def test_create_user_refusals_write_nothing(app, cli, create_organisation, args, message):
    create_organisation(OrganisationKind.monitor, name="Watchers")
    before = _count(app, User)
    result = cli("create", "someone@example.org", "--name", "Someone", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert _count(app, User) == before


def test_create_user_refuses_a_duplicate_and_a_short_password(app, cli, monitor):
    org = monitor.organisation.name
    before = _count(app, User)
    result = cli("create", monitor.email.upper(), "--name", "Again", "--role", "monitor", "--org", org)
    assert result.exit_code == 1
    assert "already exists" in result.output
    result = cli(
        "create", "new@example.org", "--name", "New", "--role", "monitor", "--org", org,
        "--password-stdin", input="short\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert _count(app, User) == before


def test_list(cli, monitor, supplier):
    result = cli("list")
    assert result.exit_code == 0
    assert monitor.email in result.output and supplier.email in result.output
    result = cli("list", "--role", "supplier")
    assert supplier.email in result.output and monitor.email not in result.output


def test_deactivate_and_activate(app, cli, client_for, monitor):
    client = client_for(monitor)
    result = cli("deactivate", monitor.email)
    assert result.exit_code == 0, result.output
    assert client.get("/").status_code == 302
    with app.app_context():
        assert db.session.get(User, monitor.id).is_active is False
    entry = _last_entry(app, "user.deactivate")
    assert entry.actor_id is None and entry.object_id == str(monitor.id)
    result = cli("activate", monitor.email)
    assert result.exit_code == 0, result.output
    assert client_for(monitor).get("/").status_code == 200


def test_activate_an_active_user_changes_nothing(app, cli, monitor):
    assert cli("activate", monitor.email).exit_code == 0
    assert _last_entry(app, "user.activate") is None


def test_unknown_email(cli):
    for command in ("deactivate", "activate", "reset-password"):
        result = cli(command, "nobody@example.org")
        assert result.exit_code == 1
        assert "no user with the e-mail address" in result.output


def test_reset_password(app, cli, client_for, supplier):
    client = client_for(supplier)
    result = cli("reset-password", supplier.email)
    assert result.exit_code == 0, result.output
    password = _secret(result.output)
    assert client.get("/").status_code == 302
    assert login(app.test_client(), supplier).status_code == 200  # the old password is gone
    response = login(app.test_client(), supplier, password)
    assert response.headers["Location"] == "/account/password"
    assert _last_entry(app, "user.password_reset").actor_id is None


def test_token_create_and_revoke(app, cli, monitor):
    result = cli("token", "create", monitor.email, "--name", "nightly export")
    assert result.exit_code == 0, result.output
    token = _secret(result.output)
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == monitor.id))
        assert row.name == "nightly export" and token.startswith(row.prefix)
        assert token not in (row.token_hash, row.prefix)
    result = cli("token", "revoke", str(row.id))
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get(ApiToken, row.id).revoked_dt is not None
    assert _last_entry(app, "token.revoke").actor_id is None
    result = cli("token", "revoke", str(row.id))
    assert result.exit_code == 1 and "already revoked" in result.output


def test_token_refusals(app, cli, monitor):
    assert cli("token", "revoke", "999999").exit_code == 1
    result = cli("token", "create", monitor.email, "--name", "   ")
    assert result.exit_code == 1
    assert "Please name the token" in result.output
    assert _count(app, ApiToken) == 0
