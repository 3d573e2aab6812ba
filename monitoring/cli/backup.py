"""``flask backup keygen|create|verify|restore``: encrypted backups and a restore that is tested.

See :mod:`monitoring.core.backup` for what an archive holds. The public key that encrypts
backups is a setting (``MONITORING_BACKUP_PUBLIC_KEY``); the private key that opens them is a file
the operators keep offline and hand to ``verify`` and ``restore`` only.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from monitoring.core import backup
from monitoring.core.db import db

backup_cli = AppGroup("backup", help="Encrypted backups: keygen, create, verify, restore.")


def _fail(exc: backup.BackupError) -> click.ClickException:
    return click.ClickException(str(exc))


@backup_cli.command("keygen")
@click.argument("private_key_file", type=click.Path(dir_okay=False, path_type=Path))
def backup_keygen(private_key_file: Path) -> None:
    """Make a backup key pair: write the private key to PRIVATE_KEY_FILE (mode 0600), print the public.

    Keep the private key offline, apart from the backups, the secrets file and the keyring; put
    the public key into the settings as MONITORING_BACKUP_PUBLIC_KEY.
    """
    try:
        public = backup.write_private_key(private_key_file)
    except FileExistsError:
        raise click.ClickException(f"{private_key_file} exists already") from None
    click.echo(
        f"wrote the private key to {private_key_file}; keep it offline, apart from the backups", err=True
    )
    click.echo(f"MONITORING_BACKUP_PUBLIC_KEY={public}")


@backup_cli.command("create")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for the archive (default: MONITORING_BACKUP_DIR, else <instance>/backups).",
)
def backup_create(output: Path | None) -> None:
    """Write an encrypted archive: audit checkpoints, then the database, then the file store."""
    config = current_app.config
    target = output or Path(config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups")
    try:
        created = backup.create_archive(
            engine=db.engine,
            file_store=Path(config["FILE_STORE_PATH"]),
            checkpoints=Path(config["AUDIT_CHECKPOINT_FILE"]),
            output=target,
            public_key=backup.public_key_from(str(config.get("BACKUP_PUBLIC_KEY") or "")),
        )
    except backup.BackupError as exc:
        raise _fail(exc) from None
    manifest = created.manifest
    click.echo(
        f"wrote {created.path} ({created.size} bytes): {manifest.dialect} database at revision "
        f"{manifest.revision}, {manifest.files} stored files"
    )


def _private_key(path: Path) -> bytes:
    try:
        return backup.private_key_from(path)
    except backup.BackupError as exc:
        raise _fail(exc) from None


@backup_cli.command("verify")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key-file",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="The private backup key; - reads it from standard input.",
)
def backup_verify(archive: Path, key_file: Path) -> None:
    """Decrypt ARCHIVE and check every member against its manifest, without restoring anything."""
    try:
        with backup.opened_archive(archive, _private_key(key_file)) as (manifest, _members):
            pass
    except backup.BackupError as exc:
        raise _fail(exc) from None
    click.echo(
        f"archive intact: created {manifest.created}, {manifest.dialect} database at revision "
        f"{manifest.revision}, {manifest.files} stored files, {len(manifest.members)} members checked"
    )


@backup_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key-file",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="The private backup key; - reads it from standard input.",
)
def backup_restore(archive: Path, key_file: Path) -> None:
    """Restore ARCHIVE into this configuration's database and file store, both of which must be empty.

    Then run `flask audit verify`, `flask keys verify` and `flask files verify` with the secrets
    file and keyring of the installation the backup came from.
    """
    config = current_app.config
    try:
        manifest = backup.restore_archive(
            archive=archive,
            private_key=_private_key(key_file),
            engine=db.engine,
            file_store=Path(config["FILE_STORE_PATH"]),
            checkpoints=Path(config["AUDIT_CHECKPOINT_FILE"]),
        )
    except backup.BackupError as exc:
        raise _fail(exc) from None
    click.echo(
        f"restored the {manifest.dialect} database at revision {manifest.revision} and "
        f"{manifest.files} stored files from {manifest.created}; now run `audit verify`, "
        "`keys verify` and `files verify`"
    )
