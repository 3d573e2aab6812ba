"""Exports at scale: ``.venv/bin/python benchmarks/exports.py --scale 1 [--database-url URL]``.

Fills a fresh database with ``generate.py`` (every worker report in one monitor organisation, so
that one monitor's list is all of them), then streams, each in a fresh subprocess through the
Flask test client signed in as the user:

- the CSV of a monitor's worker reports (``/exports/reports.csv``: 1,000,000 rows at full size);
- the XLSX of a coordinator's findings (``/exports/findings.xlsx``: 100,000 rows at full size);
- the CSV of the same findings.

For each: rows per second from the request to the last byte (and per second of the process's CPU
time, which a busy shared machine disturbs less; PostgreSQL's own work is not in it), the time to
the first byte, the bytes, the process's peak resident memory (``VmHWM``) before
the request (the interpreter, the app and a signed-in client) and at the end, and, in another fresh subprocess
(tracemalloc slows the export several times over, so that run is not timed), the peak of Python
allocations during the export. Targets (issue 13): CSV ≥ 50,000 rows/s, peak memory < 200 MB.
Exits 1 when a target is missed.

``--database-url`` fills an empty SQLite or PostgreSQL database (left filled).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import cases as builder  # noqa: E402 - benchmarks/cases.py
import generate  # noqa: E402 - benchmarks/generate.py

from monitoring import create_app  # noqa: E402
from monitoring.core.audit import AuditEntry  # noqa: E402
from monitoring.core.db import db  # noqa: E402

TARGET_ROWS_PER_SECOND = 50_000
TARGET_RSS_MIB = 200
# (label, who, url); "monitor" and "coordinator" are resolved to e-mail addresses of generate.py's people.
EXPORTS = [
    ("worker reports, CSV", "monitor", "/exports/reports.csv"),
    ("findings, XLSX", "coordinator", "/exports/findings.xlsx"),
    ("findings, CSV", "coordinator", "/exports/findings.csv"),
]


def _max_rss_mib() -> float:
    """This process's peak resident memory (``VmHWM``), in MiB.

    Not ``getrusage``'s ``ru_maxrss``: on Linux a child started by fork and exec inherits in it
    the parent's resident size at the fork (the benchmark's own, after generating the data)."""
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024  # kB


def child(config_file: str, email: str, url: str, traced: bool) -> dict[str, Any]:
    """One export in this (fresh) process: its rows, seconds, bytes and memory."""
    config = json.loads(Path(config_file).read_text())
    app = create_app(config)
    client = builder.logged_in(app, email)
    before = _max_rss_mib()
    if traced:
        tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(url, buffered=False)
    assert response.status_code == 200, (url, response.status_code)
    first_byte, size, lines = None, 0, 0
    for chunk in response.response:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "first_byte": first_byte or seconds,
        "bytes": size,
        "rss_before": before,
        "rss_peak": _max_rss_mib(),
    }
    if traced:
        result["traced_peak"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert entry is not None and entry.action.startswith("export."), entry
        result["rows"] = json.loads(entry.data)["rows"]
        db.engine.dispose()
    return result


def run_child(config_file: Path, email: str, url: str, traced: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(config_file), email, url]
    if traced:
        command.append("--traced")
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our script
    if done.returncode != 0:
        sys.exit(f"{url} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="1 = full size (default 0.1)")
    parser.add_argument("--database-url", help="an empty database to fill (default: a temporary SQLite one)")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the traced runs")
    parser.add_argument("--child", nargs=3, metavar=("CONFIG", "EMAIL", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child, traced=args.traced)))
        return
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'exports.sqlite3'}"
        config = generate.app_config(url, Path(tmp))
        config_file = Path(tmp) / "config.json"
        config_file.write_text(json.dumps(config))
        app = generate.make_app(url, Path(tmp), config)
        with app.app_context():
            started = time.perf_counter()
            people, _timings = generate.fill(generate.Sizes.at(args.scale), one_monitor=True)
            seconds = time.perf_counter() - started
            print(f"scale {args.scale:g} on {url.split(':')[0]}: generated in {seconds:.0f} s")
            print("  " + ", ".join(f"{n:,} {t}" for t, n in generate.counts().items()))
            emails = {
                "monitor": people.monitors[next(iter(people.monitors))][0].email,
                "coordinator": people.coordinators[0].email,
            }
            db.engine.dispose()
        print(
            "\n| export | rows | bytes | seconds | rows/s | rows per CPU s | first byte "
            "| max RSS before / after | tracemalloc peak | load |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        )
        for label, who, path in EXPORTS:
            load = load_average()
            timed = run_child(config_file, emails[who], path, traced=False)
            traced = None if args.no_tracemalloc else run_child(config_file, emails[who], path, traced=True)
            rate = timed["rows"] / timed["seconds"]
            peak = f"{traced['traced_peak']:.1f} MiB" if traced else "-"
            print(
                f"| {label} | {timed['rows']:,} | {timed['bytes'] / 2**20:,.1f} MiB | {timed['seconds']:.1f} "
                f"| {rate:,.0f} | {timed['rows'] / timed['cpu_seconds']:,.0f} | {timed['first_byte']:.2f} s "
                f"| {timed['rss_before']:.0f} / {timed['rss_peak']:.0f} MiB | {peak} | {load} |",
                flush=True,
            )
            if path.endswith(".csv") and rate < TARGET_ROWS_PER_SECOND:
                print(f"MISSED: {label}: {rate:,.0f} rows/s < {TARGET_ROWS_PER_SECOND:,}", file=sys.stderr)
                failed = True
            if timed["rss_peak"] >= TARGET_RSS_MIB:
                print(f"MISSED: {label}: max RSS {timed['rss_peak']:.0f} MiB", file=sys.stderr)
                failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
