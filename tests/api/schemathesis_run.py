"""Fuzz the API with schemathesis, once per role's token, against a local server it starts itself.

    python tests/api/schemathesis_run.py [--seed N] [--max-examples N] [--report-dir DIR]

``make fuzz`` runs it (``make test`` runs ``make fuzz``). It builds a throwaway SQLite database
(migrations, then the demo data: organisations, one user per role, sites, contracts, reports,
cases), makes an API token for each demo user (the monitor's can open sealed data) and keeps
that database as a template. For each role it copies the template, serves the application on
127.0.0.1 (a port of its own, werkzeug's threaded server in this process) and runs ``schemathesis
run`` on ``/api/v1/openapi.json`` with that role's token and every check, so that one role's
writes (a deleted token, a deactivated user) cannot spoil another's run. Checks are configured
in ``tests/api/schemathesis.toml`` beside this file.

Under the report directory (default ``artefacts/schemathesis``) it keeps, per role, schemathesis'
JUnit report, its NDJSON event log and its console output, and ``summary.json``: the seed, the
limits and each role's result. It exits 1 if any role's run failed: a server error, a response
that breaks the document, or any other check.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from alembic import command as alembic  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from monitoring import create_app  # noqa: E402
from monitoring.accounts import keys, operations  # noqa: E402
from monitoring.accounts.models import User  # noqa: E402
from monitoring.core.db import db  # noqa: E402
from monitoring.core.i18n import compile_catalogs  # noqa: E402
from monitoring.core.migrate import alembic_config  # noqa: E402
from monitoring.core.testing import test_config  # noqa: E402
from monitoring.demo import LOGINS, load_demo  # noqa: E402

CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")
HOOKS_MODULE = "schemathesis_hooks"  # beside this file
# What one role's run costs beyond schemathesis' time budget (a server, loading the document).
SETUP_SECONDS = 15
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")

# The seed CI uses (CI=true): the one the fuzzing was last run clean with.
CI_SEED = 20261207


def build_template(workdir: Path) -> tuple[dict[str, Any], Path, dict[str, tuple[int, str]]]:
    """Migrate and fill a database with the demo data; return the config, its file and the tokens.

    The tokens are by role: the token's id and the clear token.
    """
    database = workdir / "template.sqlite3"
    config = test_config(f"sqlite:///{database}", INSTANCE_PATH=str(workdir / "instance"))
    app = create_app(config)
    alembic.upgrade(alembic_config(config["DATABASE_URL"]), "heads")
    tokens: dict[str, tuple[int, str]] = {}
    with app.app_context():
        load_demo()
        db.session.commit()
    for login in LOGINS:
        # In a request with the user's keys unlocked, the token can open sealed data (as one
        # made on the account page after logging in).
        with app.test_request_context("/"):
            user = db.session.scalar(select(User).where(User.email == login.email))
            assert user is not None, login.email
            keys.unlock(user, login.password)
            token, clear = operations.create_token(user, "schemathesis")
            db.session.commit()
            tokens[login.role.value] = (token.id, clear)
    db.state(app).engine.dispose()
    return config, database, tokens


class Server:
    """The application on 127.0.0.1, on a free port, in a thread of this process."""

    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join()


def log_requests(app: Flask, path: Path) -> None:
    """Write each request's status, method and path to ``path`` (the run's request log)."""
    inner = app.wsgi_app
    log = path.open("w", encoding="utf-8", buffering=1)

    def logged(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: Any, *rest: Any) -> Any:
            query = environ.get("QUERY_STRING")
            where = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
            log.write(f"{status.split()[0]} {environ.get('REQUEST_METHOD')} {where}\n")
            return start_response(status, headers, *rest)

        return inner(environ, start)

    app.wsgi_app = logged  # type: ignore[method-assign]


def run_role(
    role: str,
    token: tuple[int, str],
    config: dict[str, Any],
    template: Path,
    args: argparse.Namespace,
    max_time: int,
) -> dict[str, Any]:
    """Fuzz the API with one role's token against a fresh copy of the template database."""
    report_dir = args.report_dir / role
    report_dir.mkdir(parents=True, exist_ok=True)
    database = template.with_name(f"{role}.sqlite3")
    shutil.copyfile(template, database)
    app = create_app({**config, "DATABASE_URL": f"sqlite:///{database}"})
    log_requests(app, report_dir / "requests.log")
    token_id, clear_token = token
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG_FILE),
        "run",
        "--checks",
        "all",
        "--seed",
        str(args.seed),
        "--max-examples",
        str(args.max_examples),
        "--max-time",
        str(max_time),
        "--workers",
        str(args.workers),
        "--header",
        f"Authorization: Bearer {clear_token}",
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(report_dir),
        "--no-color",
    ]
    started = time.monotonic()
    with Server(app) as server, (report_dir / "output.txt").open("w") as output:
        # The token is a secret of this throwaway database only; it stays out of the output.
        shown = [part if clear_token not in part else "Authorization: Bearer ***" for part in command]
        output.write(" ".join(shown) + f" {server.url}/api/v1/openapi.json\n\n")
        output.flush()
        result = subprocess.run(
            [*command, f"{server.url}/api/v1/openapi.json"],
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
                "SCHEMATHESIS_HOOKS": HOOKS_MODULE,
                "FUZZ_KEEP_TOKEN_IDS": str(token_id),
            },
        )
    db.state(app).engine.dispose()
    seconds = round(time.monotonic() - started, 1)
    tail = (report_dir / "output.txt").read_text(encoding="utf-8").strip().splitlines()[-6:]
    return {
        "role": role,
        "exit_code": result.returncode,
        "max_time": max_time,
        "seconds": seconds,
        "requests": sum(1 for _ in (report_dir / "requests.log").open(encoding="utf-8")),
        "summary": tail,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "--seed", type=int, default=None, help="default: $FUZZ_SEED, under CI=true CI_SEED, else random"
    )
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", 10)))
    parser.add_argument(
        "--max-time", type=int, default=int(os.environ.get("FUZZ_MAX_TIME", 40)), help="seconds per role"
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=int(os.environ.get("FUZZ_BUDGET", 240)),
        help="seconds for the whole run: each role gets its share of what is left",
    )
    # One worker: hypothesis describes strategies through the ast module, which is not
    # thread-safe on Python 3.11 (a spurious "AST constructor recursion depth mismatch").
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--roles", default="admin,coordinator,monitor,affiliate,supplier")
    parser.add_argument("--report-dir", type=Path, default=ROOT / "artefacts" / "schemathesis")
    args = parser.parse_args(argv)
    if args.seed is None:
        # CI repeats one seed, so a run lands or not on the code alone; elsewhere each run explores anew.
        fixed = CI_SEED if os.environ.get("CI") == "true" else None
        args.seed = int(os.environ.get("FUZZ_SEED") or fixed or random.SystemRandom().randrange(2**31))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the request log is in the reports
    shutil.rmtree(args.report_dir, ignore_errors=True)
    args.report_dir.mkdir(parents=True)
    compile_catalogs(ROOT / "translations")
    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="monitoring-fuzz-") as tmp:
        config, template, tokens = build_template(Path(tmp))
        roles = args.roles.split(",")
        for n, role in enumerate(roles):
            # Each role's share of the time left, less its start-up (a server, schemathesis).
            share = (args.budget - (time.monotonic() - started)) / (len(roles) - n) - SETUP_SECONDS
            max_time = max(10, min(args.max_time, int(share)))
            print(f"==> schemathesis as {role} (seed {args.seed}, at most {max_time} s)", flush=True)
            result = run_role(role, tokens[role], config, template, args, max_time)
            results.append(result)
            print("\n".join(f"    {line}" for line in result["summary"]), flush=True)
    failed = [r["role"] for r in results if r["exit_code"] != 0]
    summary = {
        "seed": args.seed,
        "max_examples": args.max_examples,
        "max_time_per_role": args.max_time,
        "budget": args.budget,
        "workers": args.workers,
        "seconds": round(time.monotonic() - started, 1),
        "roles": results,
        "failed": failed,
        "reproduce": f"python tests/api/schemathesis_run.py --seed {args.seed} --max-examples "
        f"{args.max_examples} --roles {','.join(failed) or args.roles}",
    }
    (args.report_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    state = f"FAILED for {', '.join(failed)}" if failed else "no failures"
    print(f"schemathesis: {state} in {summary['seconds']} s; seed {args.seed}; reports in {args.report_dir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
