"""``flask keys …``: the server keyring (protected data) and ``flask files verify``.

A monitor organisation's own key, which seals worker data, has its own group: ``flask org-keys``
(:mod:`monitoring.cli.org_keys`). The older spellings ``flask keys rotate|rewrap --organisation``
and ``flask keys reencrypt`` still work and say so.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from monitoring import integrity
from monitoring.cli import org_keys
from monitoring.config import key_file_kind
from monitoring.core import audit
from monitoring.core.crypto import Keyring, KeyringError, write_keyring_file
from monitoring.core.db import db, get_session
from monitoring.core.keyring import current_keyring, key_usage, rewrap_batch, set_keyring
from monitoring.core.storage import file_store

keys_cli = AppGroup(
    "keys",
    help="The server keyring: init, status, rotate, rewrap, retire, verify. "
    "A monitor organisation's key: see `flask org-keys`.",
)
files_cli = AppGroup("files", help="The encrypted file store: verify.")

ORGANISATION_HELP = "Deprecated: use `flask org-keys {command} --organisation NAME`."


def _keyring_file() -> Path:
    if current_app.config["KEYRING"]:
        raise click.ClickException(
            "the keyring comes from MONITORING_KEYRING; change it there (this command edits the keyring file)"
        )
    return Path(current_app.config["KEYRING_FILE"])


def _save_keyring(path: Path, keyring: Keyring) -> None:
    write_keyring_file(path, keyring, kind=key_file_kind(path) or "production")
    set_keyring(current_app, keyring)


def _uses(key_id: str) -> int:
    """How many protected values are encrypted under ``key_id``."""
    return sum(counts[key_id] for counts in key_usage(get_session()).values())


def rewrap_protected(batch_size: int, max_batches: int | None) -> int:
    """Move protected values to the active key, committing each batch so a stopped run resumes."""
    total = batches = 0
    while max_batches is None or batches < max_batches:
        done = rewrap_batch(get_session(), batch_size=batch_size)
        if not done:
            break
        active = current_keyring().active
        audit.record(
            "keys.rewrap",
            f"Re-encrypted {done} protected values under key {active}",
            data={"count": done, "key_id": active},
        )
        db.session.commit()  # each batch is its own transaction, so an interrupted run resumes
        total += done
        batches += 1
    return total


@keys_cli.command("init")
def keys_init() -> None:
    """Create a production keyring file with one new key (refuses to overwrite one)."""
    path = Path(current_app.config["KEYRING_FILE"])
    if path.exists():
        raise click.ClickException(f"{path} exists already")
    write_keyring_file(path, Keyring.generate(), kind="production")
    click.echo(f"created the keyring {path}; back it up outside the database server")


@keys_cli.command("status")
def keys_status() -> None:
    """Show the keys and how many protected values each one encrypts."""
    keyring = current_keyring()
    usage = key_usage(get_session())
    for key_id in sorted(keyring.keys):
        used = sum(counts[key_id] for counts in usage.values())
        marker = " (active)" if key_id == keyring.active else ""
        click.echo(f"{key_id}{marker}: {used} protected values")
    unknown = {k for counts in usage.values() for k in counts} - set(keyring.keys)
    for key_id in sorted(unknown):
        click.echo(f"{key_id} (MISSING from the keyring): values cannot be read", err=True)


@keys_cli.command("rotate")
@click.option("--batch-size", default=500, show_default=True)
@click.option("--organisation", help=ORGANISATION_HELP.format(command="rotate"))
@click.pass_context
def keys_rotate(ctx: click.Context, batch_size: int, organisation: str | None) -> None:
    """Add a new active key to the keyring file and re-encrypt everything under it."""
    if organisation is not None:
        org_keys.deprecated("keys rotate --organisation", "org-keys rotate --organisation")
        ctx.invoke(org_keys.org_keys_rotate, organisation=organisation)
        return
    path = _keyring_file()
    keyring = current_keyring().with_new_key()
    _save_keyring(path, keyring)
    audit.record("keys.rotate", f"Added key {keyring.active} to the keyring", data={"key_id": keyring.active})
    db.session.commit()  # the new key is in use from here on, whatever happens to the re-encryption
    click.echo(f"new active key {keyring.active}; copy {path} to every app server before they write again")
    total = rewrap_protected(batch_size, None)
    click.echo(f"re-encrypted {total} protected values; retire old keys with `flask keys retire`")


@keys_cli.command("rewrap")
@click.option("--batch-size", default=500, show_default=True)
@click.option("--max-batches", type=int, default=None, help="Stop after this many batches.")
@click.option("--organisation", help=ORGANISATION_HELP.format(command="rewrap"))
@click.pass_context
def keys_rewrap(
    ctx: click.Context, batch_size: int, max_batches: int | None, organisation: str | None
) -> None:
    """Re-encrypt protected values that are not under the active key (resumable)."""
    if organisation is not None:
        org_keys.deprecated("keys rewrap --organisation", "org-keys rewrap --organisation")
        ctx.invoke(
            org_keys.org_keys_rewrap,
            organisation=organisation,
            batch_size=batch_size,
            max_batches=max_batches,
        )
        return
    total = rewrap_protected(batch_size, max_batches)
    click.echo(f"re-encrypted {total} protected values")


@keys_cli.command("reencrypt", hidden=True, help=ORGANISATION_HELP.format(command="reencrypt"))
@click.option("--organisation", required=True)
@click.option("--batch-size", default=20, show_default=True)
@click.option("--max-batches", type=int, default=None)
@click.pass_context
def keys_reencrypt(ctx: click.Context, organisation: str, batch_size: int, max_batches: int | None) -> None:
    org_keys.deprecated("keys reencrypt", "org-keys reencrypt")
    ctx.invoke(
        org_keys.org_keys_reencrypt, organisation=organisation, batch_size=batch_size, max_batches=max_batches
    )


@keys_cli.command("retire")
@click.argument("key_id")
def keys_retire(key_id: str) -> None:
    """Remove KEY_ID from the keyring file once no protected value uses it."""
    path = _keyring_file()
    keyring = current_keyring()
    if key_id not in keyring.keys:
        raise click.ClickException(f"no key {key_id!r} in the keyring")
    used = _uses(key_id)
    if used:
        raise click.ClickException(
            f"key {key_id} still encrypts {used} values: run `flask keys rewrap` first"
        )
    try:
        keyring = keyring.without(key_id)
    except KeyringError as exc:
        raise click.ClickException(str(exc)) from exc
    _save_keyring(path, keyring)
    audit.record("keys.retire", f"Retired key {key_id}", data={"key_id": key_id})
    click.echo(f"retired {key_id}")


@keys_cli.command("verify")
def keys_verify() -> None:
    """Check that the keyring opens every protected value and that every sealed key is whole.

    Sealed keys open only with a monitor's key, never the server's: their form (suite, length)
    and the organisation key version they name are checked. Exit status 1 names what fails.
    """
    report = integrity.Report()
    integrity.verify_protected(current_keyring(), report)
    protected = report.checked
    integrity.verify_sealed_keys(report)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    click.echo(
        f"{protected} protected values and {report.checked - protected} sealed keys checked, "
        f"{len(report.problems)} failed"
    )
    if not report.ok:
        sys.exit(1)


@files_cli.command("verify")
def files_verify() -> None:
    """Check that every stored file a row names is there and opens; list unknown stored files.

    Exit status 1 when a file is missing or damaged, or when the store holds files this
    database does not know (after a restore: files uploaded since the backup).
    """
    report = integrity.Report()
    unknown = integrity.verify_files(file_store(), report)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    for line in integrity.describe_unknown(unknown):
        click.echo(line, err=True)
    click.echo(
        f"{report.checked} stored files checked, {len(report.problems)} failed; "
        f"{len(unknown)} unknown files in the store"
    )
    if report.problems or unknown:
        sys.exit(1)
