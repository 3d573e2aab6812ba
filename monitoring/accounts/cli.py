"""``flask users …``: manage organisations and users from the shell.

Commands act without a user (the audit entries have no actor), refuse bad input with the
operation's message and exit code 1 without writing anything, and commit once. Secrets
(temporary passwords, API tokens) are printed once and never stored in clear.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import func, select

from monitoring.accounts import operations, two_factor
from monitoring.accounts.models import ApiToken, Organisation, OrganisationKind, User, UserRole
from monitoring.config import LOCALES
from monitoring.core.db import db
from monitoring.core.i18n import staff_locales
from monitoring.core.operations import OperationError
from monitoring.core.time_zones import is_time_zone

users_cli = AppGroup("users", help="Organisations, users and API tokens.")
token_cli = AppGroup("token", help="API tokens of a user.")
users_cli.add_command(token_cli)

ROLES = click.Choice([role.value for role in UserRole])
KINDS = click.Choice([kind.value for kind in OrganisationKind])


@contextmanager
def _refusals() -> Iterator[None]:
    """Run an operation; turn its refusal into a click error (exit code 1) with nothing written."""
    # Outside a request there is no user to choose a language: use the default one for the
    # translated messages and titles operations produce.
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        try:
            yield
        except OperationError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from exc


def _fail(message: str) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(message)


def _user_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == operations.normalise_email(email)))
    if user is None:
        raise _fail(f"no user with the e-mail address {email!r}")
    return user


def _organisation_by_name(name: str) -> Organisation:
    name = " ".join(name.split())
    org = db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))
    if org is None:
        raise _fail(f"no organisation named {name!r} (create it with `flask users create-org`)")
    return org


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise _fail("no password on standard input")
    return password


def _show_secret(label: str, secret: str) -> None:
    click.echo(f"{label} (shown once, not stored): {secret}")


@users_cli.command("create-org")
@click.argument("name")
@click.option("--kind", type=KINDS, required=True, help="What the organisation is.")
@click.option("--country", default=None, help="Two-letter ISO country code.")
def create_org(name: str, kind: str, country: str | None) -> None:
    """Create an organisation called NAME."""
    with _refusals():
        org = operations.create_organisation(None, name, OrganisationKind(kind), country)
    db.session.commit()
    click.echo(f"created {org.kind.value} organisation {org.id}: {org.name}")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's name.")
@click.option("--role", type=ROLES, required=True)
@click.option("--org", "org_name", required=True, help="Name of the organisation the person belongs to.")
@click.option("--locale", default=None, help=f"Language of the interface: {', '.join(LOCALES)}.")
@click.option(
    "--time-zone",
    default=None,
    help="IANA time zone, e.g. Asia/Bangkok; without it, the usual zone of the organisation's country.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of generating a temporary one.",
)
def create_user(
    email: str,
    name: str,
    role: str,
    org_name: str,
    locale: str | None,
    time_zone: str | None,
    password_stdin: bool,
) -> None:
    """Create a user with the e-mail address EMAIL.

    Without --password-stdin a temporary password is printed once; it must be changed at
    the first login. Either way the user has no key pair for sealed data until they choose a
    password of their own (at that first login, or on their account page): a key is never
    wrapped under a password someone else has seen.
    """
    if locale is not None and locale not in staff_locales():
        raise _fail(f"unknown locale {locale!r}; choose one of {', '.join(staff_locales())}")
    if time_zone is not None and not is_time_zone(time_zone):
        raise _fail(f"unknown time zone {time_zone!r}; give an IANA name such as Asia/Bangkok or UTC")
    org = _organisation_by_name(org_name)
    password = _read_password() if password_stdin else operations.temporary_password()
    with _refusals():
        user = operations.create_user(
            None,
            email=email,
            name=name,
            role=UserRole(role),
            organisation=org,
            password=password,
            locale=locale,
            time_zone=time_zone,
            must_change_password=not password_stdin,
        )
    db.session.commit()
    click.echo(f"created {user.role.value} {user.id}: {user.email} in {org.name!r}")
    if not password_stdin:
        _show_secret("temporary password, to be changed at the first login", password)


@users_cli.command("list")
@click.option("--role", type=ROLES, default=None, help="Only users of this role.")
def list_users(role: str | None) -> None:
    """List users by e-mail address."""
    query = select(User).order_by(User.email)
    if role is not None:
        query = query.where(User.role == UserRole(role))
    users = db.session.scalars(query).all()
    for user in users:
        state = "active" if user.is_active else "deactivated"
        click.echo(f"{user.id}\t{user.email}\t{user.role.value}\t{user.organisation.name}\t{state}")
    if not users:
        click.echo("no users", err=True)


def _set_active(email: str, active: bool) -> None:
    user = _user_by_email(email)
    with _refusals():
        operations.set_user_active(None, user, active)
    db.session.commit()
    click.echo(f"{'activated' if active else 'deactivated'} {user.email}")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    """Deactivate a user: end their sessions and revoke their API tokens."""
    _set_active(email, False)


@users_cli.command("activate")
@click.argument("email")
def activate(email: str) -> None:
    """Reactivate a deactivated user."""
    _set_active(email, True)


@users_cli.command("reset-password")
@click.argument("email")
def reset_password(email: str) -> None:
    """Give a user a temporary password (printed once) to change at the next login.

    Their key pair and every access granted to it are dropped; a new pair is made when they
    choose their own password, and colleagues grant access again.
    """
    user = _user_by_email(email)
    with _refusals():
        password = operations.reset_password(None, user)
    db.session.commit()
    click.echo(f"reset the password of {user.email}; their sessions ended and their key pair was dropped")
    _show_secret("temporary password, to be changed at the next login", password)


@users_cli.command("reset-2fa")
@click.argument("email")
def reset_two_factor(email: str) -> None:
    """Remove a user's two-factor key (a lost phone); they set it up again at the next login."""
    user = _user_by_email(email)
    with _refusals():
        two_factor.reset_two_factor(None, user)
    db.session.commit()
    click.echo(f"reset the two-factor sign-in of {user.email}; their sessions ended")


@token_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What will use the token, e.g. 'monthly report script'.")
def token_create(email: str, name: str) -> None:
    """Create an API token for a user; the token is printed once."""
    user = _user_by_email(email)
    if not user.is_active:
        raise _fail(f"{user.email} is deactivated")
    with _refusals():
        token, clear = operations.create_token(user, name, actor=None)
    db.session.commit()
    click.echo(f"created API token {token.id} ({token.name!r}) for {user.email}")
    _show_secret("token", clear)


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke the API token with the id TOKEN_ID."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise _fail(f"no API token with the id {token_id}")
    if not token.is_active:
        raise _fail(f"API token {token_id} is already revoked")
    with _refusals():
        operations.revoke_token(None, token)
    db.session.commit()
    click.echo(f"revoked API token {token.id} ({token.name!r}) of {token.user.email}")
