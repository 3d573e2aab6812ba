"""``flask`` command groups for operators: db, i18n, audit, jobs (features add their own)."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from alembic import command as alembic
from flask import Flask, current_app
from flask.cli import AppGroup

from monitoring.config import ROOT, ConfigError, key_file_kind
from monitoring.core.crypto import KeyringError
from monitoring.core.db import db

db_cli = AppGroup("db", help="Database migrations (Alembic).")
i18n_cli = AppGroup("i18n", help="Extract, update and compile translations.")
audit_cli = AppGroup("audit", help="The audit log.")
jobs_cli = AppGroup("jobs", help="Background jobs, meant for cron or a systemd timer.")
# Features add their importers to this group (``flask import facilities``, ``flask import survey``...).
keys_cli = AppGroup(
    "keys",
    help="The server keyring: init, status, rotate, rewrap, retire, verify; with --organisation, "
    "a monitor organisation's key: rotate, rewrap, reencrypt.",
)
import_cli = AppGroup("import", help="Import files: facility lists, disclosures, survey exports.")
files_cli = AppGroup("files", help="The encrypted file store: verify.")


def _alembic():
    from monitoring.core.migrate import alembic_config

    return alembic_config(current_app.config["DATABASE_URL"])


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    alembic.upgrade(_alembic(), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. -1 or base)."""
    alembic.downgrade(_alembic(), revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Create a migration from the difference between the models and the database."""
    alembic.revision(_alembic(), message=message, autogenerate=True)


@db_cli.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    alembic.current(_alembic(), verbose=True)


@db_cli.command("check")
def db_check() -> None:
    """Fail if the models differ from what the migrations produce."""
    alembic.check(_alembic())


# --- translations ---------------------------------------------------------------------------

BABEL_CFG = ROOT / "babel.cfg"
POT = ROOT / "translations" / "messages.pot"


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True)  # noqa: S603


WORKER_BABEL_CFG = ROOT / "babel-worker.cfg"
WORKER_POT = ROOT / "translations" / "worker.pot"


def _extract(config: Path, output: Path) -> None:
    _pybabel(
        "extract",
        "-F",
        str(config),
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "-k",
        "pgettext:1c,2",
        "-k",
        "lazy_pgettext:1c,2",
        "--no-location",
        "--sort-output",
        "--omit-header",
        "-o",
        str(output),
        str(ROOT),  # the configs' patterns are relative to the project root
    )


@i18n_cli.command("extract")
def i18n_extract() -> None:
    """Extract the strings into messages.pot (everything) and worker.pot (worker pages)."""
    _extract(BABEL_CFG, POT)
    _extract(WORKER_BABEL_CFG, WORKER_POT)


@i18n_cli.command("update")
def i18n_update() -> None:
    """Merge the templates into every catalog, creating missing ones; English copies the source.

    Interface languages get every message; worker-only languages get the worker pages' messages.
    Each catalog keeps its header: its ``Plural-Forms`` says how many forms its plurals have, and
    without it Babel falls back to CLDR's count (three for Spanish) and the catalog reads as
    incomplete.
    """
    from monitoring.config import LOCALES, WORKER_ONLY_LOCALES

    for template, locales in ((POT, LOCALES), (WORKER_POT, WORKER_ONLY_LOCALES)):
        for locale in locales:
            po = ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po"
            if po.exists():
                _pybabel(
                    "update",
                    "-i",
                    str(template),
                    "-d",
                    str(ROOT / "translations"),
                    "-l",
                    locale,
                    "--no-fuzzy-matching",
                    "--ignore-pot-creation-date",
                )
            else:
                _pybabel("init", "-i", str(template), "-d", str(ROOT / "translations"), "-l", locale)
    _fill_source_catalog(ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po")


def _fill_source_catalog(path: Path) -> None:
    """The source strings are English: the English catalog translates each to itself."""
    from babel.messages.pofile import read_po, write_po

    with path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):  # plural: singular and plural forms
            if not all(message.string):
                message.string = message.id
        elif not message.string:
            message.string = message.id
    with path.open("wb") as fh:
        write_po(fh, catalog, sort_output=True, no_location=True)


@i18n_cli.command("compile")
@click.option("--force", is_flag=True, help="Also compile catalogs whose .mo is newer than the .po.")
def i18n_compile(force: bool) -> None:
    """Compile the catalogs to .mo files (fuzzy and untranslated messages are left out)."""
    from monitoring.core.i18n import compile_catalogs

    for result in compile_catalogs(ROOT / "translations", force=force):
        state = "compiled" if result.written else "up to date"
        click.echo(f"{result.locale}: {result.translated} of {result.total} messages translated, {state}")


@i18n_cli.command("init")
@click.argument("locale")
def i18n_init(locale: str) -> None:
    """Start a catalog for a new LOCALE."""
    _pybabel("init", "-i", str(POT), "-d", str(ROOT / "translations"), "-l", locale)


# --- audit ----------------------------------------------------------------------------------


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the hash chain and hold it against every signed checkpoint; name what is wrong.

    Exit status: 0 intact, 1 broken, truncated, rewritten or checkpoint file tampered, 2 the
    audit key does not match this database.
    """
    from monitoring.core import audit

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


def _write_checkpoint() -> str:
    """Anchor the audit chain outside the database; exit 1 (after logging) when it cannot be done."""
    from monitoring.core import audit

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
    from monitoring.core import audit

    click.echo(_write_checkpoint())
    click.echo(f"checkpoints are signed with Ed25519 key {audit.checkpoint_public_key(audit.audit_key())}")


# --- keys -----------------------------------------------------------------------------------


def _keyring_file() -> Path:
    if current_app.config["KEYRING"]:
        raise click.ClickException(
            "the keyring comes from MONITORING_KEYRING; change it there (this command edits the keyring file)"
        )
    return Path(current_app.config["KEYRING_FILE"])


@keys_cli.command("init")
def keys_init() -> None:
    """Create a production keyring file with one new key (refuses to overwrite one)."""
    from monitoring.core.crypto import Keyring, write_keyring_file

    path = Path(current_app.config["KEYRING_FILE"])
    if path.exists():
        raise click.ClickException(f"{path} exists already")
    write_keyring_file(path, Keyring.generate(), kind="production")
    click.echo(f"created the keyring {path}; back it up outside the database server")


@keys_cli.command("status")
def keys_status() -> None:
    """Show the keys and how many protected values each one encrypts."""
    from monitoring.core.keyring import current_keyring, key_usage

    keyring = current_keyring()
    usage = key_usage(db.session)
    for key_id in sorted(keyring.keys):
        used = sum(counts[key_id] for counts in usage.values())
        marker = " (active)" if key_id == keyring.active else ""
        click.echo(f"{key_id}{marker}: {used} protected values")
    unknown = {k for counts in usage.values() for k in counts} - set(keyring.keys)
    for key_id in sorted(unknown):
        click.echo(f"{key_id} (MISSING from the keyring): values cannot be read", err=True)


def _rewrap(batch_size: int, max_batches: int | None) -> int:
    from monitoring.core import audit
    from monitoring.core.keyring import current_keyring, rewrap_batch

    total = batches = 0
    while max_batches is None or batches < max_batches:
        done = rewrap_batch(db.session, batch_size=batch_size)
        if not done:
            break
        audit.record(
            "keys.rewrap",
            f"Re-encrypted {done} protected values under key {current_keyring().active}",
            data={"count": done, "key_id": current_keyring().active},
        )
        db.session.commit()  # each batch is its own transaction, so an interrupted run resumes
        total += done
        batches += 1
    return total


def _monitor_organisation(name: str) -> Any:
    from sqlalchemy import select

    from monitoring.accounts.models import Organisation, OrganisationKind

    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name == name, Organisation.kind == OrganisationKind.monitor)
    )
    if organisation is None:
        raise click.ClickException(f"no monitor organisation named {name!r}")
    return organisation


