"""Shared by the browser tests: Debian's Chromium through Playwright, and a demo server.

The server runs in a subprocess with its own SQLite file and instance folder: the database
object is a process-wide singleton, so a second app in the test process would rebind the engine
under the rest of the suite. Screenshots go to artefacts/screenshots/.

Outside CI the tests are skipped when Chromium or Playwright is missing; with CI=true they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from monitoring.config import ROOT

CHROMIUM = os.environ.get("MONITORING_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI containers
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "artefacts" / "screenshots"
SERVER = """
from werkzeug.serving import make_server
from wsgi import app

server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true, so the browser tests must run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a test dependency
        _unavailable(f"Playwright is not installed ({exc}); run `make test`")
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM}; install it with `apt-get install chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)  # type: ignore[attr-defined]


def run_python(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def prepare_demo(tmp: Path) -> dict[str, str]:
    """Make dev keys, migrate a fresh SQLite database in ``tmp`` and load the demo; return the env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITORING_")}
    env.update(
        MONITORING_ENV="development",
        MONITORING_INSTANCE_PATH=str(tmp / "instance"),
        MONITORING_DATABASE_URL=f"sqlite:///{tmp / 'browser.sqlite3'}",
        # Cheap hashing keeps the tests fast; the demo passwords are public anyway.
        MONITORING_ARGON2_TIME_COST="1",
        MONITORING_ARGON2_MEMORY_KIB="8192",
        MONITORING_RECEIPT_KDF_TIME_COST="1",
        MONITORING_RECEIPT_KDF_MEMORY_KIB="8192",
        # As `make run` does: demo accounts may skip the second factor, and pages say so.
        MONITORING_DEMO_RELAX_TWO_FACTOR="1",
        PYTHONUNBUFFERED="1",
    )
    run_python(["-m", "monitoring.core.devkeys", str(tmp / "instance")], env)
    run_python(["-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
    run_python(["-m", "flask", "--app", "wsgi", "demo", "load"], env)
    return env


@contextmanager
def serve(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Serve the app in a subprocess until the block ends; yield its base URL once it is healthy."""
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True
        )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"the server did not start:\n{log_path.read_text(encoding='utf-8')}"
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"the server exited:\n{log_path.read_text(encoding='utf-8')}"
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text(encoding="utf-8")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
