"""``flask demo load``: idempotent demonstration data.

Every name here is fictional. The demo passwords are public (they are in the README), so the
command refuses to run in production. Running it again changes nothing: organisations are
looked up by name and users by e-mail address before anything is created, and existing rows are
left as they are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from monitoring.accounts import keys, operations
from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.transactions import command

logger = logging.getLogger(__name__)

demo_cli = AppGroup("demo", help="Demonstration data.")


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    kind: OrganisationKind
    country: str


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    name: str
    role: UserRole
    organisation: str


OPERATOR = DemoOrganisation("Fair Circuits Network", OrganisationKind.operator, "NL")
MONITORS = (
    DemoOrganisation("Chao Phraya Workers' Voice", OrganisationKind.monitor, "TH"),
    DemoOrganisation("Straits Labour Watch", OrganisationKind.monitor, "MY"),  # also works in southern China
)
AFFILIATES = (  # public buyers: a city, a region, a university
    DemoOrganisation("City of Northhaven", OrganisationKind.affiliate, "SE"),
    DemoOrganisation("Valmora Regional Council", OrganisationKind.affiliate, "ES"),
    DemoOrganisation("University of Eastmere", OrganisationKind.affiliate, "GB"),
)
SUPPLIERS = (  # a brand, a reseller to public buyers, a contract manufacturer
    DemoOrganisation("Lumenbyte Devices", OrganisationKind.supplier, "US"),
    DemoOrganisation("Nordic Public IT Supply", OrganisationKind.supplier, "SE"),
    DemoOrganisation("Pearl River Precision Assembly", OrganisationKind.supplier, "CN"),
)
ORGANISATIONS = (OPERATOR, *MONITORS, *AFFILIATES, *SUPPLIERS)

# One login per role; the passwords are documented in README.md and are for the demo only.
LOGINS = (
    DemoLogin("admin@demo.example", "demo-admin-pass", "Ada Lindqvist", UserRole.admin, OPERATOR.name),
    DemoLogin(
        "coordinator@demo.example",
        "demo-coordinator-pass",
        "Carmen Ortiz",
        UserRole.coordinator,
        OPERATOR.name,
    ),
    DemoLogin(
        "monitor@demo.example", "demo-monitor-pass", "Somchai Prasert", UserRole.monitor, MONITORS[0].name
    ),
    DemoLogin(
        "affiliate@demo.example", "demo-affiliate-pass", "Elin Berg", UserRole.affiliate, AFFILIATES[0].name
    ),
    DemoLogin(
        "supplier@demo.example", "demo-supplier-pass", "Wei Chen", UserRole.supplier, SUPPLIERS[0].name
    ),
)


class DemoRefused(RuntimeError):
    """Demo data must not be loaded here."""


@dataclass
class DemoResult:
    created_organisations: list[str] = field(default_factory=list)
    created_users: list[str] = field(default_factory=list)
    created_supplychain: int = 0  # sites, products, rates, contracts and disclosures
    created_testimony: int = 0  # report routing rows and sealed demo reports
    created_cases: int = 0  # remediation cases (with their findings, actions and dialogue)
    # Organisation name -> the recovery code of the key just created for it (printed once).
    recovery_codes: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(
            self.created_organisations
            or self.created_users
            or self.created_supplychain
            or self.created_testimony
            or self.created_cases
            or self.recovery_codes
        )


def _organisation_named(name: str) -> Organisation | None:
    return db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))


def load_demo() -> DemoResult:
    """Create whatever demo organisations and users are missing; flush, never commit."""
    if current_app.config["ENV"] == "production":
        raise DemoRefused("refusing to load demo data (public passwords) into a production system")
    result = DemoResult()
    organisations: dict[str, Organisation] = {}
    for spec in ORGANISATIONS:
        org = _organisation_named(spec.name)
        if org is None:
            org = operations.create_organisation(None, spec.name, spec.kind, spec.country)
            result.created_organisations.append(spec.name)
        elif org.kind is not spec.kind:
            raise DemoRefused(
                f"an organisation named {spec.name!r} exists but is not of kind {spec.kind.value}"
            )
        organisations[spec.name] = org
    for login in LOGINS:
        email = operations.normalise_email(login.email)
        if db.session.scalar(select(User.id).where(User.email == email)) is not None:
            continue
        temporary = operations.temporary_password()
        user = operations.create_user(
            None,
            email=email,
            name=login.name,
            role=login.role,
            organisation=organisations[login.organisation],
            password=temporary,
            must_change_password=True,
        )
        # The demo person then sets their own (documented) password, as at a first login: only
        # that makes their key pair.
        operations.change_password(user, temporary, login.password)
        result.created_users.append(email)
    _create_monitor_keys(organisations, result)
    from monitoring.supplychain.demo import load_supplychain_demo

    result.created_supplychain = load_supplychain_demo()
    from monitoring.testimony.demo import load_testimony_demo

    result.created_testimony = load_testimony_demo()
    from monitoring.cases.demo import load_cases_demo

    result.created_cases = load_cases_demo()
    logger.info(
        "demo data: %d organisations and %d users created",
        len(result.created_organisations),
        len(result.created_users),
    )
    return result


def _create_monitor_keys(organisations: dict[str, Organisation], result: DemoResult) -> None:
    """Give each demo monitor's organisation a key, created by that monitor (as the setup page does)."""
    for login in LOGINS:
        if login.role is not UserRole.monitor:
            continue
        organisation = organisations[login.organisation]
        user = db.session.scalar(select(User).where(User.email == operations.normalise_email(login.email)))
        if user is None or not user.is_active or keys.current_organisation_key(organisation) is not None:
            continue
        try:
            code = keys.create_organisation_key(user, organisation, password=login.password)
        except keys.KeysLocked:
            logger.warning(
                "demo: %s no longer has the demo password; %s keeps no key", login.email, organisation.name
            )
            continue
        result.recovery_codes[organisation.name] = code


def logins_table() -> str:
    """The demo logins as a plain-text table."""
    rows = [("e-mail", "password", "role", "organisation")]
    rows += [(x.email, x.password, x.role.value, x.organisation) for x in LOGINS]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


@command
def _load_and_commit() -> DemoResult:
    """Load the demo data in one transaction: all of it, or nothing."""
    try:
        return load_demo()
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from exc
    except OperationError as exc:  # e.g. a demo organisation was deactivated since
        raise click.ClickException(f"cannot complete the demo data: {exc.message}") from exc


@demo_cli.command("load")
def demo_load() -> None:
    """Create the demo organisations and one user per role (safe to run again)."""
    result = _load_and_commit()  # committed before the logins are shown
    if result.changed:
        click.echo(
            f"Demo data loaded: {len(result.created_organisations)} organisations and "
            f"{len(result.created_users)} users created."
        )
    else:
        click.echo("Demo data already present; nothing changed.")
    click.echo("\nDemo logins (for development only):\n")
    click.echo(logins_table())
    for name, code in result.recovery_codes.items():
        click.echo(f"\nRecovery code of the key of {name} (shown once, not stored): {code}")
    if current_app.config["DEMO_RELAX_TWO_FACTOR"]:
        click.echo(
            "\nTwo-factor sign-in is switched off for these demo accounts (MONITORING_DEMO_RELAX_TWO_FACTOR)."
        )
    else:
        click.echo(
            "\nThe admin, coordinator and monitor set up two-factor sign-in (an authenticator app) at their "
            "first login; MONITORING_DEMO_RELAX_TWO_FACTOR=1 (set by `make run`) switches it off for them."
        )
