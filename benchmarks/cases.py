"""Benchmark remediation at scale: the case and request lists, and the notification jobs.

Builds N cases (default 2,000) at a few hundred sites in a fresh database: 1-3 findings,
1-2 corrective actions in mixed states with deadlines spread around today (some overdue, some
due within the reminder window) and a few messages per case, the registry rows that link an
affiliate to a third of the sites, and a supplier addressed by a fifth of the actions. Rows are
inserted in bulk with ids assigned here, so that protected columns are encrypted for their row
as the operations would (``monitoring.core.keyring.protect``).

Then it measures, with the Flask test client logged in (HTML pages) or a bearer token (API):
the case board for a coordinator (all cases, then overdue priority cases), the board of the
affiliate, the supplier's requests and two API lists (median of 5 runs and the SQL statements
of one request); one run of ``run_notification_jobs`` over the whole data set (seconds, SQL
statements, rows created), a second run that must create nothing, and the peak of Python
allocations (tracemalloc) of the first run, repeated after undoing what it wrote.

    .venv/bin/python benchmarks/cases.py                    # 2,000 cases, SQLite
    .venv/bin/python benchmarks/cases.py --cases 20000
    .venv/bin/python benchmarks/cases.py --database-url postgresql+psycopg://postgres@127.0.0.1:54400/bench

SQLite goes to a temporary directory. A ``--database-url`` must name an empty database (the
benchmark refuses one with tables); it is migrated and filled, and left filled afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, inspect, select, text, update

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitoring import create_app  # noqa: E402 - needs ROOT on the path
from monitoring.accounts import operations as accounts  # noqa: E402
from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole  # noqa: E402
from monitoring.cases.deadlines import CLOSURE_PHASE, PLAN_PHASE, overdue_clause  # noqa: E402
from monitoring.cases.jobs import run_notification_jobs  # noqa: E402
from monitoring.cases.models import (  # noqa: E402
    ActionState,
    Case,
    CaseClosure,
    CaseEvent,
    CaseMessage,
    CaseOutcome,
    CaseState,
    CorrectiveAction,
    EventKind,
    EvidenceType,
    Finding,
    Severity,
    SupplierResponse,
    Visibility,
)
from monitoring.cases.permissions import visible_case_ids  # noqa: E402
from monitoring.cases.standards import STANDARDS  # noqa: E402
from monitoring.core.audit import AuditEntry, AuditHead  # noqa: E402
from monitoring.core.db import Base, db, make_engine  # noqa: E402
from monitoring.core.keyring import protect  # noqa: E402
from monitoring.core.migrate import alembic_config  # noqa: E402
from monitoring.core.testing import test_config  # noqa: E402
from monitoring.core.types import utcnow  # noqa: E402
from monitoring.notifications.models import Notification  # noqa: E402
from monitoring.supplychain.models import (  # noqa: E402
    Contract,
    ContractProduct,
    Disclosure,
    DisclosurePart,
    Product,
    ProductCategory,
    Site,
    SiteKind,
)

PASSWORD = "correct horse battery staple"  # noqa: S105 - the benchmark's own throwaway accounts
DOMAIN = "@demo.example"  # with DEMO_RELAX_TWO_FACTOR, staff sign in without a second factor
CHUNK = 1_000  # cases generated and inserted at a time
RUNS = 5
COUNTRIES = ("CN", "TH", "MY", "VN", "MX", "CZ")
CODES = [s.code for s in STANDARDS if not s.is_group]
SEVERITIES = (Severity.priority, Severity.major, Severity.minor)
# A case's state and the states its actions may be in.
CASE_STATES = (
    (
        CaseState.in_dialogue,
        25,
        (ActionState.requested, ActionState.plan_submitted, ActionState.plan_rejected),
    ),
    (
        CaseState.remediation,
        40,
        (
            ActionState.requested,
            ActionState.plan_submitted,
            ActionState.plan_accepted,
            ActionState.implemented,
            ActionState.not_verified,
        ),
    ),
    (CaseState.verification, 15, (ActionState.implemented, ActionState.verified)),
    (CaseState.closed, 20, (ActionState.closed,)),
)
TEXT = "Workers report 14-hour shifts and passports kept by the agency; the supplier is asked to act. " * 3


# --- building the data set ----------------------------------------------------------------------


@dataclass
class People:
    coordinators: list[User]
    monitors: dict[int, list[User]]  # by monitor organisation id
    affiliate: User  # of the organisation whose contract reaches a third of the sites
    suppliers: dict[int, list[User]]  # by supplier organisation id
    big_supplier: User  # of the organisation addressed by a fifth of the actions


@dataclass
class Built:
    cases: int = 0
    sites: int = 0
    findings: int = 0
    actions: int = 0
    messages: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    affiliate_cases: int = 0  # the cases the measured affiliate sees
    supplier_actions: int = 0  # the actions addressed to the big supplier
    overdue_actions: int = 0  # of open cases, with the deadline in force passed


def _user(org: Organisation, role: UserRole, label: str) -> User:
    return accounts.create_user(
        None,
        email=f"{label}{DOMAIN}",
        name=label.replace("-", " ").title(),
        role=role,
        organisation=org,
        password=PASSWORD,
        must_change_password=False,
    )


def create_people() -> People:
    """Organisations and users through the account operations (a few dozen rows)."""
    operator = accounts.create_organisation(None, "Benchmark Network", OrganisationKind.operator)
    coordinators = [_user(operator, UserRole.coordinator, f"coordinator-{n}") for n in range(3)]
    monitors = {}
    for n in range(4):
        org = accounts.create_organisation(None, f"Benchmark Monitor {n}", OrganisationKind.monitor, "TH")
        monitors[org.id] = [_user(org, UserRole.monitor, f"monitor-{n}-{m}") for m in range(2)]
    affiliates = [
        _user(
            accounts.create_organisation(None, f"Benchmark City {n}", OrganisationKind.affiliate),
            UserRole.affiliate,
            f"affiliate-{n}",
        )
        for n in range(3)
    ]
    suppliers = {}
    for n in range(10):
        org = accounts.create_organisation(None, f"Benchmark Supplier {n}", OrganisationKind.supplier)
        # The big supplier (n = 0) has three people, so each of its actions tells three users.
        suppliers[org.id] = [
            _user(org, UserRole.supplier, f"supplier-{n}-{m}") for m in range(3 if n == 0 else 1)
        ]
    db.session.commit()
    return People(coordinators, monitors, affiliates[0], suppliers, next(iter(suppliers.values()))[0])


def _insert(model: type[Base], rows: list[dict[str, Any]]) -> None:
    if rows:
        db.session.execute(insert(model), rows)
        rows.clear()


def _ct(value: str, model: type[Base], column: str, row: int) -> bytes:
    return protect(value.encode(), table=model.__tablename__, column=column, row=row)


def _dt(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def create_registry(rng: random.Random, people: People, sites: int, today: date) -> dict[int, set[int]]:
    """Sites, one product per supplier and per affiliate, contracts and disclosures.

    Affiliate ``k``'s product is disclosed at every ``(3 + k)``-th site, so the measured
    affiliate (k = 0) reaches a third of them. Returns, per site, the suppliers that disclose
    a product there (the ones its corrective actions can address).
    """
    site_rows = []
    for n in range(1, sites + 1):
        country = COUNTRIES[n % len(COUNTRIES)]
        name = f"Benchmark Plant {n:04d}"
        site_rows.append(
            {
                "id": n,
                "name": name,
                "address": f"{n} Industrial Road",
                "city": "Benchmark City",
                "country": country,
                "kind": rng.choice(list(SiteKind)),
                "workers_approx": rng.randint(200, 20_000),
                "match_key": f"benchmark plant {n:04d}|{n} industrial road|{country.lower()}",
                "name_key": f"benchmark plant {n:04d}|{country.lower()}",
            }
        )
    _insert(Site, site_rows)
    supplier_ids = list(people.suppliers)
    affiliate_orgs = db.session.scalars(
        select(Organisation.id)
        .where(Organisation.kind == OrganisationKind.affiliate)
        .order_by(Organisation.id)
    ).all()
    products = []
    for n in range(1, len(supplier_ids) + len(affiliate_orgs) + 1):
        products.append(
            {
                "id": n,
                "brand": "Benchmark",
                "model": f"Model {n}",
                "brand_key": "benchmark",
                "model_key": f"model {n}",
                "category": rng.choice(list(ProductCategory)),
            }
        )
    product_of = {
        org_id: row["id"] for org_id, row in zip([*supplier_ids, *affiliate_orgs], products, strict=True)
    }
    _insert(Product, products)
    contracts, contract_products = [], []
    for k, affiliate_id in enumerate(affiliate_orgs):
        supplier_id = supplier_ids[k + 1]
        contracts.append(
            {
                "id": k + 1,
                "affiliate_id": affiliate_id,
                "supplier_id": supplier_id,
                "reference": f"BM-{k + 1}",
                "title": f"Laptops and phones {k + 1}",
                "start_date": today - timedelta(days=400),
                "end_date": today + timedelta(days=400),
                "annual_spend": 1_000_000 * (k + 1),
                "currency": "EUR",
            }
        )
        # The contract covers the affiliate's own product only, so it reaches exactly its sites.
        contract_products.append({"id": k + 1, "contract_id": k + 1, "product_id": product_of[affiliate_id]})
    _insert(Contract, contracts)
    _insert(ContractProduct, contract_products)
    disclosing: dict[int, set[int]] = {n: set() for n in range(1, sites + 1)}
    disclosures = []

    def disclose(supplier_id: int, product_id: int, site_id: int) -> None:
        disclosing[site_id].add(supplier_id)
        disclosures.append(
            {
                "id": len(disclosures) + 1,
                "supplier_id": supplier_id,
                "product_id": product_id,
                "site_id": site_id,
                "part": rng.choice(list(DisclosurePart)),
                "valid_from": today - timedelta(days=300),
                "source": "Benchmark supplier list",
                "disclosed_by_id": people.suppliers[supplier_id][0].id,
            }
        )

    for site_id in range(1, sites + 1):
        for k, affiliate_id in enumerate(affiliate_orgs):
            if site_id % (3 + k) == k:
                disclose(supplier_ids[k + 1], product_of[affiliate_id], site_id)
        # Every site makes something of the big supplier and of two or three others.
        for supplier_id in [supplier_ids[0], *rng.sample(supplier_ids[1:], rng.randint(2, 3))]:
            disclose(supplier_id, product_of[supplier_id], site_id)
    _insert(Disclosure, disclosures)
    db.session.commit()
    return disclosing


def _deadlines(rng: random.Random, state: ActionState, requested: date, today: date) -> tuple[date, date]:
    """Plan and closure due dates: the one in force spread around today."""
    if state in PLAN_PHASE:
        plan = today + timedelta(days=rng.randint(-20, 25))
        return plan, plan + timedelta(days=rng.randint(30, 150))
    if state in CLOSURE_PHASE:
        closure = today + timedelta(days=rng.randint(-20, 100))
        return closure - timedelta(days=rng.randint(14, 60)), closure
    plan = requested + timedelta(days=14)
    return plan, plan + timedelta(days=rng.randint(30, 150))


class Builder:
    """Generates the cases CHUNK at a time and inserts each table's rows in bulk."""

    def __init__(self, rng: random.Random, people: People, disclosing: dict[int, set[int]], today: date):
        self.rng, self.people, self.disclosing, self.today = rng, people, disclosing, today
        self.now = _dt(today, 12)
        self.big_supplier_id = people.big_supplier.organisation_id
        self.ids = dict.fromkeys(("finding", "closure", "action", "response", "message", "event"), 0)
        self.rows: dict[type[Base], list[dict[str, Any]]] = {
            model: []
            for model in (
                Case,
                Finding,
                CaseClosure,
                CorrectiveAction,
                SupplierResponse,
                CaseMessage,
                CaseEvent,
            )
        }
        self.built = Built(sites=len(disclosing))

    def _next(self, name: str) -> int:
        self.ids[name] += 1
        return self.ids[name]

    def flush(self) -> None:
        for model, rows in self.rows.items():  # in foreign-key order
            self.built.rows[model.__tablename__] = self.built.rows.get(model.__tablename__, 0) + len(rows)
            _insert(model, rows)
        db.session.commit()

    def case(self, case_id: int) -> None:
        rng, today = self.rng, self.today
        site_id = rng.randint(1, self.built.sites)
        monitor_org = rng.choice(list(self.people.monitors))
        monitor = rng.choice(self.people.monitors[monitor_org])
        coordinators = self.people.coordinators
        lead = rng.choices([coordinators[0], coordinators[1], None], weights=[70, 20, 10])[0]
        state, _weight, action_states = rng.choices(CASE_STATES, weights=[c[1] for c in CASE_STATES])[0]
        opened = today - timedelta(days=rng.randint(5, 300))
        closed = state is CaseState.closed
        findings = []
        for _ in range(rng.randint(1, 3)):
            fid = self._next("finding")
            severity = rng.choices(SEVERITIES, weights=[20, 40, 40])[0]
            findings.append((fid, severity))
            self.rows[Finding].append(
                {
                    "id": fid,
                    "site_id": site_id,
                    "organisation_id": monitor_org,
                    "case_id": case_id,
                    "standard": rng.choice(CODES),
                    "severity": severity,
                    "workers_affected": rng.choice([None, rng.randint(1, 400)]),
                    "evidence_type": rng.choice(list(EvidenceType)),
                    "found_date": opened - timedelta(days=rng.randint(0, 30)),
                    "summary_ct": _ct(TEXT, Finding, "summary_ct", fid),
                    "created_by_id": monitor.id,
                    "created_dt": _dt(opened - timedelta(days=1)),
                }
            )
        severity = next(s for s in SEVERITIES if s in {f[1] for f in findings})
        self.rows[Case].append(
            {
                "id": case_id,
                "reference": f"BM-{case_id:07d}",
                "site_id": site_id,
                "monitor_organisation_id": monitor_org,
                "lead_coordinator_id": lead.id if lead else None,
                "state": state,
                "severity": severity,
                "outcome": rng.choice(list(CaseOutcome)) if closed else None,
                "opened_by_id": monitor.id,
                "opened_dt": _dt(opened),
                "state_changed_dt": _dt(opened + timedelta(days=3)),
                "closed_dt": self.now if closed else None,
            }
        )
        self._event(case_id, EventKind.case_opened, Visibility.internal, None, opened)
        if closed:
            cid = self._next("closure")
            self.rows[CaseClosure].append(
                {
                    "id": cid,
                    "case_id": case_id,
                    "outcome": self.rows[Case][-1]["outcome"],
                    "note_ct": _ct("Closed after verification.", CaseClosure, "note_ct", cid),
                    "closed_by_id": monitor.id,
                    "closed_dt": self.now,
                }
            )
        suppliers = []
        for _ in range(rng.randint(1, 2)):
            suppliers.append(
                self._action(case_id, rng.choice(findings), rng.choice(action_states), opened, monitor)
            )
        for _ in range(rng.randint(2, 4)):
            self._message(case_id, suppliers, monitor, opened)

    def _event(
        self,
        case_id: int,
        kind: EventKind,
        visibility: Visibility,
        supplier_id: int | None,
        day: date,
        **extra: Any,
    ) -> None:
        self.rows[CaseEvent].append(
            {
                "id": self._next("event"),
                "case_id": case_id,
                "kind": kind,
                "visibility": visibility,
                "supplier_id": supplier_id,
                "created_dt": _dt(day),
                **extra,
            }
        )

    def _action(
        self, case_id: int, finding: tuple[int, Severity], state: ActionState, opened: date, monitor: User
    ) -> int:
        rng = self.rng
        aid = self._next("action")
        # A fifth of the actions go to the big supplier, the others to a supplier of the site.
        site_id = self.rows[Case][-1]["site_id"]
        others = sorted(self.disclosing[site_id] - {self.big_supplier_id})
        supplier_id = self.big_supplier_id if aid % 5 == 0 else rng.choice(others)
        requested = opened + timedelta(days=rng.randint(1, 5))
        plan_due, closure_due = _deadlines(rng, state, requested, self.today)
        implemented = state in (ActionState.implemented, ActionState.verified, ActionState.not_verified)
        checked = state in (ActionState.verified, ActionState.not_verified)
        self.rows[CorrectiveAction].append(
            {
                "id": aid,
                "case_id": case_id,
                "finding_id": finding[0],
                "supplier_id": supplier_id,
                "state": state,
                "severity": finding[1],
                "request_ct": _ct(TEXT, CorrectiveAction, "request_ct", aid),
                "plan_due_date": plan_due,
                "closure_due_date": closure_due,
                "requested_by_id": self.people.coordinators[0].id,
                "requested_dt": _dt(requested),
                "state_changed_dt": _dt(requested + timedelta(days=2)),
                "implementation_ct": _ct(TEXT, CorrectiveAction, "implementation_ct", aid)
                if implemented
                else None,
                "implemented_dt": _dt(requested + timedelta(days=20)) if implemented else None,
                "verification_ct": _ct(TEXT, CorrectiveAction, "verification_ct", aid) if checked else None,
                "verified_by_id": monitor.id if checked else None,
                "verified_dt": _dt(requested + timedelta(days=30)) if checked else None,
                "closed_dt": self.now if state is ActionState.closed else None,
            }
        )
        self._event(
            case_id,
            EventKind.action_requested,
            Visibility.parties,
            supplier_id,
            requested,
            action_id=aid,
            finding_id=finding[0],
            to_state=ActionState.requested.value,
            due_date=plan_due,
        )
        if state is not ActionState.requested:
            self._response(aid, state, requested, supplier_id)
        return supplier_id

    def _response(self, action_id: int, state: ActionState, requested: date, supplier_id: int) -> None:
        rid = self._next("response")
        decided = state is not ActionState.plan_submitted
        rejected = state is ActionState.plan_rejected
        row = {
            "id": rid,
            "action_id": action_id,
            "target_date": requested + timedelta(days=40),
            "submitted_by_id": self.people.suppliers[supplier_id][0].id,
            "submitted_dt": _dt(requested + timedelta(days=6)),
            "accepted": (not rejected) if decided else None,
            "decided_by_id": self.people.coordinators[0].id if decided else None,
            "decided_dt": _dt(requested + timedelta(days=8)) if decided else None,
            "rejection_reason_ct": _ct(TEXT, SupplierResponse, "rejection_reason_ct", rid)
            if rejected
            else None,
        }
        for column in ("root_cause_ct", "corrective_ct", "preventive_ct"):
            row[column] = _ct(TEXT, SupplierResponse, column, rid)
        self.rows[SupplierResponse].append(row)

    def _message(self, case_id: int, suppliers: list[int], monitor: User, opened: date) -> None:
        mid = self._next("message")
        visibility = self.rng.choice(list(Visibility))
        supplier_id = self.rng.choice(suppliers) if visibility is Visibility.parties else None
        if supplier_id is not None and self.rng.random() < 0.5:
            author = self.people.suppliers[supplier_id][0]
        else:
            author = self.rng.choice([monitor, self.people.coordinators[0]])
        self.rows[CaseMessage].append(
            {
                "id": mid,
                "case_id": case_id,
                "author_id": author.id,
                "visibility": visibility,
                "supplier_id": supplier_id,
                "body_ct": _ct(TEXT, CaseMessage, "body_ct", mid),
                "created_dt": _dt(opened + timedelta(days=self.rng.randint(1, 60))),
            }
        )


