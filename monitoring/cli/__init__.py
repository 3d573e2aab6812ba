"""``flask`` commands for operators: one module per group, and the features' commands.

The application's own groups are here (db, i18n, audit, keys, org-keys, files, backup, jobs,
import);
the features keep theirs in their ``cli`` modules (users, demo, the importers), which never
import this package: :func:`register_cli` collects them.

Every command is a transaction of its own: committed when it returns, rolled back when it
fails (:func:`monitoring.core.transactions.command`), so no command half-writes on an error.
Commands that work in resumable batches commit each finished batch themselves.
"""

from __future__ import annotations

import functools

import click
from flask import Flask

from monitoring.cli.imports import import_cli
from monitoring.config import ConfigError
from monitoring.core.crypto import KeyringError
from monitoring.core.transactions import command as one_transaction

__all__ = ["import_cli", "register_cli"]


def _groups() -> list[click.Command]:
    from monitoring.accounts.cli import users_cli
    from monitoring.cli.audit import audit_cli
    from monitoring.cli.backup import backup_cli
    from monitoring.cli.database import db_cli
    from monitoring.cli.figures import figures_cli
    from monitoring.cli.jobs import jobs_cli
    from monitoring.cli.keys import files_cli, keys_cli
    from monitoring.cli.org_keys import org_keys_cli
    from monitoring.cli.translations import i18n_cli
    from monitoring.demo import demo_cli
    from monitoring.supplychain import cli as supplychain_cli
    from monitoring.testimony import cli as testimony_cli

    # The features add their importers to the import group (``flask import facilities``...).
    supplychain_cli.register(import_cli)
    testimony_cli.register(import_cli)

    return [
        db_cli,
        i18n_cli,
        audit_cli,
        jobs_cli,
        figures_cli,
        import_cli,
        keys_cli,
        org_keys_cli,
        files_cli,
        backup_cli,
        users_cli,
        demo_cli,
    ]


def _as_transaction(command: click.Command) -> None:
    """Run the command (each command of a group) in one transaction; refuse in one line.

    A configuration or keyring error ends the command with its message alone (exit 1): the
    message says what to do, and a traceback around it would only bury it.
    """
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _as_transaction(sub)
        return
    callback = command.callback
    if callback is None or getattr(callback, "_one_transaction", False):
        return

    @functools.wraps(callback)
    def refusing(*args: object, **kwargs: object) -> object:
        try:
            return callback(*args, **kwargs)
        except (ConfigError, KeyringError) as exc:
            raise click.ClickException(str(exc)) from None

    wrapped = one_transaction(refusing)
    wrapped._one_transaction = True  # type: ignore[attr-defined]
    command.callback = wrapped


def register_cli(app: Flask) -> None:
    """Add every command group to the ``flask`` command."""
    for group in _groups():
        app.cli.add_command(group)
        _as_transaction(group)
