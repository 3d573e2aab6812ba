"""Configuration: defaults, ``MONITORING_*`` environment variables and secret files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"

# Languages of the whole interface (every catalog complete).
LOCALES = (
    "en",
    "es",
    "sv",
    "zh_Hans",
    "th",
    # Monitors and suppliers in producing countries.
    "cs",
    "vi",
    "ms",
    "id",
    # Buyers who signed the Joint Statement of Demand or appear in its portraits.
    "nb",
    "fi",
    "da",
    "nl",
    "de",
    "ca",
)
# Languages of the anonymous worker pages at /report: the interface languages plus languages
# whose catalogs hold only the worker pages' messages (extracted with babel-worker.cfg). Urdu is
# written right to left: the pages take their direction from the locale (core.i18n.html_dir).
WORKER_LOCALES = (
    "en",
    "zh_Hans",
    "th",
    "my",
    "vi",
    "ms",
    "ne",
    "cs",
    "es",
    "id",
    "km",
    "bn",
    "fil",
    "uk",
    "ur",
)
WORKER_ONLY_LOCALES = tuple(code for code in WORKER_LOCALES if code not in LOCALES)

# Values that may be set as MONITORING_<NAME>; the type of the default decides the parsing.
DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "DATABASE_URL": "",
    "INSTANCE_PATH": str(DEFAULT_INSTANCE),
    "SECRETS_FILE": "",
    "SECRET_KEY": "",
    "AUDIT_KEY": "",
    "RECEIPT_KEY": "",
    # Mixed into every key derived from a password (argon2id, then HKDF): a copy of the
    # database alone cannot test password guesses. A secret of its own, kept outside the database.
    "PASSWORD_PEPPER": "",
    "KEYRING": "",
    "KEYRING_FILE": "",
    "FILE_STORE_PATH": "",
    # Signed checkpoints of the audit chain, appended by `flask jobs run` (outside the database).
    "AUDIT_CHECKPOINT_FILE": "",
    # `flask backup create` encrypts for this public key (base64, from `flask backup keygen`);
    # the private key that opens backups is kept offline. Archives go to BACKUP_DIR
    # (default <instance>/backups).
    "BACKUP_PUBLIC_KEY": "",
    "BACKUP_DIR": "",
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "ANONYMOUS_SESSION_MINUTES": 60,
    "LOGIN_WINDOW_MINUTES": 15,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 30,
    # A browser that completed a login keeps its own allowance of failures (OWASP device cookie).
    "LOGIN_MAX_FAILURES_PER_DEVICE": 5,
    "LOGIN_DEVICE_DAYS": 180,
    # Changing two-factor sign-in needs the password typed in the session within this many minutes.
    "PASSWORD_CONFIRM_MINUTES": 15,
    "TWO_FACTOR_ISSUER": "Worker-driven monitoring",
    "DEMO_RELAX_TWO_FACTOR": False,
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_KIB": 65536,
    "ARGON2_PARALLELISM": 4,
    "BEHIND_HTTPS": False,
    "TRUSTED_PROXIES": 0,
    "DEFAULT_LOCALE": "en",
    "PAGE_SIZE": 50,
    "REPORT_ACKNOWLEDGE_DAYS": 7,
    "REPORT_FEEDBACK_DAYS": 90,
    # Days before a report's acknowledgement or feedback clock runs out that its monitors are reminded.
    "REPORT_CLOCK_REMINDER_DAYS": 2,
    # Shown to a worker whose country's reports cannot be received yet (the receiving organisation
    # has no usable key), instead of the general advice: where else to turn. Empty: the advice.
    "WORKER_KEYLESS_ADVICE": "",
    # Retaliation watch: days after a report is filed, and again after a linked case closes, on
    # which a check-in ("have you faced consequences for speaking up?") appears on the worker's
    # follow-up page (comma-separated); and days an open retaliation alert waits to be handled
    # before it is escalated to every member and, as metadata, to the coordinators.
    "RETALIATION_CHECKIN_DAYS": "14,30,90",
    "RETALIATION_ALERT_ESCALATE_DAYS": 3,
    # Retention of sealed testimony: `flask jobs run` erases (crypto-shreds) a report this many
    # years after the last of its cases closed, or, for a report linked to no case, after its
    # last activity (filing or a message). A report linked to an open case is never erased.
    "RETENTION_YEARS_AFTER_CASE_CLOSED": 5,
    "RETENTION_YEARS_AFTER_LAST_ACTIVITY": 3,
    "EVIDENCE_MAX_BYTES": 20 * 1024 * 1024,
    # All files of one case message or implementation report together (they are read into memory).
    "CASE_UPLOAD_MAX_BYTES": 50 * 1024 * 1024,
    # Corrective-action deadlines in days from the request, by severity (RBA practice).
    "ACTION_PLAN_DAYS_PRIORITY": 7,
    "ACTION_PLAN_DAYS_MAJOR": 14,
    "ACTION_PLAN_DAYS_MINOR": 14,
    "ACTION_CLOSURE_DAYS_PRIORITY": 90,
    "ACTION_CLOSURE_MIN_DAYS_PRIORITY": 30,
    "ACTION_CLOSURE_DAYS_MAJOR": 180,
    "ACTION_CLOSURE_DAYS_MINOR": 270,
    # Anonymous worker reports (/report): receipt KDF and rate limits.
    "RECEIPT_KDF_TIME_COST": 3,
    "RECEIPT_KDF_MEMORY_KIB": 65536,
    "WORKER_FOLLOWUP_WINDOW_MINUTES": 15,
    "WORKER_FOLLOWUP_MAX_PER_CLIENT": 10,
    "WORKER_FOLLOWUP_MAX_PER_MINUTE": 300,
    "WORKER_REPORT_WINDOW_MINUTES": 60,
    "WORKER_REPORT_MAX_PER_CLIENT": 5,
    "WORKER_REPORT_MAX_PER_MINUTE": 120,
    "SURVEY_MAX_ROWS": 5000,
    "SURVEY_UNDO_DAYS": 30,
    # An import job whose worker gave no sign of life for this many seconds is taken over by
    # the next worker (`flask jobs worker`), which starts it again; nothing of it was applied.
    "JOB_STALE_SECONDS": 300,
    # An upload held for its columns to be confirmed, and not confirmed within this many hours,
    # is cancelled by the worker and its stored file erased.
    "JOB_WAITING_HOURS": 24,
    # Rows a facility import job checks per batch, each batch a transaction with the job's
    # progress: smaller batches move the progress bar more often and hold SQLite's lock less long.
    "IMPORT_BATCH_ROWS": 1000,
    # Seconds after which `flask jobs worker` recomputes a dashboard's figure snapshot.
    "FIGURES_MAX_AGE_SECONDS": 300,
    # Seconds after which the stored leverage ranking is recomputed (it is also recomputed at
    # once after a change to contracts, disclosures, rates or sites, and on a new day).
    "LEVERAGE_MAX_AGE_SECONDS": 3600,
    # Days a change of who receives a country's reports waits for objections, unless the
    # organisation receiving them today confirms it sooner.
    "COVERAGE_CHANGE_WAIT_DAYS": 14,
    # Notifications: links in e-mails, reminders and the SMTP outbox (empty MAIL_SERVER: no e-mail).
    "BASE_URL": "http://127.0.0.1:5000",
    "DEADLINE_REMINDER_DAYS": 3,
    # A contract's supplier confirms its disclosure this many days after the contract starts, then
    # yearly; `flask jobs run` tells the supplier when that is overdue and, this many days later,
    # the buyer.
    "DISCLOSURE_DUE_DAYS": 60,
    "DISCLOSURE_ESCALATION_DAYS": 14,
    # The buyers' own lifespan targets, in years, that the circularity dashboard holds each
    # product's weakest reported commitment against: spare parts, and operating-system updates.
    "CIRCULARITY_SPARE_PART_YEARS": 7,
    "CIRCULARITY_OS_UPDATE_YEARS": 5,
    "MAIL_SERVER": "",
    "MAIL_PORT": 25,
    "MAIL_FROM": "monitoring@localhost",
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",  # a secret: set MONITORING_MAIL_PASSWORD in the environment, never in a file
    "MAIL_STARTTLS": False,
    "MAIL_TIMEOUT_SECONDS": 10,
    "MAIL_MAX_ATTEMPTS": 5,
    "SQL_ECHO": False,
    # Where the footer's "Source code" link points (AGPL-3.0 section 13); empty: this server
    # offers the code it runs itself, at /monitoring-source.tar.gz.
    "SOURCE_URL": "",
}

SECRET_NAMES = ("SECRET_KEY", "AUDIT_KEY", "RECEIPT_KEY", "PASSWORD_PEPPER")

# RFC 9106's second recommended argon2id profile: the least production accepts for passwords.
ARGON2_MINIMUM = {"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4}


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says what to do."""


