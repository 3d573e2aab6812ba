"""Encrypted, consistent backups of the database, the file store and the audit checkpoints.

An archive is a tar file holding ``manifest.json`` and its members, encrypted for the backup
public key: a fresh data key is sealed to that key (the post-quantum hybrid suite, as monitors'
keys are), and the tar is encrypted with it in authenticated 64 KiB chunks. The server needs only
the public key to write backups; the private key that opens them is kept offline by the
operators, apart from the secrets file and the keyring (a backup with its keys is a breach).

Members, taken in this order so that each names no more than the next holds:

- ``audit-checkpoints.jsonl``: the signed checkpoints of the audit chain (when there are any);
- ``database.sqlite3`` (SQLite's online backup) or ``database.pgdump`` (``pg_dump --format=custom``,
  one consistent snapshot);
- ``files.tar``: the file store; files uploaded during the backup are merely unknown to the dump.

The manifest names the database's dialect and Alembic revision and each member's size and SHA-256,
checked again before anything is restored. A restore goes only into an empty database and an empty
file store, never over live data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Engine

from monitoring.core import crypto

MAGIC = b"MONITORING-BACKUP\n"
FORMAT = 1
CONTEXT = ("backup", FORMAT)
MANIFEST = "manifest.json"
CHECKPOINTS = "audit-checkpoints.jsonl"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
FILES_MEMBER = "files.tar"
_BLOCK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class Manifest:
    created: str
    dialect: str
    revision: str | None
    files: int
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    format: int = FORMAT

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            return cls(
                created=str(raw["created"]),
                dialect=str(raw["dialect"]),
                revision=raw.get("revision"),
                files=int(raw["files"]),
                members=dict(raw["members"]),
                format=int(raw["format"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError("the archive's manifest is not readable") from exc


# --- keys -------------------------------------------------------------------------------------


def generate_keys() -> tuple[str, str]:
    """A new key pair for backups, as base64 text: (private, public)."""
    private, public = crypto.generate_key_pair()
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def write_private_key(path: Path) -> str:
    """Make a key pair; write the private key to ``path`` (0600, never over a file); return the public."""
    private, public = generate_keys()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(private + "\n")
    return public


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode("".join(text.split()), validate=True)
        crypto.suite_of(key)
    except (binascii.Error, ValueError, crypto.CryptoError) as exc:
        raise BackupError(
            f"the {what} is not a backup key (base64, as `flask backup keygen` wrote it)"
        ) from exc
    return key


def public_key_from(text: str) -> bytes:
    if not text.strip():
        raise BackupError(
            "no backup public key: set MONITORING_BACKUP_PUBLIC_KEY to the public key "
            "`flask backup keygen` printed (the private key stays offline)"
        )
    return _decode_key(text, "backup public key")


def private_key_from(path: Path) -> bytes:
    """Read the private key from a file, or from standard input when the path is ``-``."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except OSError as exc:
        raise BackupError(f"cannot read the private key file {path}: {exc.strerror}") from exc
    return _decode_key(text, "private key file")


# --- the database -----------------------------------------------------------------------------


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A connection string for pg_dump/pg_restore, with the password passed in the environment."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if candidates:
        return str(candidates[-1])
    raise BackupError(f"{name} was not found: install PostgreSQL's client programs")


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.returncode}")


