"""Merging a duplicate site moves everything that names it: disclosures, worker reports,
findings and cases, so a buyer whose contract reaches the site that stays sees its case."""

from __future__ import annotations

from sqlalchemy import select

from monitoring.cases.models import Case, Finding
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain.models import Disclosure, Site
from monitoring.testimony.models import WorkerReport
from tests.cases import conftest as cases_conftest
from tests.cases.helpers import CaseWorld

case_world = cases_conftest.case_world  # the world of the remediation tests


def test_findings_cases_reports_and_disclosures_follow_the_merge(
    app, case_world: CaseWorld, api_client, client_for
):
    w = case_world
    # A twin of the affiliate's site that no contract of the affiliate reaches yet.
    twin = w.registry.site(f"{w.get(Site, w.site).name} Ltd", country="CN", address="Other road 1")
    disclosure = w.registry.disclose(w.users["supplier_y"].id, w.products["phone"], twin)
    report = w.report(site_id=twin)
    finding = w.finding(site_id=twin)
    case = w.case(site_id=twin, findings=[finding])

    buyer_api, buyer_page = api_client(w.users["affiliate"]), client_for(w.users["affiliate"])
    assert buyer_api.get(f"/api/v1/cases/{case}").status_code == 404
    assert buyer_page.get(f"/cases/{case}").status_code == 404

    coordinator = api_client(w.users["coordinator"])
    proposed = coordinator.post("/api/v1/sites/duplicates", json={"site_id": w.site, "candidate_id": twin})
    assert proposed.status_code == 201, proposed.get_json()
    merged = coordinator.post(f"/api/v1/sites/duplicates/{proposed.get_json()['id']}/merge", json={})
    assert merged.status_code == 200, merged.get_json()

    assert w.get(Site, twin).merged_into_id == w.site
    for model, ident in ((Finding, finding), (Case, case), (WorkerReport, report), (Disclosure, disclosure)):
        assert w.get(model, ident).site_id == w.site, model.__name__
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "site.merge").order_by(AuditEntry.id.desc())
        )
        data = entry.data_dict
    assert (data["worker_reports_moved"], data["findings_moved"], data["cases_moved"]) == (1, 1, 1)
    assert data["disclosures_moved"] == [disclosure]

    assert buyer_api.get(f"/api/v1/cases/{case}").status_code == 200
    assert buyer_page.get(f"/cases/{case}").status_code == 200