def _recovery_opener(organisation: Any) -> Any:
    """Ask for the organisation's recovery code (never echoed) and open its versions with it."""
    from monitoring.accounts import keys
    from monitoring.core.operations import OperationError

    code = click.prompt(f"Recovery code of {organisation.name}", hide_input=True)
    try:
        return keys.recovery_opener(organisation, code)
    except OperationError as exc:
        raise click.ClickException(str(exc.message)) from exc


def _sealed_batches(run: Any) -> Any:
    """Run re-wrap or re-encryption batches; a key that does not open stops it, audited."""
    from monitoring.core.operations import OperationError
    from monitoring.testimony.sealing import SealedAccessError

    try:
        return run()
    except SealedAccessError as exc:
        db.session.commit()  # the audit entry of the failure
        raise click.ClickException(
            "a sealed key did not open with the recovery code; the batch was undone and the failure "
            "recorded in the audit log. Finished batches are kept: run the command again to resume."
        ) from exc
    except OperationError as exc:
        raise click.ClickException(str(exc.message)) from exc


@keys_cli.command("rotate")
@click.option("--batch-size", default=500, show_default=True)
@click.option(
    "--organisation",
    help="Instead of the server keyring: make a new (post-quantum) version of this monitor "
    "organisation's key for the members who hold it. Needs no secret.",
)
def keys_rotate(batch_size: int, organisation: str | None) -> None:
    """Add a new active key to the keyring file and re-encrypt everything under it."""
    if organisation is not None:
        from monitoring.testimony import operations

        org = _monitor_organisation(organisation)
        state = _sealed_batches(lambda: operations.rotate_key(None, organisation=org))
        db.session.commit()
        click.echo(
            f"version {state.current_version} ({state.current_algorithm.value}) of the key of "
            f"{organisation}; new reports are sealed to it. Move {state.to_rewrap} older keys with "
            "`flask keys rewrap --organisation` (or on the Key versions page)"
        )
        return
    from monitoring.core import audit
    from monitoring.core.crypto import write_keyring_file
    from monitoring.core.keyring import current_keyring, set_keyring

    path = _keyring_file()
    keyring = current_keyring().with_new_key()
    write_keyring_file(path, keyring, kind=key_file_kind(path) or "production")
    set_keyring(current_app, keyring)
    audit.record("keys.rotate", f"Added key {keyring.active} to the keyring", data={"key_id": keyring.active})
    db.session.commit()
    click.echo(f"new active key {keyring.active}; copy {path} to every app server before they write again")
    total = _rewrap(batch_size, None)
    click.echo(f"re-encrypted {total} protected values; retire old keys with `flask keys retire`")


