"""Attack: a buyer, supplier, other monitor, admin or outsider reads via the API a field not meant for them.
Defence: per-role output from the permissions modules; a crawl of every /api/v1 GET route as every role.

(The attack that started it: a buyer read a case's closing note, meant for monitors and coordinators,
at GET /api/v1/cases/{id}; the page hid it.)

The world (built through the operations, on tests/cases/helpers.py): case C1 at the site, worked by
``monitors``, concerns affiliate A and has corrective actions for supplier X and supplier Y, with
plans, a rejection, evidence, a verification, a deadline change, a message of every visibility with a
file, a closure with its note and remedy, and a reopening. Case C2 at the other site is worked by
``other_monitors`` and concerns affiliate B. There are findings in no case of both monitor
organisations, contracts of other buyers and suppliers, a duplicate-site proposal, a change of who
receives a country's reports, and worker reports (one of them anonymous, one from a survey import)
whose sealed fields hold the worker canary. The afternoon's features add a saved column mapping of the
coordinators' organisation and one of ``monitors``, a circularity report of supplier Y on affiliate A's
contract, queried with a reason, a third-party audit at the site with a finding's text and a crosswalk
note, a country's risk level with its source, a facility list held for its columns and two survey uploads
queued as jobs (one held for its columns).

Each canary names the roles that may read it. Every GET route is filled in with the ids of the
world's objects (every combination), list answers are followed page by page and into each item's
own route, and any canary in an answer (body or headers) to a role not named fails the test, as does
a canary that a role named never met (the crawl must reach what it guards) and a GET route whose
variables the crawl cannot fill in (a new route must be added here, with its canaries).
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import select

from monitoring.accounts.models import Organisation, User
from monitoring.cases import operations
from monitoring.cases.audits import operations as audits
from monitoring.cases.models import Case, CaseFile, CaseState, CorrectiveAction, RemedyKind, Visibility
from monitoring.core.column_mapping import save_mapping
from monitoring.core.db import db
from monitoring.supplychain import duplicates
from monitoring.supplychain.circularity import operations as circularity
from monitoring.supplychain.circularity.operations import FIELDS as CIRCULARITY_FIELDS
from monitoring.supplychain.import_jobs import queue_facility_import
from monitoring.supplychain.import_mapping import FACILITY_MAPPING
from monitoring.supplychain.models import Contract, Disclosure, Site
from monitoring.supplychain.risk.operations import set_country_risk
from monitoring.testimony import operations as testimony
from monitoring.testimony import routing
from monitoring.testimony.models import WorkerReport
from monitoring.testimony.operations_retaliation import flag_retaliation
from monitoring.testimony.sealing import Identity
from monitoring.testimony.survey import import_survey
from monitoring.testimony.survey_jobs import queue_survey_import
from tests.cases.conftest import case_world  # noqa: F401  (the world's fixture)
from tests.cases.helpers import CaseWorld
from tests.testimony.monitor_helpers import PDF, intake_data, make_anonymous_report
from tests.testimony.test_canary import CANARY as WORKER_CANARY
from tests.testimony.test_canary import leaks as worker_leaks
from tests.testimony.test_survey import GROUPED, kobo_csv

ROLES = (
    "admin",
    "coordinator",
    "monitor",
    "other_monitor",
    "affiliate",
    "affiliate_b",
    "supplier",
    "supplier_y",
    "anonymous",
)
API = "/api/v1/"
MAX_PAGES = 100
MAX_REQUESTS = 2500
# Who reads what (see the module docstring for the world).
C1_STAFF = {"coordinator", "monitor"}
C1_BUYERS = C1_STAFF | {"affiliate"}
X_PARTIES = C1_BUYERS | {"supplier"}
Y_PARTIES = C1_BUYERS | {"supplier_y"}
C2_STAFF = {"coordinator", "other_monitor"}
C2_BUYERS = C2_STAFF | {"affiliate_b"}
REGISTRY = {"coordinator", "monitor", "other_monitor"}
# The audit log records changes to the registry with their values (never protected text), and
# administrators read the audit log.
AUDITED = REGISTRY | {"admin"}


class Canaries:
    """Distinct texts, each with the roles that may read it."""

    def __init__(self) -> None:
        self.readers: dict[str, frozenset[str]] = {}

    def __call__(self, label: str, readers: Iterable[str]) -> str:
        text = f"CANARY_{label}_END"
        assert text not in self.readers, label
        self.readers[text] = frozenset(readers)
        return text


def _upload(canary: str) -> operations.Upload:
    """A PDF named after the canary and holding it."""
    body = PDF + canary.encode()
    return operations.Upload(f"{canary}.pdf", "application/pdf", io.BytesIO(body), len(body))


def _plan(canary: Canaries, label: str, readers: set[str]) -> operations.PlanData:
    return operations.PlanData(
        root_cause=canary(f"root_cause_{label}", readers),
        corrective=canary(f"corrective_{label}", readers),
        preventive=canary(f"preventive_{label}", readers),
        target_date=date(2030, 1, 31),
    )


def build_world(w: CaseWorld, canary: Canaries) -> dict[str, list[int]]:
    """Plant the canaries; return the ids to fill each route variable with."""
    registry = w.registry
    # --- supply chain: supplier Y also makes a server for affiliate A at the site; contracts of
    # other buyers and suppliers; a duplicate-site proposal (coordinators only).
    server = registry.product(f"Server {w.site}", category="server")
    contract_ay = registry.contract(
        w.orgs["affiliate_a"],
        w.orgs["supplier_y"],
        [server],
        reference=canary("contract_ay", AUDITED | {"affiliate", "supplier_y"}),
    )
    contract_bx = registry.contract(
        w.orgs["affiliate_b"],
        w.orgs["supplier_x"],
        [],
        reference=canary("contract_bx", AUDITED | {"affiliate_b", "supplier"}),
    )
    registry.disclose(w.users["supplier_y"].id, server, w.site)
    twin_a, twin_b = registry.site(f"Twin Works {w.site}"), registry.site(f"Twin Works {w.site} Ltd")
    with w.session():
        duplicate = duplicates.propose_duplicate(
            w.user("coordinator"),
            db.session.get(Site, twin_a),
            db.session.get(Site, twin_b),
            canary("duplicate_reason", {"coordinator", "admin"}),
        ).id

    # --- testimony: the worker canary in sealed fields only (no GET route opens them).
    with w.session():
        report = testimony.record_report(
            w.user("monitor"),
            intake_data(
                site=db.session.get(Site, w.site),
                country="CN",
                identity=Identity(name=WORKER_CANARY, contact=f"{WORKER_CANARY}@example.org"),
                testimony=f"The agent kept our passports: {WORKER_CANARY}",
                workplace=WORKER_CANARY,
            ),
        ).id
    anonymous, _receipt = make_anonymous_report(w.app, w.users["monitor"], text=WORKER_CANARY)
    # The worker flags retaliation: an alert for the receiving organisation's monitors only (it
    # carries no text of its own; the worker's words stay in the sealed conversation).
    with w.session():
        alert = flag_retaliation(db.session.get(WorkerReport, anonymous)).id
    with w.session():
        coverage_change = routing.request_change(
            w.user("coordinator"), country="VN", organisation=db.session.get(Organisation, w.orgs["monitors"])
        ).id
    survey_file = kobo_csv(
        [
            {
                "interview/testimony": WORKER_CANARY,
                "identity/worker_name": WORKER_CANARY,
                "language": "th",
                "consent/consent_share_buyers": "no",
            }
        ],
        questions=GROUPED,
    )
    with w.session():
        monitor = w.user("monitor")
        survey = import_survey(
            monitor, monitor.organisation, survey_file, site=db.session.get(Site, w.site)
        ).id

    # --- findings: C1's, C2's, and one in no case for each monitor organisation.
    finding_c1 = w.finding(report_ids=[report], summary=canary("summary_c1", C1_BUYERS), severity="major")
    finding_c2 = w.finding(by="other_monitor", site_id=w.other_site, summary=canary("summary_c2", C2_BUYERS))
    uncased = w.finding(summary=canary("summary_uncased", C1_STAFF))
    other_uncased = w.finding(by="other_monitor", summary=canary("summary_other_org", C2_STAFF))
    c1 = w.case(findings=[finding_c1])
    c2 = w.case(findings=[finding_c2], site_id=w.other_site)

    # --- C1's corrective actions, one per supplier, along their whole path.
    actions = {
        "x": w.action(c1, supplier="supplier_x", request=canary("request_x", X_PARTIES)),
        "y": w.action(c1, supplier="supplier_y", request=canary("request_y", Y_PARTIES)),
    }
    readers = {"x": X_PARTIES, "y": Y_PARTIES}
    supplier_of = {"x": "supplier", "y": "supplier_y"}
    with w.session():
        action = db.session.get(CorrectiveAction, actions["x"])
        operations.change_deadlines(
            w.user("coordinator"),
            action,
            action.plan_due_date + timedelta(days=1),
            action.closure_due_date - timedelta(days=1),
            canary("deadline_reason_x", X_PARTIES),
        )
    for key, action_id in actions.items():
        with w.session():
            action = db.session.get(CorrectiveAction, action_id)
            supplier = w.user(supplier_of[key])
            operations.submit_plan(supplier, action, _plan(canary, f"{key}_first", readers[key]))
            operations.reject_plan(w.user("coordinator"), action, canary(f"rejection_{key}", readers[key]))
            operations.submit_plan(supplier, action, _plan(canary, key, readers[key]))
            operations.accept_plan(w.user("coordinator"), action)
    w.advance_case(c1, CaseState.remediation)
    for key, action_id in actions.items():
        with w.session():
            operations.report_implemented(
                w.user(supplier_of[key]),
                db.session.get(CorrectiveAction, action_id),
                canary(f"implementation_{key}", readers[key]),
                [_upload(canary(f"evidence_{key}", readers[key]))],
            )
    w.advance_case(c1, CaseState.verification)
    for key, action_id in actions.items():
        with w.session():
            action = db.session.get(CorrectiveAction, action_id)
            operations.verify_action(
                w.user("monitor"), action, True, canary(f"verification_{key}", readers[key])
            )
            operations.close_action(w.user("coordinator"), action)

    # --- the dialogue: every visibility, from every side, each with a file.
    with w.session():
        case = db.session.get(Case, c1)
        for author, visibility, label, supplier, who in (
            ("monitor", Visibility.internal, "internal_c1", None, C1_STAFF),
            ("coordinator", Visibility.buyers, "buyers_c1", None, C1_BUYERS),
            ("affiliate", Visibility.buyers, "from_affiliate", None, C1_BUYERS),
            ("coordinator", Visibility.parties, "parties_x", "supplier_x", X_PARTIES),
            ("coordinator", Visibility.parties, "parties_y", "supplier_y", Y_PARTIES),
            ("supplier", Visibility.parties, "from_supplier_x", "supplier_x", X_PARTIES),
            ("supplier_y", Visibility.parties, "from_supplier_y", "supplier_y", Y_PARTIES),
        ):
            body = canary(f"message_{label}", who)
            operations.post_message(
                w.user(author),
                case,
                visibility,
                body,
                supplier_id=w.orgs[supplier] if supplier else None,
                files=[_upload(canary(f"file_{label}", who))],
            )
        case2 = db.session.get(Case, c2)
        operations.post_message(
            w.user("other_monitor"), case2, Visibility.internal, canary("message_internal_c2", C2_STAFF)
        )
        operations.post_message(
            w.user("coordinator"), case2, Visibility.buyers, canary("message_buyers_c2", C2_BUYERS)
        )

    # --- C1 closed with a note for staff and a remedy for buyers, then reopened with a reason.
    w.close(
        c1,
        note=canary("closing_note", C1_STAFF),
        remedies=[
            operations.RemedyData(
                kind=RemedyKind.fees_repaid,
                amount=Decimal("1250.00"),
                currency="USD",
                workers_covered=12,
                description=canary("remedy", C1_BUYERS),
            )
        ],
    )
    with w.session():
        operations.reopen_case(
            w.user("coordinator"), db.session.get(Case, c1), canary("reopen_reason", C1_BUYERS)
        )

    # --- a facility list queued by the coordinator: its job (with the file's name) is its owner's
    # to follow; the audit log records the name only once the import is applied.
    with w.session():
        job = queue_facility_import(
            w.user("coordinator"),
            io.BytesIO(b"os_id,name\n"),
            f"{canary('job_file', {'coordinator'})}.csv",
        ).id

    more = _plant_afternoon(w, canary, contract_ay, server, survey_file)

    with w.app.app_context():
        files = list(db.session.scalars(select(CaseFile.id).where(CaseFile.case_id.in_([c1, c2]))))
        disclosures = list(db.session.scalars(select(Disclosure.id)))
        organisations = list(db.session.scalars(select(Organisation.id)))
        users = list(db.session.scalars(select(User.id)))
    return {
        "case_id": [c1, c2],
        "action_id": list(actions.values()),
        "finding_id": [finding_c1, finding_c2, uncased, other_uncased],
        "file_id": files,
        # Worker reports (the first is the one whose links are checked); circularity reports'
        # routes name theirs circularity_id.
        "report_id": [report, anonymous],
        "import_id": [survey],
        "contract_id": [*w.contracts.values(), contract_ay, contract_bx],
        "product_id": [*w.products.values(), server],
        "site_id": [w.site, w.other_site, twin_a, twin_b],
        "disclosure_id": disclosures,
        "organisation_id": organisations,
        "user_id": users,
        "duplicate_id": [duplicate],
        "change_id": [coverage_change],
        "alert_id": [alert],
        "job_id": [job, *more["held_job_id"], *more["survey_job_id"]],
        # The afternoon's own (the names no route uses only serve the checks below).
        **more,
    }


def _plant_afternoon(
    w: CaseWorld, canary: Canaries, contract_ay: int, server: int, survey_file: bytes
) -> dict[str, list[int]]:
    """The afternoon's features: saved column mappings, a circularity report, a third-party audit
    and the crosswalk, country risk, a facility list held for its columns and a queued survey."""
    # --- saved column mappings: their organisation's coordinators or monitors only (admin, in the
    # operator's organisation, does not import and gets 404).
    with w.session():
        operator_mapping = save_mapping(
            w.users["coordinator"].id,
            w.orgs["operator"],
            FACILITY_MAPPING,
            canary("mapping_operator", {"coordinator"}),
            {"name": canary("mapping_column_operator", {"coordinator"})},
        ).id
        monitors_mapping = save_mapping(
            w.users["monitor"].id,
            w.orgs["monitors"],
            "survey",
            canary("mapping_monitors", {"monitor"}),
            {"testimony": canary("mapping_column_monitors", {"monitor"})},
        ).id

    # --- circularity: supplier Y reports on contract_ay, affiliate A queries it. The contract's
    # buyer and supplier and coordinators read it; administrators read the audit log that records
    # the report's values and the query's reason. Monitors read nothing of it.
    circular = {"coordinator", "affiliate", "supplier_y", "admin"}
    values = dict.fromkeys(CIRCULARITY_FIELDS, 0) | {
        "warranty_years": 3,
        "repairability_info": canary("repairability", circular),
    }
    with w.session():
        contract = db.session.get(Contract, contract_ay)
        filed = circularity.file_report(
            w.user("supplier_y"), contract, circularity.ReportData(server, 2026, values)
        )
        circularity.query_report(w.user("affiliate"), filed, canary("circularity_query", circular))
        circularity_id = filed.id

    # --- a third-party audit at the site: its findings' text for staff (every monitor organisation
    # and coordinators); its firm for staff and the audit log; affiliate A counts only, suppliers
    # nothing. A crosswalk note is for everyone who works with the registry.
    staff = {"coordinator", "monitor", "other_monitor"}
    firm = canary("audit_firm", staff | {"admin"})
    day = date(date.today().year, 1, 1).isoformat()
    audit_file = (
        "site,audit_date,audit_firm,code_section,finding,severity,status\n"
        f"{w.site},{day},{firm},A3,{canary('audit_finding', staff)},major,open\n"
    ).encode()
    working = {
        "coordinator",
        "monitor",
        "other_monitor",
        "affiliate",
        "affiliate_b",
        "supplier",
        "supplier_y",
    }
    with w.session():
        audits.import_audits(w.user("monitor"), io.BytesIO(audit_file), "audits.csv")
        audits.add_entry(
            w.user("coordinator"),
            audits.EntryData("FL-2", "A9", note=canary("crosswalk_note", working | {"admin"})),
        )
        # --- country risk: every working role reads the table (and administrators its audit).
        set_country_risk(w.user("coordinator"), "CN", 4, canary("country_risk_source", working | {"admin"}))

    # --- a facility list held for its columns: its proposal (columns, sample values) is its
    # owner's; a survey upload queued by the monitor: its job is the monitor's to follow.
    facility_file = f"os_id,name\nCN2026001ABCDEF,{canary('held_sample', {'coordinator'})}\n".encode()
    with w.session():
        held = queue_facility_import(
            w.user("coordinator"),
            io.BytesIO(facility_file),
            f"{canary('held_file', {'coordinator'})}.csv",
            hold=True,
        ).id
        monitor = w.user("monitor")
        survey_job = queue_survey_import(
            monitor,
            monitor.organisation,
            io.BytesIO(survey_file),
            f"{canary('survey_job_file', {'monitor'})}.csv",
            site=db.session.get(Site, w.site),
        ).id
        # A survey upload with a column nothing reads waits for its columns: its header is the
        # monitor's to see.
        extra = canary("survey_column", {"monitor"})
        held_survey = queue_survey_import(
            monitor,
            monitor.organisation,
            io.BytesIO(kobo_csv([{"interview/testimony": "-"}], questions=[*GROUPED, extra])),
            "survey.csv",
            site=db.session.get(Site, w.site),
            confirm_columns=True,
        ).id
    return {
        "mapping_id": [operator_mapping, monitors_mapping],
        "circularity_id": [circularity_id],
        "held_job_id": [held],
        "survey_job_id": [survey_job, held_survey],
    }


# --- the crawl ---------------------------------------------------------------------------------

_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


class UnfillableRoute(AssertionError):
    """A GET route whose variables the crawl has no values for."""


def api_get_rules(app: Flask) -> list[str]:
    return sorted(
        rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith(API) and "GET" in rule.methods
    )


def fill(rule: str, ids: dict[str, list[int]]) -> list[str]:
    """Every URL of ``rule`` with the world's ids (every combination of its variables)."""
    variables = _VARIABLE.findall(rule)
    missing = [
        f"<{conv + ':' if conv else ''}{name}>"
        for conv, name in variables
        if conv != "int" or name not in ids
    ]
    if missing:
        raise UnfillableRoute(
            f"GET {rule}: the crawl cannot fill in {', '.join(missing)}. Add the variable to the ids "
            "build_world returns (tests/security/test_api_canary_crawl.py) and plant a canary in "
            "the new route's restricted fields."
        )
    names = [name for _conv, name in variables]
    urls = []
    for combination in itertools.product(*(ids[name] for name in names)):
        values = dict(zip(names, combination, strict=True))
        urls.append(_VARIABLE.sub(lambda m, values=values: str(values[m.group(2)]), rule))
    return urls


