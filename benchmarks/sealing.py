"""Sealing and opening a report with X25519 and with the post-quantum hybrid, on this machine.

``.venv/bin/python benchmarks/sealing.py``

For each HPKE suite it times what filing and opening a report cost in cryptography alone:
sealing (a fresh data key, the three sealed fields, the data key sealed to the organisation's
public key) and opening (the member's grant unsealed to the organisation's private key, the data
key unsealed with it, the three fields decrypted), making a key pair, and the sizes stored.

Then it files ``--intake`` reports (500) through ``sealing.create_report`` (a fresh data key,
the three fields sealed, the audit entry) and as many plaintext ORM inserts of the same row
(the same sizes, no sealing, no audit), 100 a transaction as the survey import commits, the
batches of the two kinds alternating, on a fresh SQLite database with the demo data (or the
empty ``--database-url`` given): time and SQL statements per report, and the ratio plaintext /
sealed (the goal is at least 0.70); then as many again through the survey import's bulk path
(``sealing_bulk.create_reports``, 100 a call and a transaction), for reports a second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitoring.core import crypto  # noqa: E402

IDENTITY = json.dumps({"name": "Somsri Test", "contact": "+66 80 000 0000", "gender": "woman"}).encode()
TESTIMONY = json.dumps(
    "We work every Sunday without overtime pay; the agency keeps our passports. " * 6
).encode()
WORKPLACE = json.dumps("Line 4, building B, the factory by the river").encode()
FIELDS = {"identity_sealed": IDENTITY, "testimony_sealed": TESTIMONY, "workplace_sealed": WORKPLACE}


def per_call_ms(fn, n: int) -> float:
    fn()  # warm up
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1000


def measure(suite: str, n: int) -> dict[str, float]:
    org_private, org_public = crypto.generate_key_pair(suite)
    member_private, member_public = crypto.generate_key_pair(suite)
    grant = crypto.seal(member_public, org_private, context=("organisation_key_grant", 1, 1))

    def seal_report() -> tuple[bytes, dict[str, bytes]]:
        data_key = crypto.new_key()
        sealed = {
            column: crypto.encrypt_field(data_key, value, table="worker_report", column=column, row=1)
            for column, value in FIELDS.items()
        }
        return crypto.seal(org_public, data_key, context=("worker_report", "data_key", 1, 1)), sealed

    wrapped, sealed = seal_report()

    def open_report() -> None:
        private = crypto.unseal(member_private, grant, context=("organisation_key_grant", 1, 1))
        data_key = crypto.unseal(private, wrapped, context=("worker_report", "data_key", 1, 1))
        for column, blob in sealed.items():
            crypto.decrypt_field(data_key, blob, table="worker_report", column=column, row=1)

    return {
        "seal": per_call_ms(seal_report, n),
        "open": per_call_ms(open_report, n),
        "keygen": per_call_ms(lambda: crypto.generate_key_pair(suite), n),
        "public": len(org_public),
        "wrapped": len(wrapped),
        "grant": len(grant),
    }


# --- sealed intake against a plaintext insert ---------------------------------------------------

BATCH = 100  # reports a transaction, as the survey import commits


def intake_app(folder: Path, url: str | None) -> Any:
    """The app on a fresh database with the demo data (its monitor organisations have keys)."""
    os.environ.update(
        MONITORING_ENV="development",
        MONITORING_INSTANCE_PATH=str(folder),
        MONITORING_DATABASE_URL=url or f"sqlite:///{folder / 'intake.sqlite'}",
        MONITORING_DEMO_RELAX_TWO_FACTOR="1",
    )
    from alembic import command

    from monitoring import create_app
    from monitoring.core.devkeys import ensure_dev_keyring, ensure_dev_secrets
    from monitoring.core.migrate import alembic_config

    ensure_dev_secrets(folder)
    ensure_dev_keyring(folder)
    app = create_app()
    command.upgrade(alembic_config(os.environ["MONITORING_DATABASE_URL"]), "heads")  # the day's several heads
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    if result.exit_code != 0:
        raise SystemExit(f"flask demo load failed:\n{result.output}")
    return app


def _report_fields(organisation: Any, site: Any) -> dict[str, Any]:
    from monitoring.testimony.models import ReportChannel

    return {
        "organisation": organisation,
        "site": site,
        "country": None,
        "channel": ReportChannel.survey,
        "collected_date": date(2026, 11, 30),
        "language": "th",
        "consent_share_buyers": True,
        "consent_share_supplier": False,
        "consent_contact": True,
        "retaliation_risk": None,
    }


def intake(n: int, url: str | None) -> dict[str, float]:
    """Milliseconds and SQL statements per report: sealed (``create_report``) and plaintext."""
    from sqlalchemy import event, select

    from monitoring.accounts.models import OrganisationKey
    from monitoring.core.db import db
    from monitoring.supplychain.models import Site
    from monitoring.testimony import sealing, sealing_bulk
    from monitoring.testimony.models import IssueCategory, ReportCategory, ReportChannel, WorkerReport

    with tempfile.TemporaryDirectory(prefix="intake-") as tmp:
        app = intake_app(Path(tmp), url)
        with app.app_context():
            statements = [0]
            event.listen(
                db.engine,
                "before_cursor_execute",
                lambda *_args: statements.__setitem__(0, statements[0] + 1),
            )
            org_key = db.session.scalars(select(OrganisationKey).order_by(OrganisationKey.id)).first()
            organisation, site = org_key.organisation, db.session.scalars(select(Site).limit(1)).first()
            categories = [IssueCategory.forced_labour, IssueCategory.recruitment_fees]
            identity = sealing.Identity(**json.loads(IDENTITY))
            testimony = sealing.Testimony(text=json.loads(TESTIMONY), categories=categories)

            def sealed() -> None:
                sealing.create_report(
                    **_report_fields(organisation, site),
                    identity=identity,
                    testimony=testimony,
                    workplace=json.loads(WORKPLACE),
                )

            def plaintext() -> None:
                fields = _report_fields(organisation, site)
                fields.pop("country")
                report = WorkerReport(
                    **fields,
                    country=site.country,
                    organisation_key_id=org_key.id,
                    wrapped_key=os.urandom(1_169),
                    data_key_generation=org_key.version,
                    key_binding=sealing.BOUND,
                    identity_sealed=IDENTITY,
                    testimony_sealed=TESTIMONY,
                    workplace_sealed=WORKPLACE,
                    categories=[ReportCategory(category=c) for c in categories],
                )
                db.session.add(report)
                db.session.flush()

            # Batches of each kind alternate (plaintext, sealed, sealed, plaintext, ...), so both
            # see the same machine: on a shared one the load changes within seconds.
            makers = {"plaintext": plaintext, "sealed": sealed}
            elapsed = dict.fromkeys(makers, 0.0)
            counted = dict.fromkeys(makers, 0)
            for make in makers.values():
                make()
                db.session.commit()  # warm up
            for batch in range(max(1, n // BATCH)):
                order = list(makers) if batch % 2 == 0 else list(reversed(makers))
                for name in order:
                    before, started = statements[0], time.perf_counter()
                    for _ in range(BATCH):
                        makers[name]()
                    db.session.commit()
                    elapsed[name] += time.perf_counter() - started
                    counted[name] += statements[0] - before
            reports = max(1, n // BATCH) * BATCH
            results: dict[str, float] = {}
            for name in makers:
                results[f"{name}_ms"] = elapsed[name] / reports * 1000
                results[f"{name}_sql"] = counted[name] / reports  # SQLite: with a BEGIN each batch
            # The survey import's bulk path: the same rows, a whole batch sealed and inserted at once.
            new = sealing_bulk.NewReport(
                site_id=site.id,
                country=site.country,
                collected_date=date(2026, 11, 30),
                language="th",
                consent_share_buyers=True,
                consent_share_supplier=False,
                consent_contact=True,
                retaliation_risk=None,
                identity=identity,
                testimony=testimony.text,
                categories=categories,
                workplace=json.loads(WORKPLACE),
            )
            before, started = statements[0], time.perf_counter()
            for _ in range(max(1, n // BATCH)):
                sealing_bulk.create_reports(
                    organisation=organisation,
                    reports=[new] * BATCH,
                    channel=ReportChannel.survey,
                    created_by=None,
                    survey_import_id=None,
                )
                db.session.commit()
            results["bulk_ms"] = (time.perf_counter() - started) / reports * 1000
            results["bulk_sql"] = (statements[0] - before) / reports
            db.session.remove()
            db.engine.dispose()
    return results


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs of each cryptographic step (2000)")
    parser.add_argument("--intake", type=int, default=500, help="reports filed each way (500; 0: skip)")
    parser.add_argument("--database-url", help="an empty database for the intake (default: SQLite)")
    args = parser.parse_args(argv)
    n = args.runs
    results = {suite: measure(suite, n) for suite in crypto.SUITES}
    print(f"{'':<44} {'X25519':>12} {'ML-KEM-768 + X25519':>20}")
    rows = [
        ("seal a report (data key, 3 fields, HPKE)", "seal", "ms"),
        ("open a report (grant, data key, 3 fields)", "open", "ms"),
        ("make a key pair", "keygen", "ms"),
        ("public key", "public", "bytes"),
        ("sealed data key (per report)", "wrapped", "bytes"),
        ("organisation key sealed to a member", "grant", "bytes"),
    ]
    for label, key, unit in rows:
        x25519, hybrid = results[crypto.SUITE_X25519][key], results[crypto.SUITE_HYBRID][key]
        if unit == "ms":
            print(f"{label:<44} {x25519:>9.3f} ms {hybrid:>17.3f} ms")
        else:
            print(f"{label:<44} {x25519:>6,.0f} bytes {hybrid:>14,.0f} bytes")
    if args.intake:
        got = intake(args.intake, args.database_url)
        where = "SQLite" if not args.database_url else "PostgreSQL"
        print(f"\nIntake on {where}, {args.intake} reports each way, {BATCH} a transaction")
        print(f"{'plaintext ORM insert':<44} {got['plaintext_ms']:>9.3f} ms {got['plaintext_sql']:>8.2f} SQL")
        print(
            f"{'sealed report (create_report)':<44} {got['sealed_ms']:>9.3f} ms {got['sealed_sql']:>8.2f} SQL"
        )
        ratio = got["plaintext_ms"] / got["sealed_ms"]
        print(f"{'ratio plaintext / sealed (goal >= 0.70)':<44} {ratio:>9.2f}    ({1 / ratio:.1f}x)")
        print(f"{'sealed reports per second':<44} {1000 / got['sealed_ms']:>9.0f}")
        bulk = "bulk (sealing_bulk.create_reports)"
        print(f"{bulk:<44} {got['bulk_ms']:>9.3f} ms {got['bulk_sql']:>8.2f} SQL")
        print(f"{'bulk sealed reports per second':<44} {1000 / got['bulk_ms']:>9.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
