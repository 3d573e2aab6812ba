"""``flask audit …``: check the hash chain of the audit log and anchor it outside the database."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from monitoring.core import audit
from monitoring.core.db import db

audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the hash chain and hold it against every signed checkpoint; name what is wrong.

    Exit status: 0 intact, 1 broken, truncated, rewritten or checkpoint file tampered, 2 the
    audit key does not match this database.
    """
    check = audit.verify_log(audit.audit_key())
    result, checkpoints, path, tampered = check.result, check.checkpoints, check.path, check.tampered
    if result.key_mismatch:
        click.echo(
            "the audit key does not match this database: MONITORING_AUDIT_KEY (or audit_key in the "
            "secrets file) is not the key this audit log was written with; nothing was checked",
            err=True,
        )
        sys.exit(2)
    if tampered is not None:
        click.echo(f"audit checkpoint file tampered: {path} {tampered}", err=True)
    elif not checkpoints:
        click.echo(
            f"warning: no audit checkpoint in {path} yet, so a truncated tail cannot be detected; "
            "`flask jobs run` writes them",
            err=True,
        )
    if not result.ok:
        if result.checkpoint is not None:
            click.echo(f"audit log TRUNCATED OR REWRITTEN: {result.reason}", err=True)
        else:
            where = f"at entry {result.broken_id}" if result.broken_id is not None else "at its head"
            click.echo(
                f"audit log BROKEN {where}: {result.reason} ({result.checked} entries before it verified)",
                err=True,
            )
        sys.exit(1)
    anchored = ""
    if result.checkpoints_matched:
        latest = result.checkpoints_matched[-1].describe()
        anchored = f", matching {len(result.checkpoints_matched)} checkpoints up to {latest}"
    click.echo(f"audit log intact: {result.checked} entries verified{anchored}")
    if tampered is not None:
        sys.exit(1)


def write_checkpoint() -> str:
    """Anchor the audit chain outside the database; exit 1 (after logging) when it cannot be done."""
    path = audit.checkpoint_path()
    try:
        checkpoint = audit.write_checkpoint(path, audit.audit_key())
    except (audit.CheckpointFileTampered, audit.CheckpointRefused, audit.AuditKeyMismatch) as exc:
        prefix = "audit checkpoint file tampered: " if isinstance(exc, audit.CheckpointFileTampered) else ""
        message = f"no audit checkpoint written: {prefix}{exc} ({path})"
        audit.checkpoint_logger.error(message)
        click.echo(message, err=True)
        sys.exit(1)
    finally:
        db.session.rollback()
    if checkpoint is None:
        return "audit log unchanged since the last checkpoint"
    return (
        f"audit {checkpoint.describe()}: {checkpoint.entries} entries up to entry {checkpoint.last_id}, "
        f"appended to {path}"
    )


@audit_cli.command("checkpoint")
def audit_checkpoint() -> None:
    """Append a signed checkpoint of the audit chain now (`flask jobs run` does it every run)."""
    click.echo(write_checkpoint())
    click.echo(f"checkpoints are signed with Ed25519 key {audit.checkpoint_public_key(audit.audit_key())}")
