"""The developer tooling and its documentation stay in step with the code."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from monitoring.config import DEFAULTS, ROOT
from monitoring.demo import LOGINS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_documents_every_setting() -> None:
    missing = [f"MONITORING_{name}" for name in DEFAULTS if f"`MONITORING_{name}`" not in README]
    assert not missing, f"README.md does not document {missing}"


def test_readme_explains_every_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += [r for r in extra if not r.startswith("monitoring")]
    names = [re.split(r"[\[<>=!~ ]", r, maxsplit=1)[0] for r in requirements]
    table = README.lower().replace("\\", "")
    missing = [name for name in names if f"| {name.lower()}" not in table]
    assert not missing, f"README.md does not say why these are needed: {missing}"


def test_readme_lists_the_demo_logins() -> None:
    for login in LOGINS:
        assert (
            f"| `{login.email}` | `{login.password}` | {login.role.value} | {login.organisation} |" in README
        )


def test_ci_script_is_valid_bash() -> None:
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK), ".ci/run must be executable"
    text = script.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    subprocess.run(["bash", "-n", str(script)], check=True)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("target", ["run", "test", "lint", "i18n", "clean"])
def test_makefile_has_target(target: str) -> None:
    # --question exits 0 (up to date) or 1 (needs remaking); 2 means the target is unknown.
    done = subprocess.run(["make", "--question", target], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode in {0, 1}, done.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_bench_runs_again_on_postgresql_when_a_server_is_named() -> None:
    def planned(*variables: str) -> list[str]:
        done = subprocess.run(
            ["make", "--dry-run", "--always-make", "bench", *variables],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return [line for line in done.stdout.splitlines() if "benchmarks/" in line]

    filling = ("sealing.py", "import_jobs.py", "cases.py", "pages.py", "api_ratio.py", "exports.py")
    sqlite_only = planned()
    assert not any("--database-url" in line for line in sqlite_only)
    both = " ".join(planned("BENCH_POSTGRES=postgresql+psycopg://bench@127.0.0.1:5432"))
    for script in filling:
        assert both.count(f"benchmarks/{script}") == 2, script
    # Each run on PostgreSQL gets its own fresh database, the pages one per scale.
    names = re.findall(r"fresh_database\.py '[^']+' (\w+)\)", both)
    assert len(names) == len(set(names)) == len(filling) + 1


def test_fresh_database_takes_only_plain_names() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "fresh_database.py"),
            "postgresql+psycopg://nobody@127.0.0.1:1",
            'x"; DROP DATABASE y; --',
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "not a plain database name" in done.stderr
