"""Soak test: a mixed load and three faults against real gunicorn servers (make soak).

Everything runs on the loopback interface, in a temporary directory, with the demo data:

1. **load**: for ``--duration`` seconds (60) anonymous workers file reports at /report and follow
   them up with their receipt, a monitor reads the report list, a supplier answers in a case and a
   buyer (an affiliate) browses cases and the home page, against gunicorn with two workers. No
   answer may be a 5xx and every acknowledged write (a receipt shown, a message said sent, a case
   message redirected to the case) must be counted in the database afterwards.
2. **two servers** on one database share sessions and throttles: a login on one server is valid on
   the other, and failed logins counted on both lock the account on either.
3. **kill -9** of gunicorn (master and workers) while workers file reports: after a restart every
   report acknowledged before the kill opens with its receipt and no report is partial (a report
   without its sealed parts, its data key or its categories).
4. **database restart** (PostgreSQL, only with ``--pg-restart-cmd``): errors only while the database
   is down, then the app recovers by itself (the engine pings pooled connections).
5. **kill -9 of the import worker**: a facility list of ``--import-rows`` rows (20,000) is queued and
   ``flask jobs worker`` imports it in batches; the worker's process group is killed with SIGKILL
   half way through. No site of the file may exist then (an import applies all rows or none); a
   new worker takes the abandoned job over, and at the end the registry holds exactly the sites the
   job reports as created.

    .venv/bin/python benchmarks/soak.py                                   # SQLite
    .venv/bin/python benchmarks/soak.py --database-url postgresql+psycopg://postgres@127.0.0.1:55433/soak \
        --pg-restart-cmd "pg_ctl -D /path/to/cluster -m fast -w restart"

The database given must be empty (it is migrated and the demo data loaded into it). The load
generator is threads and ``requests`` (no extra dependency). It prints a summary table and exits
with status 1 when any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.login_and_report import form_on  # noqa: E402

BIN = Path(sys.executable).parent
COUNTRY = "TH"  # the demo's first monitoring organisation receives Thailand's reports
MONITOR = ("monitor@demo.example", "demo-monitor-pass")
SUPPLIER = ("supplier@demo.example", "demo-supplier-pass")
BUYER = ("affiliate@demo.example", "demo-affiliate-pass")
THROTTLED = ("coordinator@demo.example", "demo-coordinator-pass")  # used only by the throttle check
LOGIN_FAILURE_LIMIT = 5
TIMEOUT = 30


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """gunicorn with two workers in a process group of its own (so kill -9 reaches them all)."""

    def __init__(self, env: dict[str, str], log: Path, app_dir: Path) -> None:
        self.env, self.log, self.app_dir, self.port = env, log, app_dir, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.port}", "--timeout", "60"]
        command.append("--no-control-socket")  # two servers would share ~/.gunicorn/gunicorn.ctl
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 (our own gunicorn)
                [*command, "wsgi:app"],
                cwd=self.app_dir,
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn stopped at start; see {self.log}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer /healthz within 60 s; see {self.log}")

    def kill9(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


# --- statistics -----------------------------------------------------------------------------


@dataclass
class Stats:
    """Every request of a phase: (start time, seconds, status or 0 for a connection error)."""

    samples: list[tuple[float, float, int]] = field(default_factory=list)
    acked: dict[str, list[str]] = field(default_factory=dict)
    bad: list[str] = field(default_factory=list)  # "<status> <method> <path>" of every 5xx
    lock: threading.Lock = field(default_factory=threading.Lock)
    elapsed: float = 0.0

    def add(self, started: float, elapsed: float, status: int) -> None:
        with self.lock:
            self.samples.append((started, elapsed, status))

    def ack(self, kind: str, value: str) -> None:
        with self.lock:
            self.acked.setdefault(kind, []).append(value)

    def count(self, kind: str) -> int:
        return len(self.acked.get(kind, []))

    @property
    def server_errors(self) -> int:
        return sum(1 for _, _, status in self.samples if status >= 500)

    @property
    def failures(self) -> int:
        return sum(1 for _, _, status in self.samples if status == 0 or status >= 500)

    def p(self, quantile: float) -> float:
        times = sorted(elapsed for _, elapsed, _ in self.samples)
        if not times:
            return 0.0
        return times[min(len(times) - 1, int(quantile * len(times)))] * 1000


class Client:
    """One browser: a requests session whose every request is timed into a Stats."""

    def __init__(self, base: str, stats: Stats) -> None:
        self.base, self.stats = base, stats
        self.http = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = self.http.request(
                method, self.base + path, timeout=TIMEOUT, allow_redirects=False, **kwargs
            )
        except requests.RequestException:
            self.stats.add(started, time.monotonic() - started, 0)
            time.sleep(0.2)  # the server is down: no busy loop
            return None
        self.stats.add(started, time.monotonic() - started, response.status_code)
        if response.status_code >= 500:
            with self.stats.lock:
                self.stats.bad.append(f"{response.status_code} {method} {path}")
        return response

    def login(self, email: str, password: str) -> bool:
        page = self.request("GET", "/login")
        if page is None or page.status_code != 200:
            return False
        form = form_on(page.text, "password")
        data = {**form["fields"], "email": email, "password": password}
        response = self.request("POST", "/login", data=data)
        return (
            response is not None
            and response.status_code == 302
            and "/login" not in response.headers.get("Location", "")
        )


# --- the users --------------------------------------------------------------------------------

RECEIPT = re.compile(r'id="receipt"[^>]*>(.*?)</p>', re.S)


def file_report(client: Client, testimony: str) -> str | None:
    """File one anonymous report; its receipt when the page showed it."""
    chooser = client.request("GET", "/report/workplace?lang=en")
    if chooser is None or chooser.status_code != 200:
        return None
    choice = form_on(chooser.text, "country")
    page = client.request("POST", choice["action"], data={**choice["fields"], "country": COUNTRY})
    if page is None or page.status_code != 200 or 'name="testimony"' not in page.text:
        return None
    form = form_on(page.text, "testimony")
    data = {**form["fields"], **{k: v for k, v in form["boxes"].items() if k != "consent_contact"}}
    data.update(workplace="The assembly plant by the river, building 3", testimony=testimony)
    data.setdefault("country", COUNTRY)
    response = client.request("POST", form["action"] or choice["action"], data=data)
    if response is None or response.status_code != 200:
        return None
    found = RECEIPT.search(response.text)
    return re.sub(r"<[^>]+>|\s", "", found.group(1)) if found else None


def open_with_receipt(client: Client, receipt: str) -> str | None:
    """The conversation page a receipt opens, or None."""
    page = client.request("GET", "/report/follow-up")
    if page is None or page.status_code != 200:
        return None
    form = form_on(page.text, "receipt")
    response = client.request("POST", "/report/follow-up", data={**form["fields"], "receipt": receipt})
    if response is None or response.status_code != 200 or 'name="body"' not in response.text:
        return None
    return response.text


def worker(client: Client, stop: threading.Event, follow_up: bool) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        receipt = file_report(client, f"Soak report {n}: the agency kept our passports. " * 5)
        if receipt is None:
            continue
        client.stats.ack("report", receipt)
        if not follow_up or stop.is_set():
            continue
        conversation = open_with_receipt(client, receipt)
        if conversation is None:
            continue
        form = form_on(conversation, "body")
        data = {**form["fields"], "body": f"A follow-up to report {n}."}
        sent = client.request("POST", "/report/follow-up/message", data=data)
        if sent is not None and sent.status_code == 200 and 'class="ok" role="status"' in sent.text:
            client.stats.ack("worker_message", receipt)


def monitor(client: Client, stop: threading.Event) -> None:
    client.login(*MONITOR)
    while not stop.is_set():
        client.request("GET", "/testimony/reports")
        client.request("GET", "/")
        time.sleep(0.2)


def supplier(client: Client, stop: threading.Event) -> None:
    client.login(*SUPPLIER)
    ids: list[str] = []
    n = 0
    while not stop.is_set():
        if not ids:  # the cases that ask something of the supplier
            requests_page = client.request("GET", "/requests/")
            if requests_page is None or requests_page.status_code != 200:
                time.sleep(0.5)
                continue
            ids = sorted(set(re.findall(r'href="/cases/(\d+)"', requests_page.text)))
            if not ids:
                return
        case_id = ids[n % len(ids)]
        n += 1
        page = client.request("GET", f"/cases/{case_id}")
        if page is None or page.status_code != 200 or 'name="body"' not in page.text:
            continue
        form = form_on(page.text, "body")
        data = {**form["fields"], "body": f"Supplier answer {n} from the soak test."}
        response = client.request("POST", f"/cases/{case_id}/messages", data=data, files={"files": ("", b"")})
        if response is not None and response.status_code == 302:
            client.stats.ack("case_message", case_id)
        time.sleep(0.5)


def buyer(client: Client, stop: threading.Event) -> None:
    client.login(*BUYER)
    while not stop.is_set():
        for path in ("/cases/", "/dashboard/", "/"):
            client.request("GET", path)
        time.sleep(0.2)


def run_load(
    base: str,
    seconds: float,
    workers: int,
    readers: bool,
    follow_up: bool,
    during: Callable[[], None] | None = None,
) -> Stats:
    """Run the users for ``seconds``; ``during`` (a fault) runs in the middle, in this thread."""
    stats, stop = Stats(), threading.Event()
    targets: list[Callable[[], None]] = [
        lambda: worker(Client(base, stats), stop, follow_up) for _ in range(workers)
    ]
    if readers:
        targets += [
            lambda: monitor(Client(base, stats), stop),
            lambda: supplier(Client(base, stats), stop),
            lambda: buyer(Client(base, stats), stop),
        ]
    threads = [threading.Thread(target=target, daemon=True) for target in targets]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    if during is not None:
        time.sleep(seconds / 2)
        during()
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
    stop.set()
    for thread in threads:
        thread.join(timeout=TIMEOUT + 5)
    stats.elapsed = time.monotonic() - started
    return stats


# --- the database -------------------------------------------------------------------------------

PARTIAL_REPORTS = """
SELECT count(*) FROM worker_report r
WHERE r.erased_dt IS NULL AND (
    r.wrapped_key IS NULL OR r.testimony_sealed IS NULL
    OR (r.receipt_lookup IS NOT NULL AND r.workplace_sealed IS NULL)
    OR NOT EXISTS (SELECT 1 FROM report_category c WHERE c.report_id = r.id))
