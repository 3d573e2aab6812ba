"""Benchmark imports through the background-job path: 100,000 facility rows and 5,000 survey rows.

Each import goes the way an upload does: :func:`monitoring.core.jobs.enqueue` stores the file
(the survey file encrypted, as the upload page and the API store it) and a worker run
(:func:`monitoring.core.jobs.work_once`) checks it in batches and applies it in one transaction.
It prints the time the "request" took (storing and queueing), the worker's wall time and rows
per second, the peak of Python allocations (tracemalloc) and the maximum resident memory.

Each case runs in fresh processes on a fresh database with the demo data (its coordinator imports
the facility list, a monitor of an organisation with a key the survey): once timed, once more
under tracemalloc (which slows the run down several times, so that run is not timed).

    .venv/bin/python benchmarks/import_jobs.py                     # 100,000 facility and 5,000 survey rows
    .venv/bin/python benchmarks/import_jobs.py --facilities 10000 --survey 1000
    .venv/bin/python benchmarks/import_jobs.py --database-url postgresql+psycopg://.../empty_db
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.supplychain.facility_files import write_file  # noqa: E402 - needs ROOT on the path

SURVEY_HEADER = ["start", "today", "interview/testimony", "interview/issues", "consent_share_buyers"]
SURVEY_HEADER += ["consent_contact", "language", "retaliation_risk", "_id", "_uuid", "_submission_time"]


def write_survey(path: Path, rows: int) -> None:
    """A KoboToolbox-like export (``;``-separated, group paths) of ``rows`` answers."""
    issues = ["wages", "working_hours", "recruitment_fees retained_documents", "health_safety"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(SURVEY_HEADER)
        for n in range(rows):
            writer.writerow(
                [
                    "2026-11-02T09:01:12.123+07:00",
                    "2026-11-02",
                    f"Answer {n}: we work every Sunday without overtime pay; the agency keeps our passports. "
                    * 3,
                    issues[n % len(issues)],
                    "yes" if n % 2 else "no",
                    "no",
                    "th",
                    ("low", "medium", "high")[n % 3],
                    str(10_000 + n),
                    f"0c5e7a2c-0000-4000-8000-{n:012d}",
                    "2026-11-03T02:11:09",
                ]
            )


def _fresh_database(folder: Path, url: str | None) -> str:
    if url is None:
        return f"sqlite:///{folder / 'bench.sqlite3'}"
    from sqlalchemy import text

    from monitoring.core.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def demo_app(folder: Path, url: str | None) -> Any:
    """The app on a fresh database with the demo data."""
    database_url = _fresh_database(folder, url)
    os.environ.update(
        MONITORING_ENV="development",
        MONITORING_INSTANCE_PATH=str(folder),
        MONITORING_DATABASE_URL=database_url,
        MONITORING_DEMO_RELAX_TWO_FACTOR="1",
    )
    from alembic import command

    from monitoring import create_app
    from monitoring.core.devkeys import ensure_dev_keyring, ensure_dev_secrets
    from monitoring.core.migrate import alembic_config

    ensure_dev_secrets(folder)
    ensure_dev_keyring(folder)
    app = create_app()
    command.upgrade(alembic_config(database_url), "heads")  # the day's several heads
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    if result.exit_code != 0:
        raise SystemExit(f"flask demo load failed:\n{result.output}")
    return app


def _owner(kind: str) -> tuple[Any, Any]:
    """(the user importing, the organisation) for the kind of import."""
    from sqlalchemy import select

    from monitoring.accounts.models import Organisation, OrganisationKey, User, UserRole
    from monitoring.core.db import db

    if kind == "facilities":
        user = db.session.scalars(
            select(User).where(User.role == UserRole.coordinator).order_by(User.id)
        ).first()
        return user, None
    keyed = select(OrganisationKey.organisation_id)
    user = db.session.scalars(
        select(User).where(User.role == UserRole.monitor, User.organisation_id.in_(keyed)).order_by(User.id)
    ).first()
    assert user is not None, "the demo data has no monitor of an organisation with a key"
    return user, db.session.get(Organisation, user.organisation_id)


def _time_applies(timings: dict[str, float]) -> None:
    """Record the wall and CPU time of each job run's ``apply`` (the one transaction, before its commit)."""
    from monitoring.core import jobs

    for kind, handler in list(jobs._handlers.items()):

        def timed(job: Any, handler: Any = handler) -> Any:
            work = handler(job)
            apply = work.apply

            def apply_timed() -> Any:
                wall, cpu = time.perf_counter(), time.process_time()
                try:
                    return apply()
                finally:
                    timings["apply_seconds"] = time.perf_counter() - wall
                    timings["apply_cpu_seconds"] = time.process_time() - cpu

            work.apply = apply_timed
            return work

        jobs._handlers[kind] = timed