def _sqlite_copy(source: str, target: str | Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def dump_database(engine: Engine, directory: Path) -> str:
    """Write a consistent copy of the database into ``directory``; return the member's name."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        source = url.database
        if not source or source == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up")
        target = directory / SQLITE_MEMBER
        _sqlite_copy(source, target)  # SQLite's online backup: one consistent copy while others write
        return SQLITE_MEMBER
    if url.get_backend_name() == "postgresql":
        conninfo, env = _libpq(url)
        target = directory / POSTGRES_MEMBER
        _run(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
                conninfo,
            ],
            env,
            "pg_dump",
        )
        return POSTGRES_MEMBER
    raise BackupError(f"cannot back up a {url.get_backend_name()} database")


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not inspect(conn).get_table_names()


def restore_database(engine: Engine, member: Path) -> None:
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if member.name != SQLITE_MEMBER:
            raise BackupError("this archive holds a PostgreSQL database; restore it into PostgreSQL")
        target = url.database
        if not target or target == ":memory:":
            raise BackupError("cannot restore into an in-memory SQLite database")
        engine.dispose()
        _sqlite_copy(str(member), target)
        return
    if member.name != POSTGRES_MEMBER:
        raise BackupError("this archive holds a SQLite database; restore it into SQLite")
    conninfo, env = _libpq(url)
    _run(
        [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={conninfo}",
            str(member),
        ],
        env,
        "pg_restore",
    )


def revision_of(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


# --- archives ---------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _tar_store(store: Path, target: Path) -> int:
    """Tar the file store's objects (not half-written ``.part`` files); return how many."""
    count = 0
    with tarfile.open(target, "w") as tar:
        if store.is_dir():
            for path in sorted(store.rglob("*")):
                if path.is_file() and path.suffix != ".part":
                    tar.add(path, arcname=str(path.relative_to(store)), recursive=False)
                    count += 1
    return count


@contextmanager
def _private_directory(parent: Path | None = None) -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="monitoring-backup-", dir=parent))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Created:
    path: Path
    manifest: Manifest
    size: int


def create_archive(
    *, engine: Engine, file_store: Path, checkpoints: Path, output: Path, public_key: bytes
) -> Created:
    """Write an encrypted archive into the directory ``output``; nothing is left half-written."""
    output.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC)
    with _private_directory(output) as work:
        names: list[str] = []
        if checkpoints.is_file():  # first: a checkpoint never names more than the dump holds
            shutil.copyfile(checkpoints, work / CHECKPOINTS)
            names.append(CHECKPOINTS)
        names.append(dump_database(engine, work))
        files = _tar_store(file_store, work / FILES_MEMBER)
        names.append(FILES_MEMBER)
        manifest = Manifest(
            created=stamp.isoformat(timespec="seconds"),
            dialect=engine.url.get_backend_name(),
            revision=revision_of(engine),
            files=files,
            members={n: {"bytes": (work / n).stat().st_size, "sha256": _sha256(work / n)} for n in names},
        )
        (work / MANIFEST).write_bytes(manifest.to_json())
        with tarfile.open(work / "archive.tar", "w") as tar:
            for name in [MANIFEST, *names]:
                tar.add(work / name, arcname=name, recursive=False)
        target = output / f"monitoring-{stamp:%Y%m%dT%H%M%SZ}.backup"
        partial = work / "archive.part"
        data_key = crypto.new_key()
        sealed = crypto.seal(public_key, data_key, context=CONTEXT)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, (work / "archive.tar").open("rb") as source:
            out.write(MAGIC + len(sealed).to_bytes(4, "big") + sealed)
            for chunk in crypto.encrypt_stream(data_key, source, context=CONTEXT):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if target.exists():
            raise BackupError(f"{target} exists already")
        os.replace(partial, target)
    return Created(target, manifest, target.stat().st_size)


def _read_header(source: IO[bytes], private_key: bytes) -> bytes:
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupError("this is not a backup archive of this application")
    length = int.from_bytes(source.read(4), "big")
    sealed = source.read(length)
    try:
        return crypto.unseal(private_key, sealed, context=CONTEXT)
    except crypto.DecryptionError as exc:
        raise BackupError("this private key does not open the archive") from exc