def fix_sequences() -> None:
    """Move PostgreSQL's id sequences past the ids assigned here (SQLite needs nothing)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (
        Site,
        Product,
        Contract,
        ContractProduct,
        Disclosure,
        Case,
        Finding,
        CaseClosure,
        CorrectiveAction,
        SupplierResponse,
        CaseMessage,
        CaseEvent,
    ):
        table = model.__tablename__
        db.session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608 - our table names
        )
    db.session.commit()


def build(cases: int, sites: int, today: date, seed: int = 2026) -> tuple[People, Built]:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    people = create_people()
    disclosing = create_registry(rng, people, sites, today)
    builder = Builder(rng, people, disclosing, today)
    for case_id in range(1, cases + 1):
        builder.case(case_id)
        if case_id % CHUNK == 0:
            builder.flush()
    builder.flush()
    fix_sequences()
    built = builder.built
    built.cases, built.findings = cases, builder.ids["finding"]
    built.actions, built.messages = builder.ids["action"], builder.ids["message"]
    affiliate = db.session.get(User, people.affiliate.id)
    built.affiliate_cases = db.session.scalar(
        select(func.count()).select_from(visible_case_ids(affiliate, today).subquery())
    )
    built.supplier_actions = db.session.scalar(
        select(func.count()).where(CorrectiveAction.supplier_id == people.big_supplier.organisation_id)
    )
    built.overdue_actions = db.session.scalar(
        select(func.count())
        .select_from(CorrectiveAction)
        .join(Case, Case.id == CorrectiveAction.case_id)
        .where(Case.state != CaseState.closed, overdue_clause(today))
    )
    db.session.commit()  # ends the reading transaction; the users stay loaded for the caller
    return people, built


# --- measuring ----------------------------------------------------------------------------------


class StatementCounter:
    """Counts the SQL statements an engine runs."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


