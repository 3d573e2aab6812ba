"""Pages at scale: ``.venv/bin/python benchmarks/pages.py --scales 0.01 0.1 [--runs 20]``.

For each scale, fills a fresh SQLite database (or the empty ``--database-url`` given for that
scale: one URL per scale, in the same order; ``make bench`` does so on PostgreSQL when
``BENCH_POSTGRES`` names a server) with ``generate.py``, then requests each role's home, list
and detail pages, the case board with filters, the leverage ranking, the report list, each
role's dashboard, every API list and the reporting API (dashboard, figures, remedy ledger)
through the Flask test client (signed in, or with a bearer token): p50 and p95 of ``--runs``
requests after one to warm up, the time of that first one (for the dashboards and figures, the
one that finds no snapshot of the figures, nor of the dashboard's ledger, leverage ranking and
portfolio, and computes and stores them), and the SQL statements each request ran (a
``before_cursor_execute`` counter). ``--only dashboard figures`` measures only the pages whose
path holds one of those words.

Exits 1 when a page runs more statements at a larger scale than at the smallest: a page's
statements must not grow with the data.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import cases as builder  # noqa: E402 - benchmarks/cases.py
import generate  # noqa: E402 - benchmarks/generate.py

from monitoring.cases.models import Case, CorrectiveAction, Finding  # noqa: E402
from monitoring.core.db import db  # noqa: E402
from monitoring.testimony.models import WorkerReport  # noqa: E402

PAGES = {
    "coordinator": [
        "/",
        "/cases/",
        "/cases/?overdue=y&severity=priority",
        "/cases/{case}",
        "/findings/",
        "/findings/{finding}",
        "/actions/",
        "/actions/{action}",
        "/sites",
        "/sites/leverage",
        "/sites/{site}",
        "/contracts",
        "/disclosures",
        "/notifications/",
        "/dashboard/",
    ],
    "monitor": [
        "/",
        "/testimony/reports",
        "/testimony/reports/{report}",
        "/findings/",
        "/cases/",
        "/dashboard/",
    ],
    "affiliate": ["/", "/cases/", "/my-supply-chain", "/contracts", "/dashboard/"],
    "supplier": ["/", "/requests/", "/dashboard/"],
}
# The reporting routes, for every role (each computes its figures over what the role may see).
REPORTING_API = ["/api/v1/dashboard", "/api/v1/figures", "/api/v1/remedy-ledger"]
API = {
    "coordinator": [
        "/api/v1/cases?limit=50",
        "/api/v1/findings",
        "/api/v1/actions",
        "/api/v1/sites",
        "/api/v1/sites/leverage",
        "/api/v1/contracts",
        "/api/v1/disclosures",
        "/api/v1/products",
        "/api/v1/notifications",
    ],
    "monitor": ["/api/v1/worker-reports", "/api/v1/findings", "/api/v1/cases?limit=50"],
    "affiliate": ["/api/v1/cases?limit=50", "/api/v1/contracts"],
    "supplier": ["/api/v1/actions?overdue=true", "/api/v1/actions"],
}
for _role in API:
    API[_role] += REPORTING_API


class Counter:
    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


def measure(
    counter: Counter, client: Any, url: str, runs: int, headers: dict[str, str] | None
) -> dict[str, Any]:
    started = time.perf_counter()
    first = client.get(url, headers=headers)
    first_ms = (time.perf_counter() - started) * 1000
    if first.status_code != 200:
        return {"status": first.status_code}
    times, statements = [], []
    for _ in range(runs):
        before, started = counter.count, time.perf_counter()
        client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        statements.append(counter.count - before)
    times.sort()
    return {
        "status": 200,
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "statements": max(statements),
        "first": first_ms,
    }


def _ids(people: builder.People) -> dict[str, int]:
    monitor_org = next(iter(people.monitors))
    return {
        "case": db.session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) or 1,
        "finding": db.session.scalar(select(Finding.id).order_by(Finding.id.desc()).limit(1)) or 1,
        "action": db.session.scalar(select(CorrectiveAction.id).order_by(CorrectiveAction.id).limit(1)) or 1,
        "site": 1,
        "report": db.session.scalar(
            select(WorkerReport.id).where(WorkerReport.organisation_id == monitor_org).limit(1)
        )
        or 1,
    }


def run_scale(
    scale: float, url: str | None, runs: int, only: list[str] | None = None
) -> tuple[dict[str, int], dict[tuple[str, str], dict]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{Path(tmp) / 'pages.sqlite3'}"
        app = generate.make_app(url, Path(tmp))
        with app.app_context():
            people, _timings = generate.fill(generate.Sizes.at(scale))
            sizes = generate.counts()
            ids = _ids(people)
        users = {
            "coordinator": people.coordinators[0],
            "monitor": next(iter(people.monitors.values()))[0],
            "affiliate": people.affiliate,
            "supplier": people.big_supplier,
        }
        counter = Counter(db.state(app).engine)
        results: dict[tuple[str, str], dict] = {}
        bare = app.test_client()
        results[("anyone", "/healthz")] = measure(counter, bare, "/healthz", runs, None)
        for role, user in users.items():
            client = builder.logged_in(app, user.email)
            for page in [p for p in PAGES[role] if not only or any(o in p for o in only)]:
                results[(role, page)] = measure(counter, client, page.format(**ids), runs, None)
            token = builder.bearer(app, user)
            for page in [p for p in API[role] if not only or any(o in p for o in only)]:
                results[(role, page)] = measure(counter, bare, page, runs, token)
        db.state(app).engine.dispose()
    return sizes, results


def report(scales: list[float], sizes: list[dict[str, int]], runs: list[dict[tuple[str, str], dict]]) -> int:
    """Print the table (Markdown); return 1 when a page's statements grew with the data."""
    for scale, counted in zip(scales, sizes, strict=True):
        print(f"scale {scale:g}: " + ", ".join(f"{n:,} {t}" for t, n in counted.items()))
    head = " | ".join(f"p50 / p95 (first) ms at {s:g}" for s in scales)
    print(f"\n| user | GET | {head} | SQL |\n|---|---|" + "---:|" * (len(scales) + 1))
    grew = []
    for key in runs[0]:
        cells, statements = [], []
        for result in (r.get(key, {}) for r in runs):
            if result.get("status") != 200:
                cells.append(f"HTTP {result.get('status')}")
                continue
            cells.append(f"{result['p50']:.1f} / {result['p95']:.1f} ({result['first']:.0f})")
            statements.append(result["statements"])
        if statements and max(statements) > statements[0]:
            grew.append(key)
        sql = (
            " → ".join(str(s) for s in statements)
            if len(set(statements)) > 1
            else str(statements[0] if statements else "")
        )
        print(f"| {key[0]} | `{key[1]}` | " + " | ".join(cells) + f" | {sql} |")
    for role, page in grew:
        print(f"FAIL: {role} {page}: more SQL statements at a larger scale", file=sys.stderr)
    return 1 if grew else 0


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.01, 0.1], help="smallest first")
    parser.add_argument("--runs", type=int, default=20, help="requests per page (default 20)")
    parser.add_argument(
        "--database-url", nargs="+", help="an empty database for each scale, in the order of --scales"
    )
    parser.add_argument(
        "--only", nargs="+", help="only the pages whose path holds one of these (e.g. dashboard)"
    )
    args = parser.parse_args(argv)
    urls = args.database_url or [None] * len(args.scales)
    if len(urls) != len(args.scales):
        parser.error("--database-url takes one empty database per scale")
    database = "PostgreSQL" if args.database_url and urls[0].startswith("postgresql") else "SQLite"
    print(f"{database}, scales {' '.join(f'{s:g}' for s in args.scales)}, {args.runs} runs a page")
    sizes, runs = [], []
    for scale, url in zip(args.scales, urls, strict=True):
        counted, results = run_scale(scale, url, args.runs, args.only)
        sizes.append(counted)
        runs.append(results)
    sys.exit(report(args.scales, sizes, runs))


if __name__ == "__main__":
    main(sys.argv[1:])