def _extract(tar_path: Path, destination: Path) -> None:
    """Unpack the (already authenticated) tar: regular files and folders only, each strictly
    inside ``destination``, written with our own modes. Python's extraction filters came in
    3.11.4; Debian 12's Python is 3.11.2, so this does their work itself."""
    destination.mkdir(mode=0o700, exist_ok=True)
    root = destination.resolve()
    with tarfile.open(tar_path) as tar:
        for member in tar:
            target = (destination / member.name).resolve()
            if os.path.isabs(member.name) or not target.is_relative_to(root) or target == root:
                raise BackupError(f"the archive holds a member outside its folder: {member.name!r}")
            if member.isdir():
                target.mkdir(mode=0o700, parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:
                    raise BackupError(f"the archive's member {member.name!r} cannot be read")
                with source, open(target, "xb", opener=_private_opener) as out:
                    shutil.copyfileobj(source, out, 1024 * 1024)
            else:
                raise BackupError(f"the archive holds a member that is not a file: {member.name!r}")


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


@contextmanager
def opened_archive(archive: Path, private_key: bytes) -> Iterator[tuple[Manifest, Path]]:
    """Decrypt and check an archive into a private temporary directory; yield its manifest and it.

    Any damage or alteration (a flipped bit, a cut tail, a swapped member) fails here, before
    anything is restored.
    """
    with _private_directory() as work:
        try:
            with archive.open("rb") as source, (work / "archive.tar").open("wb") as plain:
                data_key = _read_header(source, private_key)
                for chunk in crypto.decrypt_stream(data_key, source, context=CONTEXT):
                    plain.write(chunk)
        except OSError as exc:
            raise BackupError(f"cannot read {archive}: {exc.strerror}") from exc
        except crypto.DecryptionError as exc:
            raise BackupError("the archive is damaged or was altered: it does not decrypt") from exc
        members = work / "members"
        _extract(work / "archive.tar", members)
        manifest = Manifest.from_json((members / MANIFEST).read_bytes())
        if manifest.format != FORMAT:
            raise BackupError(f"archive format {manifest.format} is not known to this release")
        for name, facts in manifest.members.items():
            path = members / name
            if not path.is_file() or _sha256(path) != facts.get("sha256"):
                raise BackupError(f"the archive's member {name} does not match its manifest")
        yield manifest, members


def _empty_directory(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def restore_archive(
    *, archive: Path, private_key: bytes, engine: Engine, file_store: Path, checkpoints: Path
) -> Manifest:
    """Restore an archive into an empty database and an empty file store."""
    with opened_archive(archive, private_key) as (manifest, members):
        if not database_is_empty(engine):
            raise BackupError("the database is not empty: restore into a new database, never over live data")
        if not _empty_directory(file_store):
            raise BackupError(f"the file store {file_store} is not empty: restore into a new directory")
        if (members / CHECKPOINTS).exists() and checkpoints.exists():
            raise BackupError(f"{checkpoints} exists: restore the checkpoints into a new file")
        database = members / (SQLITE_MEMBER if manifest.dialect == "sqlite" else POSTGRES_MEMBER)
        restore_database(engine, database)
        file_store.mkdir(parents=True, exist_ok=True, mode=0o700)
        _extract(members / FILES_MEMBER, file_store)
        if (members / CHECKPOINTS).exists():
            checkpoints.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(members / CHECKPOINTS, checkpoints)
            checkpoints.chmod(0o600)
        return manifest


def main(argv: list[str]) -> int:
    """``python -m monitoring.core.backup keygen FILE``: a key pair without the app's settings.

    The private key goes to FILE (mode 0600); the settings line with the public key goes to
    standard output, ready to be appended to the settings file.
    """
    if len(argv) != 2 or argv[0] != "keygen":
        print("usage: python -m monitoring.core.backup keygen PRIVATE_KEY_FILE", file=sys.stderr)
        return 2
    try:
        public = write_private_key(Path(argv[1]))
    except FileExistsError:
        print(f"{argv[1]} exists already", file=sys.stderr)
        return 1
    print(
        f"wrote the private backup key to {argv[1]}; keep it offline, apart from the backups", file=sys.stderr
    )
    print(f"MONITORING_BACKUP_PUBLIC_KEY={public}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