"""


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        one = lambda sql: int(connection.execute(text(sql)).scalar_one())  # noqa: E731
        result = {
            "report": one("SELECT count(*) FROM worker_report WHERE receipt_lookup IS NOT NULL"),
            "worker_message": one("SELECT count(*) FROM report_message WHERE from_worker"),
            "case_message": one("SELECT count(*) FROM case_message"),
            "partial": one(PARTIAL_REPORTS),
        }
    engine.dispose()
    return result


# --- the phases ---------------------------------------------------------------------------------


@dataclass
class Row:
    phase: str
    stats: Stats | None
    lost: int
    ok: bool
    note: str


def lost_writes(before: dict[str, int], after: dict[str, int], stats: Stats) -> tuple[int, str]:
    """Acknowledged writes missing from the database, and the counts as a note."""
    lost, notes = 0, []
    for kind in ("report", "worker_message", "case_message"):
        acked, added = stats.count(kind), after[kind] - before[kind]
        lost += max(0, acked - added)
        notes.append(f"{kind}s {acked} acked/{added} stored")
    return lost, ", ".join(notes)


def phase_load(base: str, url: str, seconds: float) -> Row:
    before = counts(url)
    stats = run_load(base, seconds, workers=2, readers=True, follow_up=True)
    after = counts(url)
    lost, note = lost_writes(before, after, stats)
    # With no failed request every write answered is a write acknowledged: the counts must match.
    exact = all(after[k] - before[k] == stats.count(k) for k in ("report", "worker_message", "case_message"))
    ok = stats.failures == 0 and lost == 0 and exact and stats.count("case_message") > 0
    return Row("mixed load", stats, lost, ok, note)


def phase_two_servers(one: Server, two: Server) -> Row:
    stats = Stats()
    first = Client(one.url, stats)
    logged_in = first.login(*MONITOR)
    second = Client(two.url, stats)
    second.http.cookies.update(first.http.cookies)
    page = second.request("GET", "/testimony/reports")
    shared_session = logged_in and page is not None and page.status_code == 200
    # Failed logins for one account, counted on both servers, lock it on either.
    for attempt in range(LOGIN_FAILURE_LIMIT):
        Client((one, two)[attempt % 2].url, stats).login(THROTTLED[0], "not-the-password")
    refused = not Client(one.url, stats).login(*THROTTLED)
    ok = shared_session and refused and stats.server_errors == 0
    note = f"session shared: {shared_session}; locked after {LOGIN_FAILURE_LIMIT} failures on both: {refused}"
    return Row("two servers", stats, 0, ok, note)


def phase_kill(server: Server, url: str) -> Row:
    before = counts(url)
    stats = run_load(server.url, 12, workers=3, readers=False, follow_up=False, during=server.kill9)
    server.start()
    after = counts(url)
    receipts = stats.acked.get("report", [])
    check = Stats()
    missing = sum(1 for receipt in receipts if open_with_receipt(Client(server.url, check), receipt) is None)
    ok = missing == 0 and after["partial"] == 0 and check.failures == 0 and len(receipts) > 0
    note = (
        f"{len(receipts)} receipts before the kill, {missing} missing after the restart; "
        f"{after['report'] - before['report']} stored; partial reports: {after['partial']}"
    )
    return Row("kill -9", stats, missing, ok, note)


def phase_db_restart(server: Server, url: str, command: str) -> Row:
    window: list[float] = []

    def restart() -> None:
        window.append(time.monotonic())
        subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)  # noqa: S602 (the caller's)
        window.append(time.monotonic())

    before = counts(url)
    stats = run_load(server.url, 30, workers=2, readers=True, follow_up=True, during=restart)
    after = counts(url)
    lost, note = lost_writes(before, after, stats)
    grace = 2.0  # a request sent just before the restart ends may still be refused
    # A failed request counts against the app unless it was under way while the database was down.
    outside = [
        (started, elapsed, status)
        for started, elapsed, status in stats.samples
        if (status == 0 or status >= 500) and (started + elapsed < window[0] or started > window[1] + grace)
    ]
    last = sorted(stats.samples)[-20:]
    recovered = all(0 < status < 500 for _, _, status in last)
    ok = not outside and recovered and lost == 0
    note = (
        f"down {window[1] - window[0]:.1f} s; {stats.failures} failed requests, {len(outside)} outside "
        f"the restart; recovered: {recovered}; {note}"
    )
    return Row("db restart", stats, lost, ok, note)


QUEUE_IMPORT = """
import sys
from sqlalchemy import select
from wsgi import app
from monitoring.accounts.models import User
from monitoring.core import jobs
from monitoring.core.db import db
from monitoring.supplychain.import_jobs import queue_facility_import

