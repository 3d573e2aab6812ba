"""Configuration from the environment; production refuses dev keys and missing secrets."""

import json

import pytest

from monitoring.config import ConfigError, load_config
from monitoring.core.devkeys import ensure_dev_secrets


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "ENV",
        "SECRET_KEY",
        "AUDIT_KEY",
        "RECEIPT_KEY",
        "PASSWORD_PEPPER",
        "ARGON2_TIME_COST",
        "ARGON2_MEMORY_KIB",
        "ARGON2_PARALLELISM",
        "DATABASE_URL",
        "SECRETS_FILE",
        "SESSION_IDLE_MINUTES",
    ):
        monkeypatch.delenv(f"MONITORING_{name}", raising=False)
    return monkeypatch


def test_environment_variables_override_defaults(clean_env, tmp_path):
    clean_env.setenv("MONITORING_SESSION_IDLE_MINUTES", "5")
    clean_env.setenv("MONITORING_SECRET_KEY", "s" * 40)
    clean_env.setenv("MONITORING_AUDIT_KEY", "a" * 40)
    clean_env.setenv("MONITORING_RECEIPT_KEY", "r" * 40)
    clean_env.setenv("MONITORING_PASSWORD_PEPPER", "p" * 40)
    config = load_config({"INSTANCE_PATH": str(tmp_path)})
    assert config["SESSION_IDLE_MINUTES"] == 5
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'monitoring.sqlite3'}"


def test_development_reads_generated_dev_keys(clean_env, tmp_path):
    path, created = ensure_dev_secrets(tmp_path)
    assert created and (path.stat().st_mode & 0o777) == 0o600
    assert ensure_dev_secrets(tmp_path) == (path, False)
    config = load_config({"INSTANCE_PATH": str(tmp_path)})
    assert config["SECRET_KEY"] == json.loads(path.read_text())["secret_key"]


def test_an_older_dev_secrets_file_gains_new_secrets(clean_env, tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"kind": "development", "secret_key": "k" * 40, "audit_key": "a" * 40}))
    assert ensure_dev_secrets(tmp_path) == (path, True)
    data = json.loads(path.read_text())
    assert data["secret_key"] == "k" * 40 and len(data["receipt_key"]) >= 32
    assert (path.stat().st_mode & 0o777) == 0o600
    production = tmp_path / "prod"
    production.mkdir()
    (production / "secrets.json").write_text(json.dumps({"secret_key": "k" * 40}))
    assert ensure_dev_secrets(production)[1] is False
    assert "receipt_key" not in json.loads((production / "secrets.json").read_text())


def test_missing_secrets_are_refused_with_a_clear_message(clean_env, tmp_path):
    with pytest.raises(ConfigError, match="MONITORING_SECRET_KEY"):
        load_config({"INSTANCE_PATH": str(tmp_path)})


def test_production_refuses_dev_keys(clean_env, tmp_path):
    ensure_dev_secrets(tmp_path)
    clean_env.setenv("MONITORING_ENV", "production")
    clean_env.setenv("MONITORING_DATABASE_URL", "postgresql+psycopg://db/monitoring")
    with pytest.raises(ConfigError, match="development keys"):
        load_config({"INSTANCE_PATH": str(tmp_path)})


def test_production_refuses_the_development_keyring(clean_env, tmp_path):
    from monitoring.core.devkeys import ensure_dev_keyring

    ensure_dev_keyring(tmp_path)
    clean_env.delenv("MONITORING_KEYRING", raising=False)
    clean_env.setenv("MONITORING_ENV", "production")
    clean_env.setenv("MONITORING_DATABASE_URL", "postgresql+psycopg://db/monitoring")
    clean_env.setenv("MONITORING_SECRET_KEY", "s" * 40)
    clean_env.setenv("MONITORING_AUDIT_KEY", "a" * 40)
    clean_env.setenv("MONITORING_RECEIPT_KEY", "r" * 40)
    clean_env.setenv("MONITORING_PASSWORD_PEPPER", "p" * 40)
    with pytest.raises(ConfigError, match="development keyring"):
        load_config({"INSTANCE_PATH": str(tmp_path)})


def test_production_refuses_missing_secret(clean_env, tmp_path):
    clean_env.setenv("MONITORING_ENV", "production")
    clean_env.setenv("MONITORING_DATABASE_URL", "postgresql+psycopg://db/monitoring")
    clean_env.setenv("MONITORING_SECRET_KEY", "s" * 40)
    with pytest.raises(ConfigError, match="MONITORING_AUDIT_KEY"):
        load_config({"INSTANCE_PATH": str(tmp_path)})


def test_production_starts_with_real_secrets(clean_env, tmp_path):
    clean_env.setenv("MONITORING_ENV", "production")
    clean_env.setenv("MONITORING_DATABASE_URL", "postgresql+psycopg://db/monitoring")
    clean_env.setenv("MONITORING_SECRET_KEY", "s" * 40)
    clean_env.setenv("MONITORING_AUDIT_KEY", "a" * 40)
    clean_env.setenv("MONITORING_RECEIPT_KEY", "r" * 40)
    clean_env.setenv("MONITORING_PASSWORD_PEPPER", "p" * 40)
    config = load_config({"INSTANCE_PATH": str(tmp_path)})
    assert config["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_sqlite(clean_env, tmp_path):
    clean_env.setenv("MONITORING_ENV", "production")
    clean_env.setenv("MONITORING_SECRET_KEY", "s" * 40)
    clean_env.setenv("MONITORING_AUDIT_KEY", "a" * 40)
    clean_env.setenv("MONITORING_RECEIPT_KEY", "r" * 40)
    clean_env.setenv("MONITORING_PASSWORD_PEPPER", "p" * 40)
    with pytest.raises(ConfigError, match="PostgreSQL"):
        load_config({"INSTANCE_PATH": str(tmp_path)})
