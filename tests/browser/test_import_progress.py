"""The import progress bar in Chromium with JavaScript off (issue 16: "a browser test watches the
progress bar advance to done with JavaScript off").

The demo coordinator uploads a facility list through the form and lands on the job page, which
waits for a worker. The test then starts `flask jobs worker` beside the server, with small
batches (``MONITORING_IMPORT_BATCH_ROWS``) so the import takes many transactions, each moving the
bar. Nothing but the page's own meta refresh reloads it; the test reads the ``<progress>`` on
every load until the job is over. The bar must have been seen part-way, then full; the finished
page shows the counts and stops refreshing, and the sites are in the registry.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from monitoring.config import ROOT
from monitoring.demo import LOGINS
from tests.browser.conftest import prepare_demo, screenshot, serve
from tests.supplychain.test_import_facilities import facility_csv, facility_row

pytestmark = pytest.mark.browser

COORDINATOR = next(x for x in LOGINS if x.role.value == "coordinator")
ROWS = 2000
# A row per batch: checking the file takes 2,000 transactions (about 10 s here, five refreshes of
# the page), each moving the bar, so the bar is seen part-way even on a much faster machine.
BATCH_ROWS = 1
NAME = "Progress Bar Works {:04d}"
TIMEOUT_SECONDS = 90


@dataclass
class Demo:
    base: str
    env: dict[str, str]
    database: Path
    tmp: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("import-progress")
    env = prepare_demo(tmp)
    with serve(env, tmp / "server.log") as base:
        yield Demo(base, env, tmp / "browser.sqlite3", tmp)


def _facility_file(path: Path) -> Path:
    rows = [
        facility_row(name=NAME.format(i), address=f"{i} Progress Road", country_code="VN", country_name="")
        for i in range(ROWS)
    ]
    path.write_bytes(facility_csv(rows))
    return path


def _count_sites(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(
            connection.execute("SELECT count(*) FROM site WHERE name LIKE 'Progress Bar Works %'").fetchone()[
                0
            ]
        )


def _log_in(chromium: Any, demo: Demo) -> Any:
    """The demo coordinator's browser window, with JavaScript off."""
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    page = context.new_page()
    page.goto(f"{demo.base}/login")
    page.locator("input[name=email]").fill(COORDINATOR.email)
    page.locator("input[name=password]").fill(COORDINATOR.password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/login" not in page.url, page.locator("main").inner_text()
    return page


def _bar(page: Any) -> tuple[int, int]:
    bar = page.locator("main progress#job-progress")
    assert bar.count() == 1, page.locator("main").inner_text()
    return int(bar.get_attribute("value")), int(bar.get_attribute("max"))


def _refreshes(page: Any) -> bool:
    return page.locator("head meta[http-equiv=refresh]").count() > 0


def _start_worker(demo: Demo, log: IO[str]) -> subprocess.Popen[str]:
    env = dict(demo.env, MONITORING_IMPORT_BATCH_ROWS=str(BATCH_ROWS))
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(worker: subprocess.Popen[str]) -> None:
    if worker.poll() is None:
        os.kill(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_the_bar_advances_to_done_without_javascript(chromium: Any, demo: Demo) -> None:
    page = _log_in(chromium, demo)
    worker: subprocess.Popen[str] | None = None
    log = open(demo.tmp / "worker.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        page.goto(f"{demo.base}/imports/facilities")
        form = "main form[enctype='multipart/form-data']"
        upload = _facility_file(demo.tmp / "facilities.csv")
        page.locator(f"{form} input[type=file]").set_input_files(str(upload))
        with page.expect_navigation():
            page.locator(f"{form} button[type=submit]").click()
        # The column-mapping step: confirm the columns proposed.
        assert page.url.endswith("/columns"), page.locator("main").inner_text()
        with page.expect_navigation():
            page.locator("main button[name=action][value=confirm]").click()
        assert "/imports/jobs/" in page.url, page.locator("main").inner_text()
        job_url = page.url

        # Queued: an empty bar, and the page refreshes itself.
        assert _bar(page) == (0, 100)
        assert _refreshes(page)
        assert _count_sites(demo.database) == 0

        worker = _start_worker(demo, log)
        seen = [_bar(page)[0]]
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while _refreshes(page):
            assert time.monotonic() < deadline, f"still not done after {TIMEOUT_SECONDS} s: {seen}"
            assert worker.poll() is None, (demo.tmp / "worker.log").read_text(encoding="utf-8")
            # Only the meta refresh reloads the page: no script runs in this context.
            page.wait_for_event("load", timeout=10_000)
            assert page.url == job_url
            value, maximum = _bar(page)
            seen.append(value)
            if 0 < value < maximum:
                screenshot(page, "import-progress-running.png")

        assert any(0 < value < 100 for value in seen), f"the bar was never seen part-way: {seen}"
        assert seen == sorted(seen), f"the bar went back: {seen}"
        assert seen[-1] == 100
        # Done: the counts are shown and the page no longer refreshes.
        assert page.locator("main #result-title").count() == 1, page.locator("main").inner_text()
        result = page.locator("main section[aria-labelledby=result-title]").inner_text()
        assert str(ROWS) in result.replace(",", "").replace("\u202f", "").replace("\xa0", "")
        assert not _refreshes(page)
        screenshot(page, "import-progress.png")
    finally:
        if worker is not None:
            _stop(worker)
        log.close()
        page.context.close()

    assert _count_sites(demo.database) == ROWS
    # The sites are in the registry, as a coordinator finds them.
    page = _log_in(chromium, demo)
    try:
        last = NAME.format(ROWS - 1)
        page.goto(f"{demo.base}/sites?q={last.replace(' ', '+')}")
        assert last in page.locator("main").inner_text()
    finally:
        page.context.close()
