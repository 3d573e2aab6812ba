"""Benchmark the two costly moments of the security design: a staff login and a worker's report.

A login checks the password hash (argon2id) and unwraps the member's private key (argon2id of the
password, then the server pepper); filing an anonymous report derives the receipt (argon2id),
seals the report's data key to the monitor organisation (HPKE) and encrypts the fields. Both are
measured end to end through the Flask test client on the demo data, in a fresh SQLite database in a
temporary directory, together with the weight of the worker pages (bytes of HTML a worker's phone
downloads on the way to a report; the pages have no scripts and one stylesheet).

    .venv/bin/python benchmarks/login_and_report.py            # 10 logins, 10 reports
    .venv/bin/python benchmarks/login_and_report.py --runs 30

Each number is the median and the slowest of the runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MONITOR = ("monitor@demo.example", "demo-monitor-pass")
COUNTRY = "TH"  # the demo's first monitoring organisation receives Thailand's reports


class _Form(HTMLParser):
    """The fields of the first form on a page that holds a field named ``marker``."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self._current = {"action": attributes.get("action") or "", "fields": {}, "boxes": {}}
            self.forms.append(self._current)
        elif self._current is not None and tag in {"input", "textarea", "select"}:
            name = attributes.get("name")
            if not name:
                return
            kind = attributes.get("type", "text")
            if kind == "checkbox":
                self._current["boxes"].setdefault(name, attributes.get("value") or "y")
            elif kind != "file":
                self._current["fields"].setdefault(name, attributes.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def form_on(html: str, marker: str) -> dict[str, Any]:
    parser = _Form()
    parser.feed(html)
    for form in parser.forms:
        if marker in form["fields"] or marker in form["boxes"]:
            return form
    raise SystemExit(f"no form with a field {marker!r} on the page")


def build_app(instance: Path) -> Any:
    logging.disable(logging.INFO)
    os.environ.update(
        MONITORING_ENV="development",
        MONITORING_INSTANCE_PATH=str(instance),
        MONITORING_DATABASE_URL=f"sqlite:///{instance / 'bench.sqlite'}",
        MONITORING_DEMO_RELAX_TWO_FACTOR="1",
        MONITORING_WORKER_REPORT_MAX_PER_CLIENT="100000",
        MONITORING_WORKER_REPORT_MAX_PER_MINUTE="100000",
        MONITORING_LOGIN_MAX_FAILURES_PER_ACCOUNT="100000",
        MONITORING_LOGIN_MAX_FAILURES_PER_ADDRESS="100000",
    )
    from monitoring.core.devkeys import ensure_dev_keyring, ensure_dev_secrets

    ensure_dev_secrets(instance)
    ensure_dev_keyring(instance)
    from monitoring import create_app

    app = create_app()
    runner = app.test_cli_runner()
    for command in (["db", "upgrade"], ["demo", "load"]):
        result = runner.invoke(args=command)
        if result.exit_code != 0:
            raise SystemExit(f"flask {' '.join(command)} failed:\n{result.output}")
    return app


def time_login(app: Any) -> float:
    client = app.test_client()
    form = form_on(client.get("/login").get_data(as_text=True), "password")
    data = {**form["fields"], "email": MONITOR[0], "password": MONITOR[1]}
    started = time.perf_counter()
    response = client.post("/login", data=data)
    elapsed = time.perf_counter() - started
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise SystemExit(f"the demo monitor's login failed: {response.status_code}")
    return elapsed


def report_form_page(client: Any) -> tuple[str, str]:
    """The report form for a workplace in COUNTRY; its URL and HTML, whichever way the pages ask."""
    url = f"/report/new?country={COUNTRY}"
    html = client.get(url).get_data(as_text=True)
    if 'name="testimony"' not in html:  # the workplace travels in the POST body
        chooser = form_on(client.get("/report/workplace").get_data(as_text=True), "country")
        response = client.post("/report/new", data={**chooser["fields"], "country": COUNTRY})
        url, html = "/report/new", response.get_data(as_text=True)
    return url, html


def time_report(app: Any) -> tuple[float, int]:
    client = app.test_client()
    url, html = report_form_page(client)
    form = form_on(html, "testimony")
    # Every category and consent but the one to be contacted (which would need contact details).
    data = {**form["fields"], **{k: v for k, v in form["boxes"].items() if k != "consent_contact"}}
    data.update(
        workplace="The assembly plant by the river, building 3",
        testimony="We work 13 hours a day and the agency kept our passports. " * 20,
    )
    if "country" not in data:
        data["country"] = COUNTRY
    started = time.perf_counter()
    response = client.post(url, data=data)
    elapsed = time.perf_counter() - started
    page = response.get_data(as_text=True)
    if 'id="receipt"' not in page:
        raise SystemExit(f"the report was not filed ({response.status_code})")
    return elapsed, len(html.encode())


def page_weights(app: Any) -> dict[str, int]:
    client = app.test_client()
    paths = ("/report/", "/report/workplace", "/report/follow-up", "/static/report.css")
    return {path: len(client.get(path).get_data()) for path in paths}


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"median {statistics.median(ms):7.1f} ms   slowest {max(ms):7.1f} ms   ({len(ms)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="monitoring-bench-") as tmp:
        app = build_app(Path(tmp))
        time_login(app)  # warm-up: templates, first connection
        logins = [time_login(app) for _ in range(args.runs)]
        reports, form_bytes = [], 0
        for _ in range(args.runs):
            elapsed, form_bytes = time_report(app)
            reports.append(elapsed)
        weights = page_weights(app)
    print(f"staff login (monitor with keys)   {summary(logins)}")
    print(f"worker report filed               {summary(reports)}")
    for path, size in weights.items():
        print(f"page weight {path:<22} {size:>7,} bytes")
    print(f"page weight {'report form':<22} {form_bytes:>7,} bytes")


if __name__ == "__main__":
    main()