@keys_cli.command("rewrap")
@click.option("--batch-size", default=500, show_default=True)
@click.option("--max-batches", type=int, default=None, help="Stop after this many batches.")
@click.option(
    "--organisation",
    help="Instead of the server keyring: re-seal this monitor organisation's report, message and "
    "file keys to its newest version, opened with its recovery code (asked for).",
)
def keys_rewrap(batch_size: int, max_batches: int | None, organisation: str | None) -> None:
    """Re-encrypt protected values that are not under the active key (resumable)."""
    if organisation is None:
        total = _rewrap(batch_size, max_batches)
        click.echo(f"re-encrypted {total} protected values")
        return
    from monitoring.testimony import operations

    org = _monitor_organisation(organisation)
    opener = _recovery_opener(org)
    result = _sealed_batches(
        lambda: operations.rewrap_versions(
            None,
            batch_size=batch_size,
            max_batches=max_batches or sys.maxsize,
            end_batch=db.session.commit,
            organisation=org,
            open_version=opener,
        )
    )
    retired = ", ".join(str(v) for v in result.retired_versions) or "none"
    click.echo(
        f"re-sealed {result.rewrapped} keys of {organisation} to version {result.current_version}; "
        f"{result.to_rewrap} left; versions retired: {retired}"
    )


@keys_cli.command("reencrypt")
@click.option("--organisation", required=True, help="The monitor organisation whose reports to re-encrypt.")
@click.option("--batch-size", default=20, show_default=True, help="Reports per batch (one transaction each).")
@click.option("--max-batches", type=int, default=None, help="Stop after this many batches.")
def keys_reencrypt(organisation: str, batch_size: int, max_batches: int | None) -> None:
    """Re-encrypt a monitor organisation's older reports under fresh keys (resumable).

    After a member left: every report whose data key is older than the newest key version gets
    a fresh data key, its fields, messages and files re-encrypted, all sealed to the newest
    version, so the key a former member may have kept opens none of it. Opened with the
    organisation's recovery code (asked for, never echoed); each batch is its own transaction
    and audited, so an interrupted run resumes where it stopped.
    """
    if batch_size < 1:
        raise click.BadParameter("must be at least 1", param_hint="--batch-size")
    from monitoring.testimony import operations

    org = _monitor_organisation(organisation)
    opener = _recovery_opener(org)
    result = _sealed_batches(
        lambda: operations.reencrypt_reports(
            None,
            batch_size=batch_size,
            max_batches=max_batches or sys.maxsize,
            end_batch=db.session.commit,
            organisation=org,
            open_version=opener,
        )
    )
    retired = ", ".join(str(v) for v in result.retired_versions) or "none"
    click.echo(
        f"re-encrypted {result.reencrypted} reports ({result.messages} messages, {result.files} files) of "
        f"{organisation}; {result.to_reencrypt} left; versions retired: {retired}"
    )


