"""Clause compliance: statuses derived from findings, set by hand with a reason, per role."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases.models import Case, CaseState
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain.models import ClauseKind, Contract, ContractClause
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form

YEAR = 2026
Clients = Callable[[User], FlaskClient]


def _clause(w: CaseWorld, contract: str = "a", kind: ClauseKind = ClauseKind.labour_standards) -> int:
    with w.session():
        contract_row = db.session.get(Contract, w.contracts[contract])
        found = [c.id for c in contract_row.clauses if c.kind is kind]
        if found:
            return found[0]
        clause = ContractClause(
            contract_id=contract_row.id, position=len(contract_row.clauses) + 1, kind=kind, text="Access."
        )
        db.session.add(clause)
        db.session.flush()
        return clause.id


def _compliance(api_client: Any, user: User, w: CaseWorld, year: int = YEAR) -> dict[int, Any]:
    response = api_client(user).get(f"/api/v1/contracts/{w.contracts['a']}/compliance?year={year}")
    assert response.status_code == 200, response.get_json()
    return {row["clause_id"]: row for row in response.get_json()["clauses"]}


def _summary(api_client: Any, user: User, year: int = YEAR) -> dict[str, Any]:
    response = api_client(user).get(f"/api/v1/compliance?year={year}")
    assert response.status_code == 200, response.get_json()
    return {row["supplier"]: row for row in response.get_json()["suppliers"]}


def test_a_finding_breaches_the_labour_clause_on_the_page_and_in_the_summary(
    case_world: CaseWorld, client_for: Clients, api_client: Any
) -> None:
    w = case_world
    clause_id = _clause(w)
    assert _compliance(api_client, w.affiliate, w)[clause_id]["status"] == "not_assessed"
    case_id = w.case()
    reference = w.get(Case, case_id).reference

    row = _compliance(api_client, w.affiliate, w)[clause_id]
    assert row["status"] == "breached"
    assert row["manual"] is None
    assert [c["reference"] for c in row["cases"]] == [reference]
    # The year before the finding was found knows nothing of it.
    assert _compliance(api_client, w.affiliate, w, YEAR - 1)[clause_id]["status"] == "not_assessed"

    page = client_for(w.affiliate).get(f"/contracts/{w.contracts['a']}/compliance?year={YEAR}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "status-breached" in html and reference in html
    contract_page = client_for(w.affiliate).get(f"/contracts/{w.contracts['a']}").get_data(as_text=True)
    assert f"/contracts/{w.contracts['a']}/compliance" in contract_page

    supplier_name = f"{w.get(Contract, w.contracts['a']).supplier.name}"
    counts = _summary(api_client, w.affiliate)[supplier_name]["counts"]
    assert counts == {"breached": 1, "due_diligence": 0, "met": 0, "not_assessed": 0}
    summary_page = client_for(w.affiliate).get(f"/compliance?year={YEAR}")
    assert summary_page.status_code == 200
    assert supplier_name in summary_page.get_data(as_text=True)


def test_remediation_and_a_resolved_closure_are_due_diligence(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    clause_id = _clause(w)
    case_id = w.case()
    w.advance_case(case_id, CaseState.remediation)
    assert _compliance(api_client, w.coordinator, w)[clause_id]["status"] == "due_diligence"
    w.advance_case(case_id, CaseState.closed)
    assert _compliance(api_client, w.coordinator, w)[clause_id]["status"] == "due_diligence"
    w.finding()  # a new finding without a case breaches the clause again
    assert _compliance(api_client, w.coordinator, w)[clause_id]["status"] == "breached"


def test_a_manual_status_needs_a_reason_is_audited_and_beats_the_derived_one(
    case_world: CaseWorld, api_client: Any
) -> None:
    w = case_world
    clause_id = _clause(w)
    w.finding()
    url = f"/api/v1/clauses/{clause_id}/assessments"
    missing = api_client(w.affiliate).post(url, json={"year": YEAR, "status": "met"})
    assert missing.status_code == 422
    assert list(missing.get_json()["error"]["errors"]) == ["reason"]
    blank = api_client(w.affiliate).post(url, json={"year": YEAR, "status": "met", "reason": "   "})
    assert blank.status_code == 422

    done = api_client(w.affiliate).post(
        url, json={"year": YEAR, "status": "met", "reason": "Fees repaid, confirmed by workers."}
    )
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["reason"] == "Fees repaid, confirmed by workers."
    row = _compliance(api_client, w.coordinator, w)[clause_id]
    assert (row["status"], row["derived_status"]) == ("met", "breached")
    # The supplier reads the manual status; a finding not yet addressed to it counts for nothing.
    row = _compliance(api_client, w.supplier, w)[clause_id]
    assert (row["status"], row["derived_status"]) == ("met", "not_assessed")
    assert row["manual"]["set_by"] == w.affiliate.name
    with w.app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "clause.assess")).one()
        assert entry.actor_id == w.affiliate.id
        data = json.loads(entry.data)
        assert (data["status"], data["year"], data["clause_id"]) == ("met", YEAR, clause_id)

    coordinator = api_client(w.coordinator).post(
        url, json={"year": YEAR, "status": "due_diligence", "reason": "A new complaint is being checked."}
    )
    assert coordinator.status_code == 201
    assert _compliance(api_client, w.affiliate, w)[clause_id]["status"] == "due_diligence"


def test_the_page_form_refuses_a_status_without_reason(case_world: CaseWorld, client_for: Clients) -> None:
    w = case_world
    clause_id = _clause(w)
    client = client_for(w.affiliate)
    page = f"/contracts/{w.contracts['a']}/compliance?year={YEAR}"
    prefix = f"c{clause_id}-"
    url = f"/clauses/{clause_id}/assessment"
    refused = post_form(client, url, {prefix + "year": YEAR, prefix + "status": "met"}, form_page=page)
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    data = {prefix + "year": YEAR, prefix + "status": "breached", prefix + "reason": "Audit failed."}
    saved = post_form(client, url, data, form_page=page)
    assert saved.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Audit failed." in html and "status-breached" in html


@pytest.mark.parametrize(
    ("who", "page", "api"),
    [
        ("affiliate", 200, 200),
        ("supplier", 200, 200),
        ("coordinator", 200, 200),
        ("monitor", 200, 200),
        ("affiliate_b", 404, 404),
        ("supplier_y", 404, 404),
        ("admin", 404, 404),
    ],
)
def test_who_reads_a_contracts_compliance(
    case_world: CaseWorld, client_for: Clients, api_client: Any, who: str, page: int, api: int
) -> None:
    w = case_world
    user = w.users[who]
    assert client_for(user).get(f"/contracts/{w.contracts['a']}/compliance").status_code == page
    assert api_client(user).get(f"/api/v1/contracts/{w.contracts['a']}/compliance").status_code == api


@pytest.mark.parametrize("who", ["affiliate_b", "supplier", "monitor", "admin"])
def test_only_the_buyer_or_a_coordinator_sets_a_status(
    case_world: CaseWorld, api_client: Any, who: str
) -> None:
    w = case_world
    clause_id = _clause(w)
    response = api_client(w.users[who]).post(
        f"/api/v1/clauses/{clause_id}/assessments", json={"year": YEAR, "status": "met", "reason": "Fine."}
    )
    assert response.status_code == 404


def test_the_summary_covers_only_the_buyers_own_contracts(
    case_world: CaseWorld, client_for: Clients, api_client: Any
) -> None:
    w = case_world
    w.finding()
    supplier_x = w.get(Contract, w.contracts["a"]).supplier.name
    assert supplier_x not in _summary(api_client, w.affiliate_b)
    assert supplier_x in _summary(api_client, w.coordinator)
    assert client_for(w.supplier).get("/compliance").status_code == 404
    assert api_client(w.monitor).get("/api/v1/compliance").status_code == 404


def test_a_findings_clauses_default_and_can_be_chosen(
    case_world: CaseWorld, client_for: Clients, api_client: Any
) -> None:
    w = case_world
    labour = _clause(w)
    monitoring = _clause(w, kind=ClauseKind.monitoring)
    other_contract = _clause(w, "b")
    finding_id = w.finding()
    retaliation_id = w.finding(standard="GR-2")
    url = f"/api/v1/findings/{finding_id}/clauses"

    shown = api_client(w.monitor).get(url).get_json()
    assert (shown["chosen"], [c["id"] for c in shown["clauses"]]) == (False, [labour])
    retaliation = api_client(w.monitor).get(f"/api/v1/findings/{retaliation_id}/clauses").get_json()
    assert sorted(c["id"] for c in retaliation["clauses"]) == sorted([labour, monitoring])
    assert _compliance(api_client, w.coordinator, w)[monitoring]["status"] == "breached"

    refused = api_client(w.monitor).put(url, json={"clause_ids": [other_contract]})
    assert refused.status_code == 422
    chosen = api_client(w.monitor).put(url, json={"clause_ids": []})
    assert chosen.status_code == 200
    assert chosen.get_json() == {"finding_id": finding_id, "chosen": True, "clauses": []}
    api_client(w.coordinator).put(f"/api/v1/findings/{retaliation_id}/clauses", json={"clause_ids": []})
    assert _compliance(api_client, w.coordinator, w)[labour]["status"] == "not_assessed"

    for who in ("other_monitor", "affiliate", "supplier"):
        assert api_client(w.users[who]).put(url, json={"clause_ids": []}).status_code == 404
    page_url = f"/findings/{finding_id}/clauses"
    client = client_for(w.coordinator)
    assert client.get(page_url).status_code == 200
    saved = post_form(client, page_url, {"clause_ids": [labour]}, form_page=page_url)
    assert saved.status_code == 302
    assert [c["id"] for c in api_client(w.monitor).get(url).get_json()["clauses"]] == [labour]
    assert client_for(w.other_monitor).get(page_url).status_code == 404


def test_the_finding_page_links_to_its_clauses_for_those_who_choose_them(
    case_world: CaseWorld, client_for: Clients
) -> None:
    w = case_world
    finding_id = w.finding()
    link = f'href="/findings/{finding_id}/clauses"'
    assert link in client_for(w.monitor).get(f"/findings/{finding_id}").get_data(as_text=True)
    assert link in client_for(w.coordinator).get(f"/findings/{finding_id}").get_data(as_text=True)
    page = client_for(w.affiliate).get(f"/findings/{finding_id}")
    assert page.status_code == 404 or link not in page.get_data(as_text=True)
