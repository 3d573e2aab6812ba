# Worker-driven monitoring: development tasks.
#
#   make run    set everything up, load the demo data and serve on http://127.0.0.1:5000
#   make test   lint, then the test suite on SQLite (and on PostgreSQL when
#               MONITORING_TEST_DATABASE_URL is set; .ci/run sets it up)
#
# Everything lives in .venv; it is (re)installed when pyproject.toml changes.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PYTEST := $(BIN)/python -m pytest
STAMP := .stamp-install
DEV_LOCK := requirements-dev.lock
LINT_PATHS := monitoring tests migrations/env.py
PO_FILES = $(wildcard translations/*/LC_MESSAGES/*.po)
HOST := 127.0.0.1
PORT := 5000

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help run test test-latest lint format i18n translations devkeys install upgrade clean distclean bench fuzz soak

help:  ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# --- set-up -----------------------------------------------------------------------------

$(VENV)/pyvenv.cfg:
	$(PYTHON) -m venv $(VENV)

# A new venv (newer pyvenv.cfg) or a changed pyproject.toml means installing again.
# Every dependency comes from the lock file, pinned with its hash; then the app itself, editable.
$(STAMP): pyproject.toml $(DEV_LOCK) $(VENV)/pyvenv.cfg
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

install: $(STAMP)  ## Create .venv and install the project with its dev dependencies from the lock file

# The lock files: requirements.lock (production, the runbook installs it) and
# requirements-dev.lock (production + test + tools, for make run/test and CI). pip-tools runs
# from its own venv so that it never lands in the app's.
PIP_COMPILE = $(VENV)-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
upgrade:  ## Refresh both lock files to today's newest releases within pyproject.toml's bounds
	[ -x $(VENV)-tools/bin/pip-compile ] || { $(PYTHON) -m venv $(VENV)-tools && \
		$(VENV)-tools/bin/pip install --quiet pip-tools; }
	$(PIP_COMPILE) --upgrade --extra prod -o requirements.lock pyproject.toml
	$(PIP_COMPILE) --upgrade --extra prod --extra test -o $(DEV_LOCK) pyproject.toml
	@echo "Lock files refreshed: run make test, then commit requirements.lock and $(DEV_LOCK)."

# The suite against today's newest release of every dependency, in a venv of its own
# (the lock files stay as they are): what `make upgrade` would bring, tried before it lands.
test-latest:  ## Lint and test with the newest releases of every dependency (in .venv-latest)
	[ -d $(VENV)-latest ] || $(PYTHON) -m venv $(VENV)-latest
	$(VENV)-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	@touch .stamp-latest  # installed just now: the lock file must not replace it
	$(MAKE) test VENV=$(VENV)-latest STAMP=.stamp-latest

devkeys: install  ## Generate development secrets in instance/ unless they exist
	@$(BIN)/python -m monitoring.core.devkeys $${MONITORING_INSTANCE_PATH:-instance}

# The flask CLI needs an app, and an app needs secrets: development keys are enough here.
translations: export MONITORING_ENV = development
translations: devkeys  ## Compile the translation catalogs (skipped while there are none)
ifneq ($(strip $(PO_FILES)),)
	@$(FLASK) i18n compile
else
	@echo "no translation catalogs yet (translations/<locale>/LC_MESSAGES/messages.po): nothing to compile"
endif

# --- run --------------------------------------------------------------------------------

run: export MONITORING_ENV = development
# The demo accounts (...@demo.example) may skip two-factor sign-in here; every page says so.
run: export MONITORING_DEMO_RELAX_TWO_FACTOR = 1
run: translations  ## Migrate, load the demo data, serve on http://127.0.0.1:5000 with the import worker
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo
	@echo "Serving on http://$(HOST):$(PORT)/ (development; stop with Ctrl-C)"
	@# The import worker runs beside the app and stops with it.
	$(FLASK) jobs worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# --- checks -----------------------------------------------------------------------------

# ruff (with cyclomatic complexity at most 15), mypy on monitoring/, the import layers
# (pyproject.toml's [tool.importlinter]) and the house rules of .ci/lint_rules.py.
lint: install  ## ruff, mypy, import-linter and the house rules (roles, commits, imports)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python .ci/lint_rules.py

format: install  ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format $(LINT_PATHS)

# The browser tests run once, in the SQLite pass; pytest's exit code 5 (no tests) is a failure.
# With a PostgreSQL URL both passes run at the same time (each on one CPU), each into its own log,
# and the API fuzzing (make fuzz) starts on the CPU the SQLite pass frees.
test: translations lint  ## Lint, then pytest on SQLite (and on PostgreSQL if MONITORING_TEST_DATABASE_URL is set)
	@mkdir -p artefacts && rm -f artefacts/junit-*.xml artefacts/pytest-*.log
	@sqlite=0; postgres=skip; fuzz=0; \
	if [ -z "$${MONITORING_TEST_DATABASE_URL:-}" ]; then \
	  echo "==> pytest on SQLite"; \
	  $(PYTEST) --junitxml=artefacts/junit-sqlite.xml || sqlite=$$?; \
	  $(MAKE) --no-print-directory fuzz || fuzz=$$?; \
	else \
	  echo "==> pytest on SQLite and on PostgreSQL ($${MONITORING_TEST_DATABASE_URL##*@}), side by side"; \
	  env -u MONITORING_TEST_DATABASE_URL $(PYTEST) --junitxml=artefacts/junit-sqlite.xml \
	    >artefacts/pytest-sqlite.log 2>&1 & sqlite_pid=$$!; \
	  $(PYTEST) -m "not browser" --junitxml=artefacts/junit-postgresql.xml \
	    >artefacts/pytest-postgresql.log 2>&1 & postgres_pid=$$!; \
	  wait $$sqlite_pid || sqlite=$$?; \
	  $(MAKE) --no-print-directory fuzz >artefacts/fuzz.log 2>&1 & fuzz_pid=$$!; \
	  postgres=0; wait $$postgres_pid || postgres=$$?; \
	  wait $$fuzz_pid || fuzz=$$?; \
	  echo "==> pytest on SQLite"; cat artefacts/pytest-sqlite.log; \
	  echo "==> pytest on PostgreSQL"; cat artefacts/pytest-postgresql.log; \
	  cat artefacts/fuzz.log; \
	fi; \
	$(BIN)/python -c "$$TEST_SUMMARY" "$$sqlite" "$$postgres" "$$fuzz"

# schemathesis against /api/v1/openapi.json with each role's token and every check, on a local
# server the driver starts (tests/api/schemathesis_run.py); about FUZZ_BUDGET seconds (240).
# Seed, request logs and reports go to artefacts/schemathesis/ (summary.json names the seed;
# FUZZ_SEED=<n> runs the same cases again).
fuzz: translations  ## Fuzz the API with schemathesis for every role (zero server errors, zero schema violations)
	@echo "==> schemathesis on the API, every role"
	@[ -x $(BIN)/schemathesis ] || { echo "schemathesis is not installed: refresh the lock files (make upgrade)" >&2; exit 1; }
	$(BIN)/python tests/api/schemathesis_run.py

# --- benchmarks -------------------------------------------------------------------------

# Speed and memory are checked here, not by timed tests; benchmarks/README.md keeps the results.
# With BENCH_POSTGRES naming a PostgreSQL server (postgresql+psycopg://USER@HOST:PORT, a role that
# may create databases), every benchmark that fills a database runs again on PostgreSQL in the
# same run, each on a fresh database of that server (benchmarks/fresh_database.py; left filled
# for a look afterwards, dropped by the next run).
BENCH_PG = $(BIN)/python benchmarks/fresh_database.py '$(BENCH_POSTGRES)'
bench: translations  ## Run the benchmarks (encryption, login and report filing, imports, case lists, pages and exports at scale; on PostgreSQL too with BENCH_POSTGRES)
	$(BIN)/python benchmarks/micro.py
	$(BIN)/python benchmarks/crypto.py
	$(BIN)/python benchmarks/sealing.py
	$(BIN)/python benchmarks/login_and_report.py
	$(BIN)/python benchmarks/import_facilities.py 10000
	$(BIN)/python benchmarks/import_jobs.py --facilities 100000 --survey 5000
	$(BIN)/python benchmarks/cases.py
	$(BIN)/python benchmarks/pages.py --scales 0.1 1
	$(BIN)/python benchmarks/api_ratio.py
	$(BIN)/python benchmarks/exports.py --scale 1
ifneq ($(BENCH_POSTGRES),)
	$(BIN)/python benchmarks/sealing.py --runs 200 --database-url "$$($(BENCH_PG) bench_sealing)"
	$(BIN)/python benchmarks/import_jobs.py --facilities 100000 --survey 5000 \
		--database-url "$$($(BENCH_PG) bench_import_jobs)"
	$(BIN)/python benchmarks/cases.py --database-url "$$($(BENCH_PG) bench_cases)"
	$(BIN)/python benchmarks/pages.py --scales 0.1 1 \
		--database-url "$$($(BENCH_PG) bench_pages_tenth)" "$$($(BENCH_PG) bench_pages_full)"
	$(BIN)/python benchmarks/api_ratio.py --database-url "$$($(BENCH_PG) bench_api_ratio)"
	$(BIN)/python benchmarks/exports.py --scale 1 --database-url "$$($(BENCH_PG) bench_exports)"
endif

# Load and faults against gunicorn on loopback (not part of make test; about 3 minutes): a mixed
# load, two servers on one database, kill -9 of the server; with SOAK_DATABASE_URL (an empty
# PostgreSQL database) on PostgreSQL, and with SOAK_PG_RESTART_CMD a database restart as well.
soak: install  ## Soak test: 60 s of mixed load, two servers, kill -9 and a database restart (benchmarks/soak.py)
	$(BIN)/python benchmarks/soak.py $(if $(SOAK_DATABASE_URL),--database-url '$(SOAK_DATABASE_URL)') \
		$(if $(SOAK_PG_RESTART_CMD),--pg-restart-cmd '$(SOAK_PG_RESTART_CMD)')

# --- translations -----------------------------------------------------------------------

i18n: export MONITORING_ENV = development
i18n: devkeys  ## Extract messages.pot and merge it into every catalog (creating missing ones)
	@mkdir -p translations
	$(FLASK) i18n extract
	$(FLASK) i18n update

# --- cleaning ---------------------------------------------------------------------------

clean:  ## Remove caches, build output, test artefacts and compiled catalogs (keeps .venv and instance/)
	rm -rf artefacts .pytest_cache .ruff_cache build dist *.egg-info .stamp-*
	find monitoring tests migrations -name __pycache__ -type d -prune -exec rm -rf {} +
	[ ! -d translations ] || find translations -name '*.mo' -delete

distclean: clean  ## Also remove .venv (instance/ with the local database and dev keys stays)
	rm -rf $(VENV) $(VENV)-tools $(VENV)-latest

# --- the summary printed at the end of `make test` --------------------------------------

define TEST_SUMMARY
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def counts(path, prefix=""):
    if not Path(path).exists():
        return None
    result = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0, "xfailed": 0}
    for case in ET.parse(path).iter("testcase"):
        if not case.get("classname", "").startswith(prefix):
            continue
        skipped = case.find("skipped")
        if case.find("failure") is not None:
            result["failed"] += 1
        elif case.find("error") is not None:
            result["errors"] += 1
        elif skipped is not None and skipped.get("type") == "pytest.xfail":
            result["xfailed"] += 1
        elif skipped is not None:
            result["skipped"] += 1
        else:
            result["passed"] += 1
    return result


def describe(result, code):
    if result is None:
        return f"no results (pytest exit {code})"
    text = ", ".join(f"{n} {k}" for k, n in result.items() if n) or "no tests ran"
    return text if code == "0" else f"{text} (pytest exit {code})"


sqlite_code, postgres_code = sys.argv[1], sys.argv[2]
ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ok = sqlite_code == "0" and postgres_code in {"0", "skip"}
lines = ["SQLite: " + describe(counts("artefacts/junit-sqlite.xml"), sqlite_code)]
if postgres_code == "skip":
    lines.append("PostgreSQL: not run (set MONITORING_TEST_DATABASE_URL, or run .ci/run)")
else:
    lines.append("PostgreSQL: " + describe(counts("artefacts/junit-postgresql.xml"), postgres_code))
browser = counts("artefacts/junit-sqlite.xml", "tests.browser")
if not browser or not any(browser.values()):
    state, browser_ok = "no browser tests collected", False
elif browser["failed"] or browser["errors"]:
    state, browser_ok = "FAILED", False
elif browser["skipped"]:
    state, browser_ok = f"SKIPPED ({browser['skipped']}; see the reasons above)", False
else:
    state, browser_ok = f"ran ({browser['passed']} passed)", True
lines.append("browser: " + state)
fuzz_code = sys.argv[3] if len(sys.argv) > 3 else "0"
lines.append("API fuzzing: " + ("passed" if fuzz_code == "0" else f"FAILED (exit {fuzz_code})"))
ok = ok and fuzz_code == "0"
if ci and not browser_ok:
    ok = False
    lines.append("CI=true: the browser tests must run and pass")
print()
print("=" * 72)
for line in lines:
    print(line)
print("make test: " + ("OK" if ok else "FAILED"))
print("=" * 72)
sys.exit(0 if ok else 1)
endef
export TEST_SUMMARY