@contextmanager
def counted(counter: StatementCounter) -> Iterator[dict[str, float]]:
    result: dict[str, float] = {}
    before, started = counter.count, time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - started
    result["statements"] = counter.count - before


def logged_in(app: Any, email: str) -> Any:
    """A test client signed in through the login page (no second factor for demo accounts)."""
    from tests.accounts.two_factor_helpers import complete_login, page_csrf

    client = app.test_client()
    token = page_csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    response = complete_login(client, email, response)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def bearer(app: Any, user: User) -> dict[str, str]:
    with app.app_context():
        _token, clear = accounts.create_token(db.session.get(User, user.id), "benchmark")
        db.session.commit()
    return {"Authorization": f"Bearer {clear}"}


def time_get(counter: StatementCounter, client: Any, url: str, headers: dict[str, str] | None = None) -> dict:
    """Median milliseconds of RUNS requests (after one to warm caches) and the statements of each."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:500])
    times, statements = [], set()
    for _ in range(RUNS):
        with counted(counter) as run:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
        times.append(run["seconds"])
        statements.add(int(run["statements"]))
    # Rows listed: the API's items, or the table rows of a page (each starts with a row header).
    if response.is_json:
        items = len(response.get_json()["items"])
    else:
        items = response.get_data(as_text=True).count('<th scope="row">')
    return {
        "ms": statistics.median(times) * 1000,
        "statements": "/".join(str(s) for s in sorted(statements)),
        "items": items,
    }


def measure_pages(app: Any, counter: StatementCounter, people: People) -> list[tuple[str, str, dict]]:
    coordinator = logged_in(app, people.coordinators[0].email)
    affiliate = logged_in(app, people.affiliate.email)
    supplier = logged_in(app, people.big_supplier.email)
    coordinator_api = bearer(app, people.coordinators[0])
    supplier_api = bearer(app, people.big_supplier)
    return [
        ("coordinator", "/cases/", time_get(counter, coordinator, "/cases/")),
        (
            "coordinator",
            "/cases/?overdue=y&severity=priority",
            time_get(counter, coordinator, "/cases/?overdue=y&severity=priority"),
        ),
        ("affiliate", "/cases/", time_get(counter, affiliate, "/cases/")),
        ("supplier", "/requests/", time_get(counter, supplier, "/requests/")),
        (
            "coordinator",
            "/api/v1/cases?limit=50",
            time_get(counter, app.test_client(), "/api/v1/cases?limit=50", coordinator_api),
        ),
        (
            "supplier",
            "/api/v1/actions?overdue=true",
            time_get(counter, app.test_client(), "/api/v1/actions?overdue=true", supplier_api),
        ),
    ]


COUNTED = (Notification, CaseEvent, AuditEntry)


def _high_ids() -> dict[type[Base], int]:
    return {model: db.session.scalar(select(func.coalesce(func.max(model.id), 0))) for model in COUNTED}


def _created(before: dict[type[Base], int]) -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).where(model.id > before[model]))
        for model in COUNTED
    }


def run_jobs(counter: StatementCounter, today: date, now: datetime) -> dict[str, Any]:
    before = _high_ids()
    with counted(counter) as run:
        result = run_notification_jobs(today, now)
    return {
        **run,
        "created": _created(before),
        "reminders": result.reminders,
        "overdue": result.overdue,
        "escalated": result.escalated,
        "skipped": result.delivery.skipped,
    }


def undo_jobs(before: dict[type[Base], int], head: tuple[int, str]) -> None:
    """Delete what a jobs run wrote and clear the escalations, so it can run again from the same state."""
    for model in COUNTED:
        db.session.execute(model.__table__.delete().where(model.__table__.c.id > before[model]))
    db.session.execute(update(CorrectiveAction).values(escalated_dt=None))
    db.session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=head[0], last_hash=head[1]))
    db.session.commit()


def measure_jobs(counter: StatementCounter, today: date) -> dict[str, Any]:
    now = _dt(today, 12)
    before = _high_ids()
    head = db.session.execute(select(AuditHead.last_id, AuditHead.last_hash)).one()
    first = run_jobs(counter, today, now)
    second = run_jobs(counter, today, now)
    db.session.expunge_all()
    undo_jobs(before, tuple(head))
    tracemalloc.start()
    traced = run_jobs(counter, today, now)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert traced["created"] == first["created"], (traced["created"], first["created"])
    return {"first": first, "second": second, "peak_mib": peak / 2**20}


# --- the run ------------------------------------------------------------------------------------


def _check_empty(url: str) -> None:
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        sys.exit(f"{url} is not empty ({len(tables)} tables); give an empty database")


def run(cases: int, sites: int, url: str | None) -> None:
    from alembic import command as alembic

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = url or f"sqlite:///{folder / 'bench.sqlite3'}"
        _check_empty(url)
        app = create_app(
            test_config(url, INSTANCE_PATH=str(folder), DEMO_RELAX_TWO_FACTOR=True, MAIL_SERVER="")
        )
        alembic.upgrade(alembic_config(url), "head")
        engine = db.state(app).engine
        today = utcnow().date()
        with app.app_context():
            started = time.perf_counter()
            people, built = build(cases, sites, today)
            build_seconds = time.perf_counter() - started
        counter = StatementCounter(engine)
        pages = measure_pages(app, counter, people)
        with app.app_context():
            jobs = measure_jobs(counter, today)
        engine.dispose()
        report(url, built, build_seconds, pages, jobs)


def report(url: str, built: Built, build_seconds: float, pages: list, jobs: dict[str, Any]) -> None:
    rows = sum(built.rows.values())
    print(
        f"{engine_name(url)}: {built.cases:,} cases at {built.sites} sites, {built.findings:,} findings, "
        f"{built.actions:,} actions, {built.messages:,} messages ({rows:,} rows) "
        f"built in {build_seconds:.1f} s"
    )
    print(
        f"the affiliate sees {built.affiliate_cases:,} cases, the big supplier is addressed by "
        f"{built.supplier_actions:,} actions; {built.overdue_actions:,} actions are overdue"
    )
    print()
    print(f"{'user':<12} {'GET':<40} {'median ms':>9} {'SQL':>5} {'rows':>5}")
    for who, url_path, r in pages:
        print(f"{who:<12} {url_path:<40} {r['ms']:>9.1f} {r['statements']:>5} {r['items']:>5}")
    print()
    first, second = jobs["first"], jobs["second"]
    created = first["created"]
    print(
        f"jobs run 1: {first['seconds']:.2f} s, {first['statements']:,} SQL statements; "
        f"{first['reminders']:,} reminders, {first['overdue']:,} overdue notices, "
        f"{first['escalated']:,} escalations "
        f"({created['notification']:,} notifications, {created['case_event']:,} events, "
        f"{created['audit_entry']:,} audit entries; {first['skipped']:,} e-mails skipped)"
    )
    print(
        f"jobs run 2: {second['seconds']:.2f} s, {second['statements']:,} SQL statements; "
        f"{sum(second['created'].values())} rows created"
    )
    print(f"jobs run 1, peak Python memory (tracemalloc): {jobs['peak_mib']:.1f} MiB")


def engine_name(url: str) -> str:
    name = url.split(":", 1)[0].split("+", 1)[0]
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(name, name)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2_000, help="how many cases (default 2,000)")
    parser.add_argument("--sites", type=int, default=300, help="at how many sites (default 300)")
    parser.add_argument("--database-url", help="an empty database to use instead of a temporary SQLite one")
    args = parser.parse_args(argv)
    run(args.cases, args.sites, args.database_url)


if __name__ == "__main__":
    main(sys.argv[1:])