with app.app_context():
    user = db.session.scalar(select(User).where(User.email == sys.argv[1]))
    with open(sys.argv[2], "rb") as upload:
        job = queue_facility_import(user, upload, "soak-facilities.csv")
    if job.state == getattr(jobs.JobState, "waiting", None):  # the mapping step: the proposal confirmed
        jobs.release(job, {})
    db.session.commit()
    print(job.id)
"""


def _job(url: str, job_id: int) -> dict[str, Any]:
    engine = create_engine(url)
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT state, rows_done, bytes_done, size, result FROM job WHERE id = :id"), {"id": job_id}
        ).one()
        sites = int(connection.execute(text("SELECT count(*) FROM site")).scalar_one())
    engine.dispose()
    state, rows, done, size, result = row
    return {"state": state, "rows": rows, "bytes": done, "size": size, "result": result, "sites": sites}


def _worker(env: dict[str, str], app_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 (our own flask)
            [str(BIN / "flask"), "--app", "wsgi", "jobs", "worker", "--interval", "0.5"],
            cwd=app_dir,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def phase_import_kill(env: dict[str, str], app_dir: Path, url: str, rows: int, tmp: Path) -> Row:
    """Queue a facility import, kill -9 its worker half way, then let a new worker finish it."""
    from tests.supplychain.facility_files import write_file

    upload = tmp / "soak-facilities.csv"
    write_file(upload, rows, seed=7)
    # A short batch makes many transactions to be killed between; a short stale time lets the next
    # worker take the abandoned job over within seconds instead of five minutes.
    env = {**env, "MONITORING_IMPORT_BATCH_ROWS": "500", "MONITORING_JOB_STALE_SECONDS": "3"}
    queued = subprocess.run(  # noqa: S603 (our own python)
        [sys.executable, "-c", QUEUE_IMPORT, THROTTLED[0], str(upload)],
        cwd=app_dir,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    job_id = int(queued.stdout.strip().splitlines()[-1])
    before = _job(url, job_id)
    log = tmp / "worker.log"
    first = _worker(env, app_dir, log)

    def half_read() -> bool:
        job = _job(url, job_id)
        return bool(job["state"] == "running" and job["bytes"] >= job["size"] // 2)

    half = _wait_for(half_read, 600)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    killed = _job(url, job_id)
    partial = killed["sites"] - before["sites"]
    second = _worker(env, app_dir, log)
    try:
        finished = _wait_for(lambda: _job(url, job_id)["state"] in ("done", "failed"), 900)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    after = _job(url, job_id)
    created = int(json.loads(after["result"]).get("created", -1)) if after["result"] else -1
    exact = after["sites"] - before["sites"] == created
    done = finished and after["state"] == "done" and exact
    ok = half and killed["state"] == "running" and partial == 0 and done
    note = (
        f"{rows} rows; killed at {killed['bytes'] * 100 // max(killed['size'], 1)} % read, "
        f"{killed['rows']} rows staged; sites added by then: {partial}; then {after['state']}, "
        f"{after['sites'] - before['sites']} sites added, {created} reported created"
    )
    return Row("import kill", None, partial, ok, note)


# --- main ---------------------------------------------------------------------------------------


def environment(instance: Path, url: str, app_dir: Path) -> dict[str, str]:
    from monitoring.core.devkeys import ensure_dev_keyring, ensure_dev_secrets

    ensure_dev_secrets(instance)
    ensure_dev_keyring(instance)
    return {
        **os.environ,
        "PYTHONPATH": str(app_dir),  # before the editable install of the checkout
        "MONITORING_ENV": "development",
        "MONITORING_INSTANCE_PATH": str(instance),
        "MONITORING_DATABASE_URL": url,
        "MONITORING_DEMO_RELAX_TWO_FACTOR": "1",
        "MONITORING_WORKER_REPORT_MAX_PER_CLIENT": "100000",
        "MONITORING_WORKER_REPORT_MAX_PER_MINUTE": "100000",
        "MONITORING_WORKER_FOLLOWUP_MAX_PER_CLIENT": "100000",
        "MONITORING_WORKER_FOLLOWUP_MAX_PER_MINUTE": "100000",
        "MONITORING_LOGIN_MAX_FAILURES_PER_ACCOUNT": str(LOGIN_FAILURE_LIMIT),
        "MONITORING_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
    }


def print_table(rows: list[Row], url: str) -> None:
    print(f"\nSoak on {url.split('@')[-1]} (gunicorn, 2 workers per server, loopback)")
    head = (
        f"{'phase':<12} {'requests':>8} {'rps':>6} {'p50 ms':>7} {'p95 ms':>7} {'5xx':>4} {'errors':>6} "
        f"{'lost':>4}  result"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        s = row.stats
        if s is not None and s.samples:
            elapsed = s.elapsed or (max(x[0] + x[1] for x in s.samples) - min(x[0] for x in s.samples))
            numbers = (
                f"{len(s.samples):>8} {len(s.samples) / max(elapsed, 0.001):>6.1f} {s.p(0.5):>7.0f} "
                f"{s.p(0.95):>7.0f} {s.server_errors:>4} {s.failures - s.server_errors:>6} {row.lost:>4}"
            )
        else:
            numbers = f"{'':>8} {'':>6} {'':>7} {'':>7} {'':>4} {'':>6} {row.lost:>4}"
        print(f"{row.phase:<12} {numbers}  {'ok' if row.ok else 'FAILED'}: {row.note}")
        if s is not None and s.bad:
            print(f"{'':<12} server errors: {', '.join(sorted(set(s.bad)))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite in a temp dir)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of mixed load (60)")
    parser.add_argument("--pg-restart-cmd", help="a shell command that restarts PostgreSQL and waits")
    parser.add_argument("--import-rows", type=int, default=20000, help="rows of the killed facility import")
    parser.add_argument(
        "--app-dir", type=Path, default=ROOT, help="the source tree to serve (default: this checkout)"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        instance = Path(tmp) / "instance"
        instance.mkdir()
        url = options.database_url or f"sqlite:///{Path(tmp) / 'soak.sqlite'}"
        app_dir = options.app_dir.resolve()
        env = environment(instance, url, app_dir)
        for command in (["db", "upgrade"], ["demo", "load"]):
            subprocess.run(  # noqa: S603 (our own flask)
                [str(BIN / "flask"), "--app", "wsgi", *command],
                cwd=app_dir,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        log = Path(tmp) / "gunicorn.log"
        one, two = Server(env, log, app_dir), Server(env, log, app_dir)
        rows: list[Row] = []
        try:
            one.start()
            rows.append(phase_load(one.url, url, options.duration))
            rows.append(phase_import_kill(env, app_dir, url, options.import_rows, Path(tmp)))
            two.start()
            rows.append(phase_two_servers(one, two))
            two.stop()
            rows.append(phase_kill(one, url))
            if options.pg_restart_cmd and not url.startswith("sqlite"):
                rows.append(phase_db_restart(one, url, options.pg_restart_cmd))
        finally:
            one.stop()
            two.stop()
        print_table(rows, url)
        failed = [row.phase for row in rows if not row.ok]
        if failed:
            print(f"\nFAILED: {', '.join(failed)}; the servers' log:\n" + log.read_text()[-3000:])
            return 1
        print("\nAll checks passed.")
        return 0


if __name__ == "__main__":
    sys.exit(main())
