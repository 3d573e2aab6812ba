"""Circularity reports: filed by the supplier, confirmed or queried by the buyer, shown on its dashboard."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases.models import Finding
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain.circularity.models import CircularityReport, CircularityState
from monitoring.supplychain.models import Product
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form

Clients = Callable[[User], FlaskClient]


def report(product_id: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "product_id": product_id,
        "year": 2026,
        "warranty_years": 3,
        "spare_part_years": 5,
        "os_update_years": 6,
        "repairability_info": "Manuals and parts at repair.example.org",
        "delivered": 200,
        "repaired": 14,
        "repair_median_days": 4,
        "replaced": 2,
        "accessories_not_bought": 150,
        "second_life_supplied": 20,
        "taken_back": 80,
        "reused": 10,
        "refurbished": 30,
        "recycled": 35,
        "disposed": 0,
        "unknown_fate": 5,
    }
    return {**data, **overrides}


def file(w: CaseWorld, api_client: Any, recycler: int, **overrides: Any) -> dict[str, Any]:
    overrides.setdefault("sites", [{"site_id": recycler, "fate": "recycled", "count": 35}])
    body = report(w.products["laptop"], **overrides)
    response = api_client(w.supplier).post(f"/api/v1/contracts/{w.contracts['a']}/circularity", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_supplier_report_flows_into_the_buyer_dashboard_and_its_site_takes_a_finding(
    case_world: CaseWorld, api_client: Any, client_for: Clients, recycler: int
) -> None:
    w = case_world
    filed = file(w, api_client, recycler)
    assert filed["state"] == "submitted"
    assert filed["sites"] == [
        {
            "site_id": recycler,
            "site": "Green Loop Recycling",
            "country": "DE",
            "fate": "recycled",
            "count": 35,
        }
    ]
    confirmed = api_client(w.affiliate).post(f"/api/v1/circularity/{filed['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["state"] == "confirmed"

    loop = api_client(w.affiliate).get("/api/v1/circularity/loop?year=2026").get_json()
    assert loop["collection_ambition"] == 1.0
    (product,) = loop["products"]
    assert (product["delivered"], product["in_use"], product["taken_back"]) == (200, 120, 80)
    assert (product["second_life"], product["recycled"], product["collected_share"]) == (40, 35, 0.4)
    assert product["sites"][0]["site"] == "Green Loop Recycling"
    assert (product["spare_part_years"], product["confirmed"], product["reports"]) == (5, 1, 1)

    page = client_for(w.affiliate).get("/dashboard/?to=2026-12-31")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    section = text[text.index('id="circularity"') :]
    assert "40 %" in section and "ambition 100 %" in section
    assert "Green Loop Recycling (DE): Recycled 35" in section
    assert "(below 7)" in section  # spare parts: 5 years against the ambition of 7
    # Another buyer's dashboard does not see this contract's devices.
    assert api_client(w.affiliate_b).get("/api/v1/circularity/loop?year=2026").get_json()["products"] == []
    other = client_for(w.affiliate_b).get("/dashboard/?to=2026-12-31").get_data(as_text=True)
    assert "Green Loop Recycling" not in other

    # The recycling site named in the report is a workplace: a monitor files a finding against it.
    finding_id = w.finding(
        site_id=recycler, standard="HS-1", summary="Workers dismantle batteries without masks."
    )
    finding = w.get(Finding, finding_id)
    assert finding.site_id == recycler


@pytest.mark.parametrize("who", ["supplier_y", "affiliate_b", "monitor", "other_monitor", "admin"])
def test_outsiders_get_404(
    case_world: CaseWorld, api_client: Any, client_for: Clients, recycler: int, who: str
) -> None:
    w = case_world
    filed = file(w, api_client, recycler)
    user = w.users[who]
    api, pages = api_client(user), client_for(user)
    contract = w.contracts["a"]
    assert api.get(f"/api/v1/contracts/{contract}/circularity").status_code == 404
    assert api.get(f"/api/v1/circularity/{filed['id']}").status_code == 404
    assert api.post(f"/api/v1/circularity/{filed['id']}/confirm").status_code == 404
    assert api.post(f"/api/v1/circularity/{filed['id']}/query", json={"reason": "Why?"}).status_code == 404
    assert (
        api.post(f"/api/v1/contracts/{contract}/circularity", json=report(w.products["laptop"])).status_code
        == 404
    )
    for url in (
        f"/contracts/{contract}/circularity",
        f"/contracts/{contract}/circularity/new",
        f"/contracts/{contract}/circularity/import",
        f"/circularity/{filed['id']}",
    ):
        assert pages.get(url).status_code == 404, url
    with w.session():
        assert db.session.get(CircularityReport, filed["id"]).state is CircularityState.submitted


def test_roles_of_the_contract(
    case_world: CaseWorld, api_client: Any, client_for: Clients, recycler: int
) -> None:
    w = case_world
    filed = file(w, api_client, recycler)
    contract = w.contracts["a"]
    for user in (w.affiliate, w.supplier, w.coordinator):
        listed = api_client(user).get(f"/api/v1/contracts/{contract}/circularity").get_json()["reports"]
        assert [r["id"] for r in listed] == [filed["id"]]
        page = client_for(user).get(f"/contracts/{contract}/circularity")
        assert page.status_code == 200 and f"/circularity/{filed['id']}" in page.get_data(as_text=True)
        contract_page = client_for(user).get(f"/contracts/{contract}").get_data(as_text=True)
        assert f"/contracts/{contract}/circularity" in contract_page
    monitor_page = client_for(w.monitor).get(f"/contracts/{contract}").get_data(as_text=True)
    assert f"/contracts/{contract}/circularity" not in monitor_page
    # Only the supplier files; the buyer and coordinators confirm, not the supplier.
    assert (
        api_client(w.affiliate).post(f"/api/v1/contracts/{contract}/circularity", json=report(1)).status_code
        == 404
    )
    assert api_client(w.supplier).post(f"/api/v1/circularity/{filed['id']}/confirm").status_code == 404
    assert api_client(w.coordinator).post(f"/api/v1/circularity/{filed['id']}/confirm").status_code == 200
    # A product the contract does not cover is refused.
    refused = api_client(w.supplier).post(
        f"/api/v1/contracts/{contract}/circularity", json=report(w.products["phone"])
    )
    assert refused.status_code == 422
    assert "product_id" in refused.get_json()["error"]["errors"]


def test_fates_above_taken_back_are_refused(
    case_world: CaseWorld, api_client: Any, client_for: Clients, recycler: int
) -> None:
    w = case_world
    contract = w.contracts["a"]
    body = report(w.products["laptop"], taken_back=50)  # fates add up to 80
    refused = api_client(w.supplier).post(f"/api/v1/contracts/{contract}/circularity", json=body)
    assert refused.status_code == 422
    message = "add up to more devices than were taken back"
    assert message in str(refused.get_json()["error"]["errors"]["taken_back"])
    client = client_for(w.supplier)
    url = f"/contracts/{contract}/circularity/new"
    form = {k: str(v) for k, v in body.items() if k != "repairability_info"}
    page = post_form(client, url, form, form_page=url)
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)
    # The sites cannot hold more of a fate than the report counts either.
    sites = [{"site_id": recycler, "fate": "recycled", "count": 36}]
    too_many = api_client(w.supplier).post(
        f"/api/v1/contracts/{contract}/circularity", json=report(w.products["laptop"], sites=sites)
    )
    assert too_many.status_code == 422
    with w.session():
        assert db.session.scalar(select(CircularityReport)) is None


def test_a_query_needs_a_reason_and_the_supplier_resubmits(
    case_world: CaseWorld, api_client: Any, client_for: Clients, recycler: int
) -> None:
    w = case_world
    filed = file(w, api_client, recycler)
    buyer = api_client(w.affiliate)
    blank = buyer.post(f"/api/v1/circularity/{filed['id']}/query", json={"reason": "  "})
    assert blank.status_code == 422
    page = post_form(
        client_for(w.affiliate),
        f"/circularity/{filed['id']}/query",
        {"reason": ""},
        form_page=f"/circularity/{filed['id']}",
    )
    assert page.status_code == 422
    assert "Say what the supplier should check or correct." in page.get_data(as_text=True)
    queried = buyer.post(
        f"/api/v1/circularity/{filed['id']}/query", json={"reason": "Where did the 5 unknown go?"}
    )
    assert queried.status_code == 200
    assert queried.get_json()["state"] == "queried"
    # A queried report is left out of the loop until corrected, and cannot be confirmed.
    assert buyer.get("/api/v1/circularity/loop?year=2026").get_json()["products"] == []
    assert buyer.post(f"/api/v1/circularity/{filed['id']}/confirm").status_code == 422
    shown = client_for(w.supplier).get(f"/circularity/{filed['id']}").get_data(as_text=True)
    assert "Where did the 5 unknown go?" in shown

    again = file(w, api_client, recycler, unknown_fate=0, recycled=40, sites=[])
    assert again["id"] == filed["id"] and again["state"] == "submitted" and again["query_reason"] is None
    assert again["sites"] == []
    with w.session():
        actions = list(
            db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("circularity.%"))
                .order_by(AuditEntry.id)
            )
        )
        assert actions == ["circularity.file", "circularity.query", "circularity.resubmit"]
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "circularity.resubmit"))
        assert entry.data_dict["changes"]["recycled"] == [35, 40]
    assert buyer.post(f"/api/v1/circularity/{filed['id']}/confirm").status_code == 200
    final = api_client(w.supplier).post(
        f"/api/v1/contracts/{w.contracts['a']}/circularity", json=report(w.products["laptop"])
    )
    assert final.status_code == 422
    assert "can no longer change" in str(final.get_json()["error"]["errors"])


def _csv(*lines: str) -> bytes:
    header = (
        "brand,model,year,warranty_years,spare_part_years,os_update_years,delivered,taken_back,"
        "reused,recycled,sites"
    )
    return "\n".join([header, *lines]).encode()


def _upload(api_client: Any, user: User, contract: int, content: bytes) -> Any:
    return api_client(user).post(
        f"/api/v1/contracts/{contract}/circularity/import",
        data={"file": (io.BytesIO(content), "reports.csv")},
        content_type="multipart/form-data",
    )


def test_csv_upload_files_every_line_or_none(
    case_world: CaseWorld, api_client: Any, client_for: Clients, recycler: int
) -> None:
    w = case_world
    contract = w.contracts["a"]
    with w.session():
        laptop = db.session.get(Product, w.products["laptop"])
        brand, model = laptop.brand, laptop.model
    good = _csv(
        f"{brand},{model},2025,2,5,5,100,30,10,20,DE2026GREENLP01:recycled:20",
        f"{brand},{model.upper()},2026,3,7,7,120,60,30,30,{recycler}:reused:30;{recycler}:recycled:25",
    )
    done = _upload(api_client, w.supplier, contract, good)
    assert done.status_code == 200, done.get_json()
    assert done.get_json() == {"filed": 2, "resubmitted": 0}
    loop = api_client(w.affiliate).get("/api/v1/circularity/loop?year=2026").get_json()["products"][0]
    assert (loop["delivered"], loop["taken_back"], loop["spare_part_years"]) == (220, 90, 7)
    assert loop["collected_share"] == pytest.approx(90 / 220)

    bad = _csv(
        f"{brand},{model},2025,2,5,5,100,30,10,20,",
        f"{brand},{model},2024,2,5,5,100,10,10,20,",
        f"Nobrand,{model},2024,2,5,5,100,30,10,20,",
        f"{brand},{model},2023,2,5,5,100,30,10,20,99999999:recycled:5",
    )
    refused = _upload(api_client, w.supplier, contract, bad)
    assert refused.status_code == 422
    details = refused.get_json()["error"]["errors"]
    assert set(details) == {"3.taken_back", "4.model", "5.sites"}
    assert "add up to more devices" in details["3.taken_back"][0]
    # The good first line was not saved either: the 2025 report still has its first figures.
    with w.session():
        assert (
            db.session.scalar(select(CircularityReport.delivered).where(CircularityReport.year == 2025))
            == 100
        )
        assert db.session.query(CircularityReport).count() == 2
    # The page shows the same problems with their line numbers.
    client = client_for(w.supplier)
    url = f"/contracts/{contract}/circularity/import"
    page = post_form(
        client,
        url,
        {"file": (io.BytesIO(bad), "reports.csv")},
        form_page=url,
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    assert "The file was not imported" in page.get_data(as_text=True)
    other = _upload(api_client, w.supplier_y, contract, good)
    assert other.status_code == 404


def test_the_pages_file_confirm_and_show_a_report(
    case_world: CaseWorld, client_for: Clients, recycler: int
) -> None:
    w = case_world
    client = client_for(w.supplier)
    url = f"/contracts/{w.contracts['a']}/circularity/new"
    searched = post_form(client, url, {"site_0_q": "Green Loop", "site_0_search": "Search"}, form_page=url)
    assert searched.status_code == 200
    assert f'value="{recycler}"' in searched.get_data(as_text=True)
    data = {k: str(v) for k, v in report(w.products["laptop"]).items()}
    data.update({"site_0": str(recycler), "site_0_fate": "recycled", "site_0_count": "35"})
    saved = post_form(client, url, data, form_page=url)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with w.session():
        filed = db.session.scalar(select(CircularityReport))
        assert filed is not None and [(s.site_id, s.count) for s in filed.sites] == [(recycler, 35)]
        report_id = filed.id
    buyer = client_for(w.affiliate)
    shown = buyer.get(f"/circularity/{report_id}").get_data(as_text=True)
    assert "Green Loop Recycling" in shown and "Confirm the report" in shown
    assert "Confirm the report" not in client.get(f"/circularity/{report_id}").get_data(as_text=True)
    confirmed = post_form(
        buyer, f"/circularity/{report_id}/confirm", {}, form_page=f"/circularity/{report_id}"
    )
    assert confirmed.status_code == 302
    with w.session():
        assert db.session.get(CircularityReport, report_id).state is CircularityState.confirmed
    edit = client.get(f"/contracts/{w.contracts['a']}/circularity/{report_id}/edit")
    assert edit.status_code == 200
    assert "Manuals and parts at repair.example.org</textarea>" in edit.get_data(as_text=True)
    assert "Confirm the report" not in buyer.get(f"/circularity/{report_id}").get_data(as_text=True)


def test_the_buyer_queries_on_the_page(
    case_world: CaseWorld, api_client: Any, client_for: Clients, recycler: int
) -> None:
    w = case_world
    filed = file(w, api_client, recycler)
    url = f"/circularity/{filed['id']}"
    queried = post_form(
        client_for(w.affiliate), f"{url}/query", {"reason": "Which sites refurbished?"}, form_page=url
    )
    assert queried.status_code == 302
    with w.session():
        found = db.session.get(CircularityReport, filed["id"])
        assert (found.state, found.query_reason) == (CircularityState.queried, "Which sites refurbished?")
    assert "Correct the report" in client_for(w.supplier).get(url).get_data(as_text=True)


def test_the_routes_name_their_variable_circularity_id_not_a_worker_reports(app: Any) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    paths = {p.removeprefix("/api/v1"): ops for p, ops in document["paths"].items()}
    for path, method in [
        ("/circularity/{circularity_id}", "get"),
        ("/circularity/{circularity_id}/confirm", "post"),
        ("/circularity/{circularity_id}/query", "post"),
    ]:
        assert method in paths[path]
        parameters = [p for p in paths[path]["parameters"] if p["in"] == "path"]
        assert [p["name"] for p in parameters] == ["circularity_id"]
    assert not any(p.startswith("/circularity/{report_id}") for p in paths)
    with app.test_request_context():
        from flask import url_for

        assert url_for("circularity.report", circularity_id=7) == "/circularity/7"
        assert url_for("circularity.file_report", contract_id=3, circularity_id=7) == (
            "/contracts/3/circularity/7/edit"
        )
