"""Benchmark the facility import: time, rows per second and memory for 10,000 and 100,000 rows.

Each size runs in a fresh process with a fresh SQLite database in a temporary directory:
once for wall time and maximum resident memory, once more under tracemalloc for the peak of
Python allocations (tracemalloc slows the import down, so it is not timed). The peak must not
grow with the file: the import streams the file and stages rows in the database.

    .venv/bin/python benchmarks/import_facilities.py            # 10,000 and 100,000 rows
    .venv/bin/python benchmarks/import_facilities.py 5000 50000
"""

from __future__ import annotations

import json
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


def run_once(rows: int, trace: bool) -> dict[str, Any]:
    """Generate a file of ``rows`` rows and import it into a fresh SQLite database."""
    from alembic import command as alembic

    from monitoring import create_app
    from monitoring.core.db import db
    from monitoring.core.migrate import alembic_config
    from monitoring.core.testing import test_config
    from monitoring.supplychain.imports import import_facilities

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / f"facilities-{rows}.csv"
        write_file(path, rows)
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        app = create_app(test_config(url, INSTANCE_PATH=str(folder)))
        alembic.upgrade(alembic_config(url), "head")
        with app.app_context(), path.open("rb") as stream:
            if trace:
                tracemalloc.start()
            started = time.perf_counter()
            result = import_facilities(None, stream, filename=path.name)
            db.session.commit()
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] if trace else None
            if trace:
                tracemalloc.stop()
        db.state(app).engine.dispose()
        return {
            "rows": rows,
            "file_mib": path.stat().st_size / 2**20,
            "created": result.created,
            "seconds": elapsed,
            "peak_mib": None if peak is None else peak / 2**20,
            "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }


def measure(rows: int) -> dict[str, Any]:
    """Run one size in two fresh processes: timed, then traced."""

    def child(trace: bool) -> dict[str, Any]:
        output = subprocess.run(  # noqa: S603 - our own script
            [sys.executable, __file__, "--child", str(rows), "trace" if trace else "time"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(output.strip().splitlines()[-1])

    timed, traced = child(False), child(True)
    return {**timed, "peak_mib": traced["peak_mib"]}


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        print(json.dumps(run_once(int(argv[1]), argv[2] == "trace")))
        return
    sizes = [int(a) for a in argv] or [10_000, 100_000]
    print(
        f"{'rows':>8}  {'file MiB':>8}  {'seconds':>8}  {'rows/s':>8}  {'peak MiB (tracemalloc)':>22}  "
        f"{'max RSS MiB':>11}"
    )
    for rows in sizes:
        r = measure(rows)
        print(
            f"{r['rows']:>8}  {r['file_mib']:>8.1f}  {r['seconds']:>8.1f}  {r['rows'] / r['seconds']:>8.0f}  "
            f"{r['peak_mib']:>22.2f}  {r['max_rss_mib']:>11.1f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