def run_once(kind: str, rows: int, trace: bool, url: str | None) -> dict[str, Any]:
    """Queue one file and run the worker on it, in a fresh database."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / f"{kind}-{rows}.csv"
        (write_file if kind == "facilities" else write_survey)(path, rows)
        app = demo_app(folder, url)
        from sqlalchemy import select

        from monitoring.core import jobs
        from monitoring.core.db import db
        from monitoring.supplychain.import_jobs import queue_facility_import
        from monitoring.supplychain.models import Site
        from monitoring.testimony.survey_jobs import queue_survey_import

        with app.app_context():
            user, organisation = _owner(kind)
            if trace:
                tracemalloc.start()
            started = time.perf_counter()
            with path.open("rb") as stream:
                if kind == "facilities":
                    job = queue_facility_import(user, stream, path.name)
                else:
                    site = db.session.scalars(select(Site).order_by(Site.id)).first()
                    job = queue_survey_import(
                        user, organisation, io.BufferedReader(stream), path.name, site=site
                    )
                db.session.commit()
            queued = time.perf_counter()
            timings: dict[str, float] = {}
            _time_applies(timings)
            cpu = time.process_time()
            outcomes = jobs.work_once()
            finished = time.perf_counter()
            work_cpu = time.process_time() - cpu
            peak = tracemalloc.get_traced_memory()[1] if trace else None
            if trace:
                tracemalloc.stop()
            done = db.session.get(jobs.Job, job.id, populate_existing=True)
            assert [o.state for o in outcomes] == [jobs.JobState.done], (done.error or "")[:300]
            summary = done.summary
        db.state(app).engine.dispose()
        return {
            "kind": kind,
            "rows": rows,
            "file_mib": path.stat().st_size / 2**20,
            "queue_seconds": queued - started,
            "work_seconds": finished - queued,
            "work_cpu_seconds": work_cpu,
            **timings,
            "summary": summary,
            "peak_mib": None if peak is None else peak / 2**20,
            "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


def measure(kind: str, rows: int, url: str | None) -> dict[str, Any]:
    """One case in two fresh processes: timed, then traced."""

    def child(trace: bool) -> dict[str, Any]:
        args = [sys.executable, __file__, "--child", kind, str(rows), "trace" if trace else "time"]
        if url:
            args += ["--database-url", url]
        output = subprocess.run(args, check=True, capture_output=True, text=True).stdout  # noqa: S603
        result = json.loads(output.strip().splitlines()[-1])
        print(json.dumps({"mode": "trace" if trace else "time", **result}), file=sys.stderr, flush=True)
        return result

    timed, traced = child(False), child(True)
    return {**timed, "peak_mib": traced["peak_mib"]}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--facilities", type=int, default=100_000, help="facility rows (0: skip)")
    parser.add_argument("--survey", type=int, default=5_000, help="survey rows (0: skip)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use (its schema is dropped)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, rows, mode = args.child
        print(json.dumps(run_once(kind, int(rows), mode == "trace", args.database_url)))
        return
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{'import':>10}  {'rows':>7}  {'file MiB':>8}  {'queue s':>7}  {'work s':>7}  {'rows/s':>7}  "
        f"{'rows/CPU s':>10}  {'apply s':>7}  {'apply CPU s':>11}  "
        f"{'peak MiB (tracemalloc)':>22}  {'max RSS MiB':>11}   ({backend}, load {os.getloadavg()[0]:.1f})"
    )
    for kind, rows in (("facilities", args.facilities), ("survey", args.survey)):
        if not rows:
            continue
        r = measure(kind, rows, args.database_url)
        print(
            f"{kind:>10}  {rows:>7}  {r['file_mib']:>8.1f}  {r['queue_seconds']:>7.2f}  "
            f"{r['work_seconds']:>7.1f}  {rows / r['work_seconds']:>7.0f}  "
            f"{rows / r['work_cpu_seconds']:>10.0f}  {r.get('apply_seconds', 0):>7.2f}  "
            f"{r.get('apply_cpu_seconds', 0):>11.2f}  {r['peak_mib']:>22.2f}  "
            f"{r['max_rss_mib']:>11.1f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