def _parse(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw


def retaliation_checkin_days(value: Any) -> tuple[int, ...]:
    """The check-in days of ``RETALIATION_CHECKIN_DAYS`` ("14,30,90", or a list), ascending."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    try:
        days = sorted({int(str(item).strip()) for item in items if str(item).strip()})
    except ValueError as exc:
        raise ConfigError(f"RETALIATION_CHECKIN_DAYS must list whole days, e.g. 14,30,90: {value!r}") from exc
    if any(day < 1 or day > 3660 for day in days):
        raise ConfigError(f"RETALIATION_CHECKIN_DAYS must be between 1 and 3660 days: {value!r}")
    return tuple(days)


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration from defaults, the environment, secret files and overrides."""
    config = dict(DEFAULTS)
    for name, default in DEFAULTS.items():
        raw = os.environ.get(f"MONITORING_{name}")
        if raw is not None:
            config[name] = _parse(raw, default)
    config.update(overrides or {})
    retaliation_checkin_days(config["RETALIATION_CHECKIN_DAYS"])  # a bad list fails at start-up

    instance = Path(config["INSTANCE_PATH"])
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance / 'monitoring.sqlite3'}"
    named_secrets_file = bool(config["SECRETS_FILE"])
    secrets_file = Path(config["SECRETS_FILE"] or instance / "secrets.json")
    config["SECRETS_FILE"] = str(secrets_file)
    config["SECRETS_KIND"] = _load_secrets(config, secrets_file)
    missing_file = named_secrets_file and config["SECRETS_KIND"] == "environment"
    if missing_file and any(not config.get(name) for name in SECRET_NAMES):
        # A mistyped path would otherwise read as several missing secrets.
        raise ConfigError(f"the secrets file {secrets_file} (MONITORING_SECRETS_FILE) does not exist")
    config["KEYRING_FILE"] = str(Path(config["KEYRING_FILE"] or instance / "keyring.json"))
    config["FILE_STORE_PATH"] = str(Path(config["FILE_STORE_PATH"] or instance / "files"))
    config["AUDIT_CHECKPOINT_FILE"] = str(
        Path(config["AUDIT_CHECKPOINT_FILE"] or instance / "audit-checkpoints.jsonl")
    )
    _check(config)
    _derive_flask_settings(config)
    return config