def _report_ids(answer: Any) -> Iterable[int]:
    """The worker reports an answer links to (``report_ids`` anywhere in it)."""
    if isinstance(answer, dict):
        for key, value in answer.items():
            if key == "report_ids" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, int))
            else:
                yield from _report_ids(value)
    elif isinstance(answer, list):
        for value in answer:
            yield from _report_ids(value)


class Crawler:
    """GET every URL as one client; follow list pages and list items into their own routes."""

    def __init__(self, get: Any, rules: list[str]) -> None:
        self.get = get
        self.rules = set(rules)
        self.bodies: dict[str, bytes] = {}
        self.statuses: dict[str, int] = {}
        self.report_links: dict[str, set[int]] = {}
        self.pages: dict[str, int] = {}

    def crawl(self, urls: Iterable[str]) -> None:
        queue = list(urls)
        while queue:
            url = queue.pop()
            if url in self.statuses:
                continue
            response = self.get(url)
            body = response.get_data()
            headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items()).encode()
            response.close()
            self.statuses[url] = response.status_code
            self.bodies[url] = headers + b"\n\n" + body
            if response.status_code == 200 and response.is_json:
                answer = response.get_json()
                self.report_links[url] = set(_report_ids(answer))
                queue += self._follow(url, answer)

    def _follow(self, url: str, answer: Any) -> list[str]:
        if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
            return []
        base = url.split("?", 1)[0]
        found = []
        if answer.get("next"):
            # The next page, from the list's own URL (a cursor that does not advance ends here).
            self.pages[base] = self.pages.get(base, 0) + 1
            assert self.pages[base] <= MAX_PAGES, f"{base} keeps answering with a next page"
            found.append(f"{base}?after={quote(str(answer['next']))}")
        # An item's own route: the list's rule followed by one int variable.
        detail = next((r for r in self.rules if re.fullmatch(re.escape(base) + r"/<int:\w+>", r)), None)
        if detail:
            for item in answer["items"]:
                if isinstance(item, dict) and isinstance(item.get("id"), int):
                    found.append(f"{base}/{item['id']}")
        return found


