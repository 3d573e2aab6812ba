"""The ``flask`` command: each command one transaction, and ``flask org-keys`` beside ``flask keys``."""

from __future__ import annotations

import secrets

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from monitoring.accounts import keys
from monitoring.accounts.models import Organisation, OrganisationKey
from monitoring.cli import _as_transaction
from monitoring.core import audit
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.conftest import RECOVERY_CODES


def _entries(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def _command(fail: bool) -> click.Command:
    def write() -> None:
        audit.record("test.cli", "A command wrote this")
        if fail:
            raise click.ClickException("refused after writing")
        click.echo("done")

    command = click.Command("write", callback=with_appcontext(write))
    _as_transaction(command)
    return command


def test_a_command_commits_when_it_returns_and_writes_nothing_when_it_fails(app) -> None:
    runner = app.test_cli_runner()
    failed = runner.invoke(_command(fail=True))
    assert failed.exit_code == 1 and "refused after writing" in failed.output
    with app.app_context():
        assert _entries("test.cli") == 0
    done = runner.invoke(_command(fail=False))
    assert done.exit_code == 0, done.output
    with app.app_context():
        assert _entries("test.cli") == 1


def _org_keys(app, *args: str, code: str = "", ok: bool = True) -> str:
    result = app.test_cli_runner().invoke(args=list(args), input=code + "\n")
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def _live_versions(organisation_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(OrganisationKey.version)
            .where(OrganisationKey.organisation_id == organisation_id, OrganisationKey.retired_dt.is_(None))
            .order_by(OrganisationKey.version)
        )
    )


def test_org_keys_rotate_then_rewrap_with_the_recovery_code(app, monitor_with_keys) -> None:
    with app.app_context():
        name = db.session.get(Organisation, monitor_with_keys.organisation_id).name
    out = _org_keys(app, "org-keys", "rotate", "--organisation", name)
    assert "version 2 (mlkem768-x25519)" in out and "flask org-keys rewrap --organisation" in out
    assert "deprecated" not in out
    wrong = keys.format_recovery_code(secrets.token_bytes(keys.RECOVERY_SECRET_BYTES))
    refused = _org_keys(app, "org-keys", "rewrap", "--organisation", name, code=wrong, ok=False)
    assert "This is not the recovery code" in refused
    with app.app_context():
        assert _live_versions(monitor_with_keys.organisation_id) == [1, 2]
    code = RECOVERY_CODES[monitor_with_keys.organisation_id]
    out = _org_keys(app, "org-keys", "rewrap", "--organisation", name, code=code)
    assert "to version 2; 0 left; versions retired: 1" in out and code not in out
    with app.app_context():
        assert _live_versions(monitor_with_keys.organisation_id) == [2]
    assert "no monitor organisation named" in _org_keys(
        app, "org-keys", "reencrypt", "--organisation", "Nobody", ok=False
    )


def test_the_old_spelling_still_works_and_names_the_new_one(app, monitor_with_keys) -> None:
    with app.app_context():
        name = db.session.get(Organisation, monitor_with_keys.organisation_id).name
    out = _org_keys(app, "keys", "rotate", "--organisation", name)
    assert "`flask keys rotate --organisation` is deprecated" in out
    assert "use `flask org-keys rotate --organisation`" in out and "version 2" in out
    out = _org_keys(app, "keys", "reencrypt", "--organisation", name, code="", ok=False)
    assert "use `flask org-keys reencrypt`" in out
    with app.app_context():
        assert _live_versions(monitor_with_keys.organisation_id) == [1, 2]
