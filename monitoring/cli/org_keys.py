"""``flask org-keys …``: a monitor organisation's key, which seals its worker data.

The server holds no key that opens sealed data, so re-wrapping and re-encrypting are opened
with the organisation's recovery code, asked for and never echoed. Both run the same routine as
the key pages and the API (:mod:`monitoring.testimony.jobs`): batches that are each their own
transaction, audited, so an interrupted run resumes where it stopped.
Making a new version needs no secret.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from typing import TypeVar

import click
from flask.cli import AppGroup
from sqlalchemy import select

from monitoring.accounts import keys
from monitoring.accounts.models import Organisation, OrganisationKind
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.testimony import jobs, operations
from monitoring.testimony.sealing import KeyOpener, SealedAccessError

T = TypeVar("T")

org_keys_cli = AppGroup(
    "org-keys",
    help="A monitor organisation's key: rotate (a new version), rewrap and reencrypt (to the newest "
    "version, opened with the organisation's recovery code).",
)

ORGANISATION = click.option("--organisation", required=True, help="Name of the monitor organisation.")


def deprecated(old: str, new: str) -> None:
    """Say on standard error that ``flask OLD`` is now ``flask NEW``."""
    click.echo(f"`flask {old}` is deprecated and will be removed: use `flask {new}`", err=True)


def _monitor_organisation(name: str) -> Organisation:
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name == name, Organisation.kind == OrganisationKind.monitor)
    )
    if organisation is None:
        raise click.ClickException(f"no monitor organisation named {name!r}")
    return organisation


def _recovery_opener(organisation: Organisation) -> KeyOpener:
    """Ask for the organisation's recovery code (never echoed) and open its versions with it."""
    code = click.prompt(f"Recovery code of {organisation.name}", hide_input=True)
    try:
        return keys.recovery_opener(organisation, code)
    except OperationError as exc:
        raise click.ClickException(str(exc.message)) from exc


def _refusals(run: Callable[[], T]) -> T:
    """Run the operation; a key that does not open stops it, audited, and so does a refusal."""
    try:
        return run()
    except SealedAccessError as exc:
        db.session.commit()  # the audit entry of the failure; the failed batch wrote nothing else
        raise click.ClickException(
            "a sealed key did not open with the recovery code; the batch was undone and the failure "
            "recorded in the audit log. Finished batches are kept: run the command again to resume."
        ) from exc
    except OperationError as exc:
        raise click.ClickException(str(exc.message)) from exc


def _in_batches(name: str, run: Callable[..., T], batch_size: int, max_batches: int | None) -> T:
    """Run a batch routine of testimony.jobs on the organisation's keys, opened with its code."""
    organisation = _monitor_organisation(name)
    opener = _recovery_opener(organisation)
    batches = max_batches or sys.maxsize
    return _refusals(
        lambda: run(
            None, batch_size=batch_size, max_batches=batches, organisation=organisation, open_version=opener
        )
    )


def _retired(versions: list[int]) -> str:
    return ", ".join(str(v) for v in versions) or "none"


@org_keys_cli.command("rotate")
@ORGANISATION
def org_keys_rotate(organisation: str) -> None:
    """Make a new (post-quantum) version of the organisation's key for the members who hold it."""
    org = _monitor_organisation(organisation)
    state = _refusals(lambda: operations.rotate_key(None, organisation=org))
    algorithm = state.current_algorithm.value if state.current_algorithm is not None else "none"
    click.echo(
        f"version {state.current_version} ({algorithm}) of the key of "
        f"{organisation}; new reports are sealed to it. Move {state.to_rewrap} older keys with "
        f"`flask org-keys rewrap --organisation {shlex.quote(organisation)}` (or on the Key versions page)"
    )


@org_keys_cli.command("rewrap")
@ORGANISATION
@click.option("--batch-size", default=500, show_default=True, help="Keys per batch (one transaction each).")
@click.option("--max-batches", type=int, default=None, help="Stop after this many batches.")
def org_keys_rewrap(organisation: str, batch_size: int, max_batches: int | None) -> None:
    """Re-seal the organisation's report, message and file keys to its newest version (resumable)."""
    result = _in_batches(organisation, jobs.rewrap_organisation_keys, batch_size, max_batches)
    click.echo(
        f"re-sealed {result.rewrapped} keys of {organisation} to version {result.current_version}; "
        f"{result.to_rewrap} left; versions retired: {_retired(result.retired_versions)}"
    )


@org_keys_cli.command("reencrypt")
@ORGANISATION
@click.option("--batch-size", default=20, show_default=True, help="Reports per batch (one transaction each).")
@click.option("--max-batches", type=int, default=None, help="Stop after this many batches.")
def org_keys_reencrypt(organisation: str, batch_size: int, max_batches: int | None) -> None:
    """Re-encrypt the organisation's older reports under fresh keys (resumable).

    After a member left: every report whose data key is older than the newest key version gets
    a fresh data key, its fields, messages and files re-encrypted, all sealed to the newest
    version, so the key a former member may have kept opens none of it.
    """
    if batch_size < 1:
        raise click.BadParameter("must be at least 1", param_hint="--batch-size")
    result = _in_batches(organisation, jobs.reencrypt_organisation_reports, batch_size, max_batches)
    click.echo(
        f"re-encrypted {result.reencrypted} reports ({result.messages} messages, {result.files} files) of "
        f"{organisation}; {result.to_reencrypt} left; versions retired: {_retired(result.retired_versions)}"
    )
