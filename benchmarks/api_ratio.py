"""API list against bare ``/healthz`` under gunicorn: ``.venv/bin/python benchmarks/api_ratio.py``.

Fills a fresh database with ``generate.py`` (``--scale``, default 0.01; SQLite in a temporary
directory, or the empty ``--database-url`` given), starts gunicorn with two workers on a
loopback port against it, and drives ``/healthz`` and then an authenticated
``GET /api/v1/cases?limit=50`` (a coordinator's bearer token) with ``--clients`` threads, each
with its own keep-alive connection, for ``--seconds`` each. Prints requests per second of both,
the ratio list / healthz (the goal is at least 0.40) and the load average. Both are measured in
the same run, one after the other, so the ratio is what counts on a shared machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import cases as builder  # noqa: E402 - benchmarks/cases.py
import generate  # noqa: E402 - benchmarks/generate.py

BIN = Path(sys.executable).parent
LIST = "/api/v1/cases?limit=50"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(url: str, folder: Path, scale: float, app_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Fill the database; return gunicorn's environment and the coordinator's bearer header."""
    config = generate.app_config(url, folder)
    app = generate.make_app(url, folder, config)
    with app.app_context():
        people, _timings = generate.fill(generate.Sizes.at(scale))
        print(f"scale {scale:g}: {generate.counts()}")
    header = builder.bearer(app, people.coordinators[0])
    environment = {**os.environ, "PYTHONPATH": str(app_dir)}  # before the editable install
    for name, value in config.items():
        environment[f"MONITORING_{name}"] = value if isinstance(value, str) else json.dumps(value)
    environment["MONITORING_ENV"] = "development"  # gunicorn serves it as a development instance
    return environment, header


def start(environment: dict[str, str], port: int, log: Path, app_dir: Path) -> subprocess.Popen[bytes]:
    command = [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--no-control-socket", "wsgi:app"]
    with log.open("ab") as out:
        server = subprocess.Popen(  # noqa: S603 (our own gunicorn)
            command, cwd=app_dir, env=environment, stdout=out, stderr=out, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start; see {log}:\n{log.read_text()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer /healthz within 60 s; see {log}")


def drive(port: int, path: str, headers: dict[str, str], clients: int, seconds: float) -> tuple[float, int]:
    """Requests per second of ``clients`` keep-alive connections for ``seconds``; and the failures."""
    done, failed = [0] * clients, [0] * clients
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                done[index] += 1
            else:
                failed[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started), sum(failed)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01, help="data set size, 1 = full (default 0.01)")
    parser.add_argument(
        "--database-url", help="an empty database to fill (default: SQLite in a temporary directory)"
    )
    parser.add_argument("--clients", type=int, default=4, help="concurrent keep-alive connections (4)")
    parser.add_argument("--seconds", type=float, default=10, help="seconds per URL (10)")
    parser.add_argument(
        "--app-dir", type=Path, default=ROOT, help="the source tree gunicorn serves (default: this checkout)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="api-ratio-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'ratio.sqlite3'}"
        environment, header = prepare(url, Path(tmp), args.scale, args.app_dir.resolve())
        port, log = free_port(), Path(tmp) / "gunicorn.log"
        server = start(environment, port, log, args.app_dir.resolve())
        try:
            drive(port, LIST, header, args.clients, 1)  # warm both workers up
            healthz, healthz_failed = drive(port, "/healthz", {}, args.clients, args.seconds)
            listed, list_failed = drive(port, LIST, header, args.clients, args.seconds)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    database = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    print(f"{database}, scale {args.scale:g}, gunicorn -w 2, {args.clients} clients, {args.seconds:g} s each")
    print(f"/healthz                 {healthz:8.1f} req/s  ({healthz_failed} failed)")
    print(f"{LIST}  {listed:8.1f} req/s  ({list_failed} failed)")
    print(f"ratio list / healthz     {listed / healthz:8.3f}  (goal >= 0.40); load average {load}")
    return 1 if healthz_failed or list_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
