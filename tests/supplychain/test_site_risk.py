"""A site's risk view (page and API) per role, and the country risk table kept by coordinators."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitoring.accounts.models import User, UserRole
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain.models import CountryRisk, Site, SiteKind
from monitoring.supplychain.risk import services as risk
from tests.cases import conftest as cases_conftest
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form
from tests.supplychain.helpers import TODAY

case_world = cases_conftest.case_world  # the remediation tests' world, as a fixture here
# Findings and report counts come from the sources that cases and testimony register at start-up.


@pytest.fixture
def chain(case_world: CaseWorld) -> dict[str, Any]:
    """Cells (component) supply packs, which supply the laptop's assembly site (w.site).

    Supplier Y discloses its battery pack at both; affiliate A buys the laptop (tier 3 from the
    cells), affiliate B the pack (tier 1). At the cells: a major finding in an open case, a
    priority finding without a case, and two worker reports of the monitors.
    """
    w = case_world
    r = w.registry
    pack = r.product("Pack 77", category="other")
    r.contract(w.orgs["affiliate_b"], w.orgs["supplier_y"], [pack])
    cells = r.site("Cell Works 77", country="VN", kind=SiteKind.component)
    packs = r.site("Pack Works 77", kind=SiteKind.component)
    y = w.users["supplier_y"].id
    r.disclose(y, pack, packs, "battery", supplies=w.site, share="20")
    r.disclose(y, pack, cells, "battery", supplies=packs, share="50")
    case_id = w.case(site_id=cells, findings=[w.finding(site_id=cells, severity="major")])
    w.finding(site_id=cells, severity="priority")
    w.finding(severity="minor")  # at the assembly site: not counted at the cells
    for _ in range(2):
        w.report(site_id=cells, country="VN")
    return {"cells": cells, "packs": packs, "pack": pack, "case": case_id}


def _risk(app: Flask, user: User, site_id: int) -> risk.SiteRisk:
    with app.test_request_context("/"):
        viewer = db.session.get(User, user.id)
        return risk.site_risk(viewer, db.session.get(Site, site_id), TODAY)


def test_risk_view_per_role(
    app: Flask,
    case_world: CaseWorld,
    chain: dict[str, Any],
    client_for: Callable[[User], FlaskClient],
    create_user: Callable[..., User],
) -> None:
    w, cells = case_world, chain["cells"]
    stranger = create_user(UserRole.affiliate)
    url = f"/sites/{cells}/risk"
    for key in ("coordinator", "monitor", "affiliate", "affiliate_b", "supplier_y"):
        page = client_for(w.users[key]).get(url)
        assert page.status_code == 200, key
        assert "Cell Works 77" in page.get_data(as_text=True)
    for user in (w.users["supplier"], w.users["admin"], stranger):
        assert client_for(user).get(url).status_code == 404, user.role

    staff = _risk(app, w.users["coordinator"], cells)
    assert [(f.severity.value, f.open, f.closed) for f in staff.findings] == [
        ("priority", 1, 0),
        ("major", 1, 0),
    ]
    assert staff.cases.open == 1
    assert staff.worker_reports == risk.ReportCount(2)
    assert {(t.product.id, t.tier) for t in staff.tiers} == {(chain["pack"], 1), (w.products["laptop"], 3)}
    # The tiers: B's pack contract at tier 1 (50 %), A's laptop at tier 3 (50 % of 20 %).
    assert [(t.tier, t.contracts, t.weighted_cents) for t in staff.tier_leverage or []] == [
        (1, 1, 50000),
        (3, 1, 10000),
    ]

    buyer = _risk(app, w.users["affiliate"], cells)
    assert buyer.worker_reports == risk.ReportCount(None, 5)  # fewer than 5
    assert [(t.product.id, t.tier) for t in buyer.tiers] == [(w.products["laptop"], 3)]
    assert [t.tier for t in buyer.tier_leverage or []] == [3]  # its own contracts only
    assert "fewer than 5" in client_for(w.users["affiliate"]).get(url).get_data(as_text=True)

    supplier = _risk(app, w.users["supplier_y"], cells)
    assert supplier.worker_reports is None and supplier.tier_leverage is None
    assert "Worker reports" not in client_for(w.users["supplier_y"]).get(url).get_data(as_text=True)
    # Monitors count their own organisation's reports.
    assert _risk(app, w.users["other_monitor"], cells).worker_reports == risk.ReportCount(0)


def test_api_matches_the_page_services(
    app: Flask, case_world: CaseWorld, chain: dict[str, Any], api_client: Callable[..., Any]
) -> None:
    w, cells = case_world, chain["cells"]
    body = api_client(w.users["coordinator"]).get(f"/api/v1/sites/{cells}/risk").get_json()
    assert body["site"]["id"] == cells
    assert body["findings"] == [
        {"severity": "priority", "open": 1, "closed": 0},
        {"severity": "major", "open": 1, "closed": 0},
    ]
    assert body["worker_reports"] == {"count": 2, "fewer_than": None}
    assert body["cases"]["open"] == 1
    assert [(t["tier"], t["weighted_eur"]) for t in body["tier_leverage"]] == [(1, "500.00"), (3, "100.00")]
    buyer = api_client(w.users["affiliate"]).get(f"/api/v1/sites/{cells}/risk").get_json()
    assert buyer["worker_reports"] == {"count": None, "fewer_than": 5}
    assert [t["tier"] for t in buyer["tiers"]] == [3]
    supplier = api_client(w.users["supplier_y"]).get(f"/api/v1/sites/{cells}/risk").get_json()
    assert supplier["worker_reports"] is None and supplier["tier_leverage"] is None
    assert api_client(w.users["supplier"]).get(f"/api/v1/sites/{cells}/risk").status_code == 404
    assert api_client(w.users["admin"]).get(f"/api/v1/sites/{cells}/risk").status_code in (403, 404)


def test_site_page_links_to_the_risk_view(
    case_world: CaseWorld, chain: dict[str, Any], client_for: Callable[[User], FlaskClient]
) -> None:
    w = case_world
    link = f"/sites/{chain['packs']}/risk"
    staff_page = client_for(w.users["coordinator"]).get(f"/sites/{chain['packs']}").get_data(as_text=True)
    assert link in staff_page
    assert "Leverage per tier" in staff_page  # readers see the tiers on the site page too
    assert link in client_for(w.users["supplier_y"]).get(f"/sites/{chain['packs']}").get_data(as_text=True)
    # Supplier X sees the assembly site (it disclosed it) and its risk view; not the packs'.
    assert f"/sites/{w.site}/risk" in client_for(w.users["supplier"]).get(f"/sites/{w.site}").get_data(
        as_text=True
    )


def _audited(app: Flask, country: str) -> list[dict[str, Any]]:
    with app.app_context():
        return [
            json.loads(entry.data) if isinstance(entry.data, str) else entry.data
            for entry in db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "country_risk.set", AuditEntry.object_id == country)
                .order_by(AuditEntry.id)
            )
        ]


def test_country_risk_is_kept_by_coordinators_and_audited(
    app: Flask,
    case_world: CaseWorld,
    chain: dict[str, Any],
    api_client: Callable[..., Any],
    client_for: Callable[[User], FlaskClient],
) -> None:
    w = case_world
    coordinator = api_client(w.users["coordinator"])
    answer = coordinator.put(
        "/api/v1/country-risks/VN", json={"level": 4, "source": "Network assessment 2026"}
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["level"] == 4
    assert coordinator.put("/api/v1/country-risks/VN", json={"level": 6, "source": "x"}).status_code == 422
    assert coordinator.put("/api/v1/country-risks/XX", json={"level": 2, "source": "x"}).status_code == 422
    for key in ("affiliate", "supplier", "monitor"):
        refused = api_client(w.users[key]).put("/api/v1/country-risks/VN", json={"level": 1, "source": "x"})
        assert refused.status_code in (403, 404), key

    page = client_for(w.users["coordinator"])
    done = post_form(
        page,
        "/country-risks",
        {"country": "VN", "level": "3", "source": "Revised"},
        form_page="/country-risks",
    )
    assert done.status_code == 302
    again = post_form(
        page, "/country-risks", {"country": "VN", "level": "3", "source": ""}, form_page="/country-risks"
    )
    assert again.status_code == 200 and "This field is required" in again.get_data(as_text=True)
    assert [(d["level"], d["before"]) for d in _audited(app, "VN")] == [
        (4, None),
        (3, {"level": 4, "source": "Network assessment 2026"}),
    ]
    with app.app_context():
        assert db.session.get(CountryRisk, "VN").source == "Revised"

    buyer = client_for(w.users["affiliate"])
    listed = buyer.get("/country-risks").get_data(as_text=True)
    assert "Revised" in listed and "Save the level" not in listed
    assert (
        post_form(buyer, "/country-risks", {"country": "VN", "level": "1", "source": "x"}).status_code == 404
    )
    items = api_client(w.users["affiliate"]).get("/api/v1/country-risks").get_json()["items"]
    assert [(i["country"], i["level"]) for i in items] == [("VN", 3)]
    # The risk view shows the level.
    assert _risk(app, w.users["affiliate"], chain["cells"]).country_risk.level == 3
    assert "level 3 of 5" in buyer.get(f"/sites/{chain['cells']}/risk").get_data(as_text=True)
