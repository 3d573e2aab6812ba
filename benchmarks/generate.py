"""A data set at scale for the page benchmarks: ``.venv/bin/python benchmarks/generate.py --scale 0.1``.

Full size (``--scale 1``): 10,000 cases, 100,000 findings, 1,000,000 worker reports, 20,000
sites, 5,000 contracts and 200 organisations. The cases, their findings, corrective actions,
closures, messages and events, the sites, products and disclosures come from ``cases.py``'s
builder; this module adds the findings outside cases, the contracts, the organisations and the
worker reports with SQLAlchemy Core ``insert()`` (executemany), BATCH rows a transaction.

Worker reports are shaped like real ones (channels, statuses, deadlines, consent flags), but
their sealed columns and wrapped data keys are random bytes of the real sizes (hybrid suite):
list pages never open them. Protected columns (a finding's summary) are encrypted for real,
since lists show them. No audit entries are written: the benchmark does not run ``audit verify``.

``--database-url`` fills an empty SQLite or PostgreSQL database (left filled); without it a
temporary SQLite database is filled, timed and thrown away.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import cases as builder  # noqa: E402 - benchmarks/cases.py
from flask import Flask  # noqa: E402

from monitoring import create_app  # noqa: E402
from monitoring.accounts.models import KeyAlgorithm, Organisation, OrganisationKey, OrganisationKind  # noqa: E402
from monitoring.cases.models import EvidenceType, Finding, Severity  # noqa: E402
from monitoring.core.db import Base, db  # noqa: E402
from monitoring.core.migrate import alembic_config  # noqa: E402
from monitoring.core.names import name_skeleton  # noqa: E402
from monitoring.core.testing import test_config  # noqa: E402
from monitoring.core.types import utcnow  # noqa: E402
from monitoring.supplychain.models import Contract, Site  # noqa: E402
from monitoring.testimony.models import ReportChannel, ReportStatus, WorkerReport  # noqa: E402

BATCH = 5_000
FULL = {
    "cases": 10_000,
    "findings": 100_000,
    "reports": 1_000_000,
    "sites": 20_000,
    "contracts": 5_000,
    "organisations": 200,
}
# Sizes of the hybrid suite (benchmarks/README.md, "Sealing"): a sealed data key, and fields.
WRAPPED_KEY_BYTES = 1_169
SEALED_BYTES = {"identity_sealed": 120, "testimony_sealed": 1_400, "workplace_sealed": 300}
LANGUAGES = ("th", "my", "km", "en", "vi", "ne")


@dataclass
class Sizes:
    cases: int
    findings: int
    reports: int
    sites: int
    contracts: int
    organisations: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        return cls(**{name: max(1, round(count * scale)) for name, count in FULL.items()})


def _insert(model: type[Base], rows: list[dict[str, Any]]) -> None:
    """One batch, one transaction."""
    if rows:
        db.session.execute(insert(model), rows)
        db.session.commit()
        rows.clear()


def _next_id(model: type[Base]) -> int:
    return int(db.session.scalar(select(func.coalesce(func.max(model.id), 0)))) + 1  # type: ignore[attr-defined]


def add_organisations(rng: random.Random, total: int) -> None:
    """Suppliers and affiliates (half each) until there are ``total`` organisations."""
    have = db.session.scalar(select(func.count()).select_from(Organisation)) or 0
    rows = []
    for n in range(max(0, total - have)):
        kind = OrganisationKind.supplier if n % 2 else OrganisationKind.affiliate
        name = f"Scale {kind.value} {n:05d} {rng.choice(('Ltd', 'GmbH', 'AB', 'Co'))}"
        rows.append({"name": name, "name_skeleton": name_skeleton(name), "kind": kind, "is_active": True})
    _insert(Organisation, rows)


def add_contracts(rng: random.Random, total: int, today: date) -> None:
    have = db.session.scalar(select(func.count()).select_from(Contract)) or 0
    affiliates = db.session.scalars(
        select(Organisation.id).where(Organisation.kind == OrganisationKind.affiliate)
    ).all()
    suppliers = db.session.scalars(
        select(Organisation.id).where(Organisation.kind == OrganisationKind.supplier)
    ).all()
    rows: list[dict[str, Any]] = []
    for n in range(max(0, total - have)):
        start = today - timedelta(days=rng.randint(0, 1_500))
        rows.append(
            {
                "affiliate_id": rng.choice(affiliates),
                "supplier_id": rng.choice(suppliers),
                "reference": f"SC-{n:06d}",
                "title": rng.choice(("Laptops", "Phones", "Servers", "Printers")) + f" framework {n}",
                "start_date": start,
                "end_date": start + timedelta(days=rng.randint(365, 1_500)),
                "annual_spend": rng.randint(10_000, 5_000_000),
                "currency": rng.choice(("EUR", "EUR", "SEK", "DKK")),
                "labour_conditions": rng.random() < 0.7,
            }
        )
        if len(rows) == BATCH:
            _insert(Contract, rows)
    _insert(Contract, rows)


def add_findings(rng: random.Random, total: int, today: date) -> None:
    """Findings outside cases, until there are ``total`` (their summaries encrypted for real)."""
    first = _next_id(Finding)
    monitors = db.session.scalars(
        select(Organisation.id).where(Organisation.kind == OrganisationKind.monitor)
    ).all()
    sites = int(db.session.scalar(select(func.max(Site.id))) or 1)
    rows: list[dict[str, Any]] = []
    for fid in range(first, total + 1):
        found = today - timedelta(days=rng.randint(0, 900))
        rows.append(
            {
                "id": fid,
                "site_id": rng.randint(1, sites),
                "organisation_id": rng.choice(monitors),
                "standard": rng.choice(builder.CODES),
                "severity": rng.choices(list(Severity), weights=[20, 40, 40])[0],
                "workers_affected": rng.choice([None, rng.randint(1, 400)]),
                "evidence_type": rng.choice(list(EvidenceType)),
                "found_date": found,
                "summary_ct": builder._ct(builder.TEXT, Finding, "summary_ct", fid),
                "created_dt": datetime(found.year, found.month, found.day, 10, tzinfo=UTC),
            }
        )
        if len(rows) == BATCH:
            _insert(Finding, rows)
    _insert(Finding, rows)


def _organisation_keys(monitors: list[int]) -> dict[int, int]:
    """A (random-byte) key for each monitor organisation that has none; the key id of each."""
    keys = dict(
        (org, kid)
        for org, kid in db.session.execute(select(OrganisationKey.organisation_id, OrganisationKey.id))
    )
    rows = [
        {
            "organisation_id": org,
            "version": 1,
            "algorithm": KeyAlgorithm.mlkem768_x25519,
            "public_key": os.urandom(1_216),
            "recovery_public_key": os.urandom(1_216),
            "recovery_wrapped": os.urandom(2_500),
        }
        for org in monitors
        if org not in keys
    ]
    _insert(OrganisationKey, rows)
    return dict(
        (org, kid)
        for org, kid in db.session.execute(select(OrganisationKey.organisation_id, OrganisationKey.id))
    )


_POOL = os.urandom(1 << 20)


def _random_bytes(rng: random.Random, size: int) -> bytes:
    """Random-looking bytes (a slice of one random megabyte: incompressible, and fast)."""
    start = rng.randrange(len(_POOL) - size)
    return _POOL[start : start + size]


def _report(rng: random.Random, rid: int, org: int, key: int, sites: int, now: datetime) -> dict[str, Any]:
    created = now - timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
    channel = rng.choices(list(ReportChannel), weights=[30, 20, 25, 10, 10, 5])[0]
    direct = channel in (ReportChannel.hotline, ReportChannel.web)
    status = rng.choices(list(ReportStatus), weights=[5, 20, 25, 50])[0]
    acknowledged = None if status is ReportStatus.received else created + timedelta(days=rng.randint(0, 9))
    row: dict[str, Any] = {
        "id": rid,
        "organisation_id": org,
        "organisation_key_id": key,
        "wrapped_key": _random_bytes(rng, WRAPPED_KEY_BYTES),
        "key_binding": 2,
        "data_key_generation": 1,
        "site_id": rng.randint(1, sites) if rng.random() < 0.9 else None,
        "country": rng.choice(builder.COUNTRIES),
        "channel": channel,
        "collected_date": created.date(),
        "language": rng.choice(LANGUAGES),
        "consent_share_buyers": rng.random() < 0.6,
        "consent_share_supplier": rng.random() < 0.3,
        "consent_contact": rng.random() < 0.4,
        "status": status,
        "created_dt": created,
        "acknowledged_dt": acknowledged,
        "acknowledge_due_dt": created + timedelta(days=7) if direct else None,
        "feedback_due_dt": created + timedelta(days=90) if direct else None,
    }
    for column, size in SEALED_BYTES.items():
        row[column] = _random_bytes(rng, rng.randint(size // 2, size * 2))
    return row


def add_reports(rng: random.Random, total: int, one_monitor: bool = False) -> None:
    """Worker reports spread over the monitor organisations, or all for the first one."""
    monitors = db.session.scalars(
        select(Organisation.id).where(Organisation.kind == OrganisationKind.monitor).order_by(Organisation.id)
    ).all()
    if one_monitor:
        monitors = monitors[:1]
    keys = _organisation_keys(list(monitors))
    sites = int(db.session.scalar(select(func.max(Site.id))) or 1)
    now = utcnow()
    first = _next_id(WorkerReport)
    rows: list[dict[str, Any]] = []
    for rid in range(first, first + total):
        org = monitors[rid % len(monitors)]
        rows.append(_report(rng, rid, org, keys[org], sites, now))
        if len(rows) == BATCH:
            _insert(WorkerReport, rows)
    _insert(WorkerReport, rows)


def fix_sequences() -> None:
    """Move PostgreSQL's sequences past the ids assigned here (SQLite needs nothing)."""
    builder.fix_sequences()
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("finding", "worker_report", "organisation", "organisation_key", "contract"):
        db.session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608 - our table names
        )
    db.session.commit()