@keys_cli.command("retire")
@click.argument("key_id")
def keys_retire(key_id: str) -> None:
    """Remove KEY_ID from the keyring file once no protected value uses it."""
    from monitoring.core import audit
    from monitoring.core.crypto import KeyringError, write_keyring_file
    from monitoring.core.keyring import current_keyring, key_usage, set_keyring

    path = _keyring_file()
    keyring = current_keyring()
    if key_id not in keyring.keys:
        raise click.ClickException(f"no key {key_id!r} in the keyring")
    used = sum(counts[key_id] for counts in key_usage(db.session).values())
    if used:
        raise click.ClickException(
            f"key {key_id} still encrypts {used} values: run `flask keys rewrap` first"
        )
    try:
        keyring = keyring.without(key_id)
    except KeyringError as exc:
        raise click.ClickException(str(exc)) from exc
    write_keyring_file(path, keyring, kind=key_file_kind(path) or "production")
    set_keyring(current_app, keyring)
    audit.record("keys.retire", f"Retired key {key_id}", data={"key_id": key_id})
    db.session.commit()
    click.echo(f"retired {key_id}")


@keys_cli.command("verify")
def keys_verify() -> None:
    """Check that the keyring opens every protected value and that every sealed key is whole.

    Sealed keys open only with a monitor's key, never the server's: their form (suite, length)
    and the organisation key version they name are checked. Exit status 1 names what fails.
    """
    from monitoring import integrity
    from monitoring.core.keyring import current_keyring

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
    from monitoring import integrity
    from monitoring.core.storage import file_store

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


# --- jobs -----------------------------------------------------------------------------------


@jobs_cli.command("run")
def jobs_run() -> None:
    """Run every due job once: purge expired sessions, old login attempts, rate-limit windows and
    the files of abandoned uploads (unknown files are reported, never deleted); move protected
    values to the active key; remind, escalate and send e-mail."""
    from monitoring.accounts.devices import purge_expired_devices
    from monitoring.accounts.operations import purge_login_attempts
    from monitoring.core.sessions import purge_expired_sessions

    sessions = purge_expired_sessions(current_app)
    attempts = purge_login_attempts()
    trusted = purge_expired_devices()
    db.session.commit()
    click.echo(
        f"purged {sessions} expired sessions, {attempts} old login attempts "
        f"and {trusted} expired device cookies"
    )
    from monitoring.testimony.throttle import purge_throttle_counters

    counters = purge_throttle_counters()
    db.session.commit()
    click.echo(f"purged {counters} rate-limit counters of ended windows")
    from monitoring.core.storage import collect_garbage, file_store

    click.echo(collect_garbage(file_store()).summary())
    # Values left under an older key after `flask keys rotate` move on a few batches per run.
    rewrapped = _rewrap(batch_size=500, max_batches=10)
    if rewrapped:
        click.echo(f"re-encrypted {rewrapped} protected values under the active key")
    # Routing changes whose wait for objections is over take effect (their notices go out below).
    from monitoring.testimony.routing import run_routing_jobs

    click.echo(run_routing_jobs())
    # Deadline reminders, overdue notices and escalations, then the outbox by e-mail.
    from monitoring.notifications.jobs import run_notification_jobs

    click.echo(run_notification_jobs().summary())
    # Last, so it covers this run's entries: anchor the audit chain outside the database.
    click.echo(_write_checkpoint())


def _refuse_in_one_line(command: click.Command) -> None:
    """Let a configuration or keyring error end a command with its message alone (exit 1).

    The message says what to do; a traceback around it would only bury it.
    """
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _refuse_in_one_line(sub)
        return
    callback = command.callback
    if callback is None or getattr(callback, "_refuses_in_one_line", False):
        return

    @functools.wraps(callback)
    def wrapped(*args: object, **kwargs: object) -> object:
        try:
            return callback(*args, **kwargs)
        except (ConfigError, KeyringError) as exc:
            raise click.ClickException(str(exc)) from None

    wrapped._refuses_in_one_line = True  # type: ignore[attr-defined]
    command.callback = wrapped


def register_cli(app: Flask) -> None:
    # Importing a feature's cli module adds its commands to the shared groups.
    import monitoring.supplychain.cli
    import monitoring.testimony.cli  # noqa: F401

    for group in (db_cli, i18n_cli, audit_cli, jobs_cli, import_cli, keys_cli, files_cli):
        app.cli.add_command(group)
    from monitoring.accounts.cli import users_cli
    from monitoring.demo import demo_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    for command in app.cli.commands.values():
        _refuse_in_one_line(command)
