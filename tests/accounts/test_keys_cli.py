"""Keys through the command line and the demo data: the same operations as the pages."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from monitoring.accounts import keys
from monitoring.accounts.models import Organisation, OrganisationKeyGrant, User, UserRole
from monitoring.core import crypto
from monitoring.core.db import db
from monitoring.demo import LOGINS
from tests.conftest import session_of

SECRET = re.compile(r"\(shown once, not stored\): (\S+)")


def _run(app, *args, **kwargs):
    result = app.test_cli_runner().invoke(args=list(args), **kwargs)
    assert result.exit_code == 0, result.output
    return result.output


def _grants_of(user_id):
    return db.session.scalar(
        select(func.count()).select_from(OrganisationKeyGrant).where(OrganisationKeyGrant.user_id == user_id)
    )


def test_users_create_gives_no_key_pair_until_the_user_sets_their_own_password(app, create_organisation):
    """The password on standard input is the operator's: no key is wrapped under it."""
    from monitoring.accounts import operations

    org = create_organisation("monitor")
    _run(
        app,
        "users",
        "create",
        "new@example.org",
        "--name",
        "New",
        "--role",
        "monitor",
        "--org",
        org.name,
        "--password-stdin",
        input="a long enough password\n",
    )
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new@example.org"))
        assert user.public_key is None and user.private_key_wrapped is None
        operations.change_password(user, "a long enough password", "the member's own passphrase")
        db.session.commit()
        private = crypto.unwrap_with_password(
            user.private_key_wrapped,
            "the member's own passphrase",
            context=("user", user.id),
            pepper=str(app.config["PASSWORD_PEPPER"]).encode(),
        )
        assert crypto.public_key_of(private) == user.public_key


def test_users_reset_password_drops_the_keys(app, monitor_with_keys, create_user, grant_keys):
    member = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    grant_keys(member)
    with app.app_context():
        old_public = db.session.get(User, member.id).public_key
    output = _run(app, "users", "reset-password", member.email)
    temporary = SECRET.search(output).group(1)
    with app.app_context():
        user = db.session.get(User, member.id)
        assert old_public is not None and _grants_of(member.id) == 0
        # No new pair under the printed temporary password: the operator saw it.
        assert temporary and user.public_key is None and user.private_key_wrapped is None


def test_users_deactivate_rotates(app, monitor_with_keys, create_user, grant_keys):
    member = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    grant_keys(member)
    _run(app, "users", "deactivate", member.email)
    with app.app_context():
        org = db.session.get(Organisation, monitor_with_keys.organisation_id)
        assert keys.current_organisation_key(org).version == 2
        assert _grants_of(member.id) == 0


def test_demo_gives_the_monitor_organisation_a_key_and_prints_its_code_once(app):
    first = _run(app, "demo", "load")
    codes = re.findall(r"Recovery code of the key of (.+?) \(shown once, not stored\): (\S+)", first)
    monitor = next(x for x in LOGINS if x.role is UserRole.monitor)
    assert [name for name, _code in codes] == [monitor.organisation]
    assert "Recovery code" not in _run(app, "demo", "load")
    # The demo monitor logs in with the demo password and opens the key; the code opens it too.
    client = app.test_client()
    from tests.conftest import login

    login(client, monitor.email, monitor.password)
    with session_of(app, client):
        user = db.session.scalar(select(User).where(User.email == monitor.email))
        key = keys.current_organisation_key(user.organisation)
        assert crypto.public_key_of(keys.organisation_private_key(user, key)) == key.public_key
        recovery_private = keys._recovery_private_key(keys.parse_recovery_code(codes[0][1]))
        assert crypto.public_key_of(recovery_private) == key.recovery_public_key