def fill(
    sizes: Sizes, seed: int = 2026, one_monitor: bool = False
) -> tuple[builder.People, dict[str, float]]:
    """Fill the application's (migrated, empty) database; the seconds each part took.

    With ``one_monitor`` every worker report goes to the first monitor organisation (the one of
    ``people.monitors``' first key), so that one monitor lists (and exports) all of them.
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    today = utcnow().date()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    people, _built = builder.build(sizes.cases, sizes.sites, today, seed)
    timings["cases, sites, registry"] = time.perf_counter() - started
    for label, step in (
        ("organisations", lambda: add_organisations(rng, sizes.organisations)),
        ("contracts", lambda: add_contracts(rng, sizes.contracts, today)),
        ("findings", lambda: add_findings(rng, sizes.findings, today)),
        ("worker reports", lambda: add_reports(rng, sizes.reports, one_monitor)),
    ):
        started = time.perf_counter()
        step()
        timings[label] = time.perf_counter() - started
    fix_sequences()
    started = time.perf_counter()
    settle()
    timings["vacuum and analyze"] = time.perf_counter() - started
    return people, timings


def settle() -> None:
    """On PostgreSQL, ``VACUUM ANALYZE`` after the bulk load, as autovacuum would soon do.

    Without it the first minutes after a bulk load are measured with no planner statistics and
    no visibility map (an index-only scan then visits the table for every row), and autovacuum
    starts in the middle of the measurements. SQLite keeps no statistics unless asked and is
    left as it is.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def app_config(url: str, folder: Path) -> dict[str, Any]:
    """The benchmark application's configuration (throwaway secrets; JSON-serialisable)."""
    return test_config(url, INSTANCE_PATH=str(folder), DEMO_RELAX_TWO_FACTOR=True, MAIL_SERVER="")


