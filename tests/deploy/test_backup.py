"""``flask backup``: an encrypted archive of the database, the file store and the audit checkpoints,
restored into a fresh database, where ``audit verify``, ``keys verify`` and ``files verify`` pass.

Runs on the suite's database server: SQLite files, or two scratch databases on the PostgreSQL
server CI starts (pg_dump and pg_restore from PostgreSQL's client programs).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command as alembic
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from monitoring import create_app
from monitoring.accounts.models import User
from monitoring.core import backup, crypto
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.migrate import alembic_config
from monitoring.core.testing import test_config
from monitoring.demo import load_demo
from monitoring.testimony.models import Evidence, WorkerReport
from tests import conftest
from tests.testimony.monitor_helpers import add_file


def _scratch_databases(tmp_path: Path, names: tuple[str, ...]) -> Iterator[list[str]]:
    base = conftest.test_database_url(tmp_path)
    url = make_url(base)
    if url.get_backend_name() != "postgresql":
        yield [f"sqlite:///{tmp_path / f'{name}.sqlite3'}" for name in names]
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    made = [f"monitoring_backup_{os.getpid()}_{name}" for name in names]
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield [url.set(database=name).render_as_string(hide_password=False) for name in made]
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[list[str]]:
    yield from _scratch_databases(tmp_path, ("source", "restored", "other"))


@pytest.fixture
def keys(tmp_path: Path) -> tuple[str, Path]:
    private, public = backup.generate_keys()
    path = tmp_path / "backup-private.key"
    path.write_text(private)
    return public, path


def _app(settings: dict[str, Any], url: str, home: Path) -> Flask:
    home.mkdir(parents=True, exist_ok=True)
    app = create_app(
        {
            **settings,
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(home),
            "FILE_STORE_PATH": str(home / "files"),
            "AUDIT_CHECKPOINT_FILE": str(home / "audit-checkpoints.jsonl"),
        }
    )
    return app


def _cli(app: Flask, *args: str) -> Any:
    result = app.test_cli_runner().invoke(args=list(args))
    return result


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (User, WorkerReport, Evidence, AuditEntry)
        }


@pytest.fixture
def source(databases: list[str], keys: tuple[str, Path], tmp_path: Path) -> Iterator[tuple[Flask, dict]]:
    """An installation with the demo data, a sealed file and a signed audit checkpoint."""
    public, _private = keys
    settings = test_config(databases[0], BACKUP_PUBLIC_KEY=public)
    app = _app(settings, databases[0], tmp_path / "source")
    alembic.upgrade(alembic_config(databases[0]), "heads")
    with app.app_context():
        load_demo()
        db.session.commit()
        report_id = db.session.scalar(select(WorkerReport.id).order_by(WorkerReport.id).limit(1))
    assert report_id is not None
    add_file(app, report_id)
    assert _cli(app, "audit", "checkpoint").exit_code == 0
    yield app, settings
    with app.app_context():
        db.engine.dispose()


def test_backup_round_trip_restores_a_copy_that_verifies(source, databases, keys, tmp_path) -> None:
    app, settings = source
    _public, private = keys
    created = _cli(app, "backup", "create", "--output", str(tmp_path / "backups"))
    assert created.exit_code == 0, created.output
    (archive,) = (tmp_path / "backups").iterdir()
    assert archive.stat().st_mode & 0o077 == 0
    assert b"SQLite format" not in archive.read_bytes()[:4096]  # encrypted, not a bare dump
    verified = _cli(app, "backup", "verify", str(archive), "--key-file", str(private))
    assert verified.exit_code == 0 and "archive intact" in verified.output, verified.output

    restored = _app(settings, databases[1], tmp_path / "restored")
    # The private key is kept offline: the restore reads it from standard input.
    result = restored.test_cli_runner().invoke(
        args=["backup", "restore", str(archive), "--key-file", "-"], input=private.read_text()
    )
    assert result.exit_code == 0, result.output
    assert _counts(restored) == _counts(app)
    for check in (("audit", "verify"), ("keys", "verify"), ("files", "verify")):
        outcome = _cli(restored, *check)
        assert outcome.exit_code == 0, (check, outcome.output, outcome.stderr)
    assert "matching 1 checkpoints" in _cli(restored, "audit", "verify").output
    with restored.app_context():
        db.engine.dispose()


def test_a_restore_never_goes_over_live_data(source, keys, tmp_path) -> None:
    app, _settings = source
    _public, private = keys
    assert _cli(app, "backup", "create", "--output", str(tmp_path / "b")).exit_code == 0
    (archive,) = (tmp_path / "b").iterdir()
    before = _counts(app)
    refused = _cli(app, "backup", "restore", str(archive), "--key-file", str(private))
    assert refused.exit_code == 1
    assert "the database is not empty" in refused.output
    assert _counts(app) == before


def test_a_wrong_key_or_an_altered_archive_restores_nothing(source, databases, keys, tmp_path) -> None:
    app, settings = source
    _public, private = keys
    assert _cli(app, "backup", "create", "--output", str(tmp_path / "b")).exit_code == 0
    (archive,) = (tmp_path / "b").iterdir()
    target = _app(settings, databases[2], tmp_path / "target")

    other_private, _other_public = backup.generate_keys()
    wrong = tmp_path / "wrong.key"
    wrong.write_text(other_private)
    refused = _cli(target, "backup", "restore", str(archive), "--key-file", str(wrong))
    assert refused.exit_code == 1 and "this private key does not open the archive" in refused.output

    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    altered = tmp_path / "altered.backup"
    altered.write_bytes(bytes(data))
    refused = _cli(target, "backup", "restore", str(altered), "--key-file", str(private))
    assert refused.exit_code == 1 and "damaged or was altered" in refused.output

    cut = tmp_path / "cut.backup"
    cut.write_bytes(archive.read_bytes()[:-1000])
    refused = _cli(target, "backup", "restore", str(cut), "--key-file", str(private))
    assert refused.exit_code == 1 and "damaged or was altered" in refused.output

    with target.app_context():
        assert backup.database_is_empty(db.engine)
        db.engine.dispose()
    assert not (tmp_path / "target" / "files").exists()


def test_create_needs_the_public_key_and_keygen_keeps_the_private_key_private(tmp_path) -> None:
    app = _app(test_config("sqlite://"), "sqlite:///" + str(tmp_path / "x.sqlite3"), tmp_path / "x")
    refused = _cli(app, "backup", "create", "--output", str(tmp_path / "b"))
    assert refused.exit_code == 1 and "MONITORING_BACKUP_PUBLIC_KEY" in refused.output
    made = _cli(app, "backup", "keygen", str(tmp_path / "k"))
    assert made.exit_code == 0 and "MONITORING_BACKUP_PUBLIC_KEY=" in made.output
    assert (tmp_path / "k").stat().st_mode & 0o077 == 0
    assert _cli(app, "backup", "keygen", str(tmp_path / "k")).exit_code == 1  # never overwritten
    with app.app_context():
        db.engine.dispose()


def test_the_key_pair_can_be_made_without_the_apps_settings(tmp_path, capsys) -> None:
    assert backup.main(["keygen", str(tmp_path / "offline.key")]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("MONITORING_BACKUP_PUBLIC_KEY=")
    public = backup.public_key_from(line.split("=", 1)[1])
    private = backup.private_key_from(tmp_path / "offline.key")
    assert crypto.public_key_of(private) == public
    assert backup.main(["keygen", str(tmp_path / "offline.key")]) == 1


@pytest.mark.parametrize("name", ["../escaped", "/etc/escaped", "files/../../escaped"])
def test_a_member_outside_the_archive_folder_is_refused(tmp_path, name):
    """Even an archive that decrypts (made with the backup key) cannot write outside its folder."""
    import io
    import tarfile

    tar_path = tmp_path / "archive.tar"
    with tarfile.open(tar_path, "w") as tar:
        data = b"not here"
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(backup.BackupError, match="outside its folder"):
        backup._extract(tar_path, tmp_path / "members")
    assert not (tmp_path / "escaped").exists()


def test_a_link_in_the_archive_is_refused(tmp_path):
    import tarfile

    tar_path = tmp_path / "archive.tar"
    with tarfile.open(tar_path, "w") as tar:
        info = tarfile.TarInfo("files/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(backup.BackupError, match="not a file"):
        backup._extract(tar_path, tmp_path / "members")