def _load_secrets(config: dict[str, Any], path: Path) -> str:
    """Fill secrets missing from the environment out of the secrets file; return its kind."""
    if not path.exists():
        return "environment"
    try:
        readable_by_others = path.stat().st_mode & 0o077
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the secrets file {path}: {exc}") from exc
    for name in SECRET_NAMES:
        if not config.get(name) and data.get(name.lower()):
            config[name] = data[name.lower()]
    kind = str(data.get("kind", "production"))
    if readable_by_others and kind != "development" and config["ENV"] == "production":
        raise ConfigError(private_file_refusal(path, "the secrets file"))
    return kind


def private_file_refusal(path: Path, what: str) -> str:
    """The refusal of a file of secrets that other users may read."""
    mode = path.stat().st_mode & 0o777
    return f"{what} {path} may be read by other users (mode {mode:03o}): run `chmod 600 {path}`"


def key_file_kind(path: Path) -> str | None:
    """Return the ``kind`` a JSON key file declares, or None when it is absent or unreadable."""
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("kind", "production"))
    except (OSError, ValueError, AttributeError):
        return None


def _check(config: dict[str, Any]) -> None:
    env = config["ENV"]
    if env not in {"development", "production", "testing"}:
        raise ConfigError(f"MONITORING_ENV must be development, production or testing, not {env!r}")
    missing = [name for name in SECRET_NAMES if not config.get(name)]
    if missing:
        names = ", ".join(f"MONITORING_{n}" for n in missing)
        hint = (
            "set them in the environment or in a secrets file (MONITORING_SECRETS_FILE)"
            if env == "production"
            else "run `make run`, or `python -m monitoring.core.devkeys` to generate dev keys"
        )
        raise ConfigError(f"missing secret(s) {names}: {hint}")
    if env == "production":
        if config["SECRETS_KIND"] == "development":
            raise ConfigError(
                f"refusing to start in production with development keys from "
                f"{config['SECRETS_FILE']}; generate production secrets and keep them outside "
                f"the repository"
            )
        if not config["KEYRING"] and key_file_kind(Path(config["KEYRING_FILE"])) == "development":
            raise ConfigError(
                f"refusing to start in production with the development keyring {config['KEYRING_FILE']}; "
                "create a production keyring with `flask keys init` or set MONITORING_KEYRING"
            )
        keyring_file = Path(config["KEYRING_FILE"])
        if not config["KEYRING"] and keyring_file.exists() and keyring_file.stat().st_mode & 0o077:
            raise ConfigError(private_file_refusal(keyring_file, "the keyring"))
        if config["DEMO_RELAX_TWO_FACTOR"]:
            raise ConfigError("MONITORING_DEMO_RELAX_TWO_FACTOR is for the demo only; production refuses it")
        if config["DATABASE_URL"].startswith("sqlite"):
            raise ConfigError("production needs PostgreSQL: set MONITORING_DATABASE_URL")
        for name in SECRET_NAMES:
            if len(str(config[name])) < 32:
                raise ConfigError(f"MONITORING_{name} must be at least 32 characters long")
        weak = [f"MONITORING_{n}={config[n]}" for n, low in ARGON2_MINIMUM.items() if int(config[n]) < low]
        if weak:
            raise ConfigError(
                f"argon2id below RFC 9106's second profile (t=3, 64 MiB, 4 lanes): {', '.join(weak)}"
            )


def _derive_flask_settings(config: dict[str, Any]) -> None:
    production = config["ENV"] == "production"
    secure = production or config["BEHIND_HTTPS"]
    config.update(
        TESTING=config["ENV"] == "testing",
        SESSION_COOKIE_NAME="__Host-session" if secure else "session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PREFERRED_URL_SCHEME="https" if secure else "http",
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=secure,
        BABEL_DEFAULT_LOCALE=config["DEFAULT_LOCALE"],
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
