"""What an operator meets first: keys init without a keyring, start-up checks, one-line refusals,
file modes, a mistyped secrets path, /healthz with the database down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from monitoring import create_app
from monitoring.accounts.models import User
from monitoring.config import ROOT, ConfigError, load_config
from monitoring.core import crypto, testing
from monitoring.core.db import db
from monitoring.core.keyring import current_keyring, protect
from monitoring.core.startup import check_keyring_opens_database, check_serving, stale_catalogs

PG_URL = "postgresql+psycopg://monitoring@127.0.0.1:1/monitoring"


def _flask(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITORING_", "FLASK_"))}
    env.update(
        MONITORING_ENV="development",
        MONITORING_INSTANCE_PATH=str(tmp_path),
        MONITORING_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    env.update({f"MONITORING_{k}": v for k, v in settings.items()})
    return env


def _secrets(path: Path, mode: int = 0o600) -> Path:
    from monitoring.config import SECRET_NAMES

    path.write_text(json.dumps({name.lower(): "s" * 48 for name in SECRET_NAMES}), encoding="utf-8")
    path.chmod(mode)
    return path


def test_keys_init_creates_the_first_keyring(tmp_path):
    secrets = _secrets(tmp_path / "secrets.json")
    keyring = tmp_path / "etc" / "keyring.json"
    env = _env(tmp_path, SECRETS_FILE=str(secrets), KEYRING_FILE=str(keyring))
    done = _flask(["keys", "init"], env)
    assert done.returncode == 0, done.stderr
    assert keyring.stat().st_mode & 0o777 == 0o600
    assert json.loads(keyring.read_text(encoding="utf-8"))["kind"] == "production"
    again = _flask(["keys", "init"], env)
    assert again.returncode == 1 and "exists already" in again.stderr
    assert "Traceback" not in again.stderr


def test_a_command_that_needs_the_missing_keyring_says_so_in_one_line(tmp_path):
    env = _env(tmp_path, SECRETS_FILE=str(_secrets(tmp_path / "secrets.json")))
    done = _flask(["keys", "status"], env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "flask keys init" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_configuration_errors_are_one_line_without_a_traceback(tmp_path):
    env = _env(tmp_path, ENV="production", DATABASE_URL="sqlite:///x.db")
    env.update(MONITORING_SECRET_KEY="k" * 40, MONITORING_AUDIT_KEY="a" * 40)
    for command in (["db", "upgrade"], None):
        if command is None:  # as gunicorn imports the app
            done = subprocess.run(
                [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True
            )
        else:
            done = _flask(command, env)
        assert done.returncode == 3, done.stderr
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("monitoring: refusing to start: missing secret")


def test_a_mistyped_secrets_file_is_named(tmp_path):
    with pytest.raises(
        ConfigError, match=r"secrets file .*nope\.json \(MONITORING_SECRETS_FILE\) does not exist"
    ):
        load_config({"INSTANCE_PATH": str(tmp_path), "SECRETS_FILE": str(tmp_path / "nope.json")})


@pytest.mark.parametrize("which", ["secrets", "keyring"])
def test_production_refuses_secret_files_that_others_may_read(tmp_path, which):
    secrets = _secrets(tmp_path / "secrets.json", 0o644 if which == "secrets" else 0o600)
    keyring = tmp_path / "keyring.json"
    crypto.write_keyring_file(keyring, crypto.Keyring.generate(), kind="production")
    if which == "keyring":
        keyring.chmod(0o640)
    overrides = {
        "ENV": "production",
        "INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": PG_URL,
        "SECRETS_FILE": str(secrets),
        "KEYRING_FILE": str(keyring),
    }
    path = secrets if which == "secrets" else keyring
    with pytest.raises(ConfigError, match=rf"may be read by other users .* `chmod 600 {path}`"):
        load_config(overrides)
    path.chmod(0o600)
    assert load_config(overrides)["ENV"] == "production"


def test_uncompiled_catalogs_are_found(tmp_path):
    po = tmp_path / "th" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text("", encoding="utf-8")
    assert stale_catalogs(tmp_path) == ["th"]
    mo = po.with_suffix(".mo")
    mo.write_bytes(b"")
    os.utime(po, (1, 1))
    assert stale_catalogs(tmp_path) == []
    assert stale_catalogs(ROOT / "translations") == []  # the suite compiles them first


def test_the_serving_check_refuses_a_production_app_with_uncompiled_catalogs(app, monkeypatch):
    monkeypatch.setattr("monitoring.core.startup.stale_catalogs", lambda directory: ["th"])
    monkeypatch.setitem(app.config, "ENV", "production")
    with pytest.raises(ConfigError, match=r"not compiled \(th\).*flask --app wsgi i18n compile"):
        check_serving(app)


def test_a_wrong_keyring_is_refused_before_serving(app, create_user):
    user = create_user("monitor")
    with app.app_context():
        loaded = db.session.get(User, user.id)
        loaded.totp_secret_ct = protect(b"SECRET", table="user_account", column="totp_secret_ct", row=user.id)
        db.session.commit()
        check_keyring_opens_database(current_keyring(), {"KEYRING_FILE": "/etc/x/keyring.json"})
        assert db.session.scalar(select(User.id).where(User.totp_secret_ct.is_not(None))) == user.id
    with app.app_context(), pytest.raises(ConfigError, match=r"keyring \(/etc/x/keyring.json\) cannot open"):
        # Another installation's keyring: same key id, another key.
        check_keyring_opens_database(crypto.Keyring.generate("k1"), {"KEYRING_FILE": "/etc/x/keyring.json"})


def test_the_serving_check_refuses_a_missing_keyring_and_an_unmigrated_database(tmp_path, database_url):
    secrets = {
        k: v
        for k, v in testing.test_config(database_url).items()
        if k.endswith("_KEY") or k == "PASSWORD_PEPPER"
    }
    app = create_app(
        {
            **testing.test_config(f"sqlite:///{tmp_path / 'empty.sqlite3'}", INSTANCE_PATH=str(tmp_path)),
            **secrets,
            "KEYRING": "",
            "KEYRING_FILE": str(tmp_path / "keyring.json"),
        }
    )
    with pytest.raises(ConfigError, match=r"no keyring: .*flask keys init"):
        check_serving(app)
    crypto.write_keyring_file(tmp_path / "keyring.json", crypto.Keyring.generate(), kind="production")
    app = create_app(
        {
            **testing.test_config(f"sqlite:///{tmp_path / 'empty.sqlite3'}", INSTANCE_PATH=str(tmp_path)),
            "KEYRING": "",
            "KEYRING_FILE": str(tmp_path / "keyring.json"),
        }
    )
    with pytest.raises(ConfigError, match=r"no tables yet: run `flask --app wsgi db upgrade`"):
        check_serving(app)


def test_healthz_answers_json_503_when_the_database_is_down(tmp_path):
    app = create_app(testing.test_config(PG_URL, INSTANCE_PATH=str(tmp_path)))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}
    db.state(app).engine.dispose()


def test_gunicorn_with_the_deploy_configuration_stops_in_one_line(tmp_path):
    """Not every worker failing in turn, with gunicorn's tracebacks around them."""
    env = _env(tmp_path, ENV="production", DATABASE_URL=PG_URL)
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            "127.0.0.1:0",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and "Booting worker" not in done.stderr
    refusals = [line for line in done.stderr.splitlines() if line.startswith("monitoring: refusing to start")]
    assert len(refusals) == 1 and "missing secret" in refusals[0]