def _json(blob: bytes) -> Any:
    """The JSON body of a stored answer (headers, a blank line, the body)."""
    return json.loads(blob.split(b"\n\n", 1)[1])


def _clients(app: Flask, w: CaseWorld, api_client: Any) -> dict[str, Any]:
    clients = {role: api_client(w.users[role]).get for role in ROLES if role != "anonymous"}
    clients["anonymous"] = app.test_client().get
    return clients


def test_no_api_answer_shows_a_role_what_is_not_meant_for_it(app, case_world, api_client):  # noqa: F811
    w = case_world
    canary = Canaries()
    ids = build_world(w, canary)
    rules = api_get_rules(app)
    urls = [url for rule in rules for url in fill(rule, ids)]
    leaked: list[tuple[str, str, str]] = []
    seen: dict[str, set[str]] = {text: set() for text in canary.readers}
    statuses: dict[str, dict[str, int]] = {}
    bodies: dict[str, dict[str, bytes]] = {}
    seen_report_ids: set[str] = set()
    for role, get in _clients(app, w, api_client).items():
        crawler = Crawler(get, rules)
        crawler.crawl(urls)
        statuses[role] = crawler.statuses
        bodies[role] = crawler.bodies
        for url, blob in crawler.bodies.items():
            assert crawler.statuses[url] < 500, (role, url, crawler.statuses[url])
            if worker_leaks(blob):
                leaked.append((role, url, "the worker canary"))
            for text, readers in canary.readers.items():
                if text.encode() in blob:
                    seen[text].add(role)
                    if role not in readers:
                        leaked.append((role, url, text))
            # Only the monitors of the finding's organisation get the links to worker reports (the
            # audit log, which administrators read, records the ids a finding was filed with).
            if ids["report_id"][0] in crawler.report_links.get(url, set()):
                seen_report_ids.add(role)
                if role != "monitor" and not (role == "admin" and url.startswith(f"{API}audit")):
                    leaked.append((role, url, "the link to the worker report"))
    assert not leaked, "\n".join(f"{role} reads {what} at {url}" for role, url, what in leaked)
    # The crawl reached every canary for every role that may read it (so it cannot miss a leak).
    unmet = {
        text: sorted(readers - seen[text]) for text, readers in canary.readers.items() if readers - seen[text]
    }
    assert not unmet, unmet
    # ... and the worker reports for their monitors only.
    report = f"{API}worker-reports/{ids['report_id'][0]}"
    assert {role: statuses[role][report] for role in ROLES} == {
        role: 200 if role == "monitor" else 401 if role == "anonymous" else 404 for role in ROLES
    }
    assert "monitor" in seen_report_ids
    # The afternoon's routes answer their readers and 404 to the other roles (so the crawl reached them).
    working = {
        "coordinator",
        "monitor",
        "other_monitor",
        "affiliate",
        "affiliate_b",
        "supplier",
        "supplier_y",
    }
    readers_of = {
        f"{API}imports/mappings/{ids['mapping_id'][0]}": {"coordinator"},
        f"{API}imports/mappings/{ids['mapping_id'][1]}": {"monitor"},
        f"{API}circularity/{ids['circularity_id'][0]}": {"coordinator", "affiliate", "supplier_y"},
        f"{API}jobs/{ids['held_job_id'][0]}/columns": {"coordinator"},
        f"{API}testimony/survey-imports/jobs/{ids['survey_job_id'][0]}": {"monitor"},
        f"{API}testimony/survey-imports/jobs/{ids['survey_job_id'][1]}/columns": {"monitor"},
        f"{API}sites/{w.site}/audits": C1_BUYERS | {"other_monitor"},
        f"{API}sites/{w.site}/risk": working - {"affiliate_b"},
        f"{API}figures": working,
        f"{API}country-risks": working,
    }
    for url, readers in readers_of.items():
        assert {role: statuses[role][url] for role in ROLES} == {
            role: 200 if role in readers else 401 if role == "anonymous" else 404 for role in ROLES
        }, url
    # The site's risk view counts worker reports exactly for staff, as "fewer than 5" for the buyer
    # and not at all for the suppliers that disclosed it.
    risk = {
        role: _json(bodies[role][f"{API}sites/{w.site}/risk"])
        for role in ROLES
        if role in readers_of[f"{API}sites/{w.site}/risk"]
    }
    assert {role: answer["worker_reports"] for role, answer in risk.items()} == {
        "coordinator": {"count": 2, "fewer_than": None},
        "monitor": {"count": 2, "fewer_than": None},
        "other_monitor": {"count": 0, "fewer_than": None},
        "affiliate": {"count": None, "fewer_than": 5},
        "supplier": None,
        "supplier_y": None,
    }
    # The figures are stored per scope (the network, or the reader's organisation) on first read: the
    # network's, stored when the coordinator crawled, are not served to organisations without actions.
    figures = {
        role: _json(bodies[role][f"{API}figures"]) for role in ("coordinator", "other_monitor", "affiliate_b")
    }
    assert figures["coordinator"]["durations"]
    assert not figures["other_monitor"]["durations"] and not figures["affiliate_b"]["durations"]
    # Quick enough to run every time (about 1,900 requests with the afternoon's routes): a budget,
    # not a clock.
    assert sum(len(by_url) for by_url in statuses.values()) < MAX_REQUESTS


def test_a_get_route_the_crawl_cannot_fill_in_fails_it():
    ids = {"case_id": [1, 2], "file_id": [3]}
    assert fill("/api/v1/cases/<int:case_id>/files/<int:file_id>", ids) == [
        "/api/v1/cases/1/files/3",
        "/api/v1/cases/2/files/3",
    ]
    with pytest.raises(UnfillableRoute, match="<int:grant_id>"):
        fill("/api/v1/cases/<int:case_id>/grants/<int:grant_id>", ids)
    with pytest.raises(UnfillableRoute, match="<name>"):
        fill("/api/v1/tags/<name>", ids)