def make_app(url: str, folder: Path, config: dict[str, Any] | None = None) -> Flask:
    """The application on an empty database, migrated (``config`` from :func:`app_config`)."""
    from alembic import command as alembic

    builder._check_empty(url)
    app = create_app(config or app_config(url, folder))
    alembic.upgrade(alembic_config(url), "heads")
    return app


def counts() -> dict[str, int]:
    tables = (
        "organisation",
        "site",
        "contract",
        "remediation_case",
        "finding",
        "corrective_action",
        "worker_report",
    )
    return {t: int(db.session.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in tables}  # noqa: S608


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1, help="1 = full size (default 0.1)")
    parser.add_argument("--database-url", help="an empty database to fill (default: a temporary SQLite one)")
    parser.add_argument(
        "--one-monitor", action="store_true", help="all worker reports to one monitor organisation"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'scale.sqlite3'}"
        app = make_app(url, Path(tmp))
        with app.app_context():
            started = time.perf_counter()
            _people, timings = fill(Sizes.at(args.scale), one_monitor=args.one_monitor)
            total = time.perf_counter() - started
            print(f"scale {args.scale:g}: {counts()}")
            for label, seconds in timings.items():
                print(f"  {label:<24} {seconds:8.1f} s")
            print(f"  {'total':<24} {total:8.1f} s")
            db.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
