"""Affiliates manage their own contracts: clauses and covered products; others get 404."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain.models import Contract, ContractClause, Product
from tests.conftest import post_form
from tests.supplychain.helpers import count_rows


def _body(world, **changes):
    return {
        "supplier_id": world.orgs["X"],
        "reference": "NH-2026-009",
        "title": "Laptops for schools",
        "start_date": "2026-01-01",
        "end_date": "2029-12-31",
        "annual_spend": "125000.5",
        "currency": "sek",
        "clauses": [
            {"kind": "labour_standards", "reference": "§ 12", "text": "ILO core conventions apply."},
            {"kind": "monitoring", "text": "Worker-driven monitoring is accepted."},
        ],
        **changes,
    }


def test_affiliate_creates_and_updates_a_contract_by_api(app, world, api_client):
    client = api_client(world.users["A"])
    response = client.post("/api/v1/contracts", json=_body(world))
    assert response.status_code == 201, response.get_json()
    contract = response.get_json()
    assert contract["affiliate"]["id"] == world.orgs["A"]
    assert contract["supplier"]["id"] == world.orgs["X"]
    assert contract["annual_spend"] == "125000.50"
    assert contract["currency"] == "SEK"
    assert [(c["position"], c["kind"], c["reference"]) for c in contract["clauses"]] == [
        (1, "labour_standards", "§ 12"),
        (2, "monitoring", ""),
    ]
    url = f"/api/v1/contracts/{contract['id']}"
    # A change that leaves the clauses out keeps them; giving them replaces them all.
    changed = client.patch(url, json={"title": "Laptops and tablets for schools"}).get_json()
    assert changed["title"] == "Laptops and tablets for schools"
    assert len(changed["clauses"]) == 2
    replaced = client.patch(url, json={"clauses": [{"kind": "circularity", "text": "Take back."}]}).get_json()
    assert [(c["position"], c["kind"]) for c in replaced["clauses"]] == [(1, "circularity")]
    with app.app_context():
        assert db.session.scalars(
            select(ContractClause.text).where(ContractClause.contract_id == contract["id"])
        ).all() == ["Take back."]
        actions = db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "contract", AuditEntry.object_id == str(contract["id"]))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["contract.create", "contract.update", "contract.update"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"end_date": "2025-01-01"}, "end_date"),
        ({"reference": "  "}, "reference"),
        ({"annual_spend": "-1"}, "annual_spend"),
        ({"clauses": [{"kind": "monitoring", "text": ""}]}, "clauses"),
        ({"clauses": [{"kind": "bribery", "text": "x"}]}, "clauses"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_contract_input_is_422_and_writes_nothing(app, world, api_client, changes, field):
    client = api_client(world.users["A"])
    before = count_rows(app, Contract), count_rows(app, AuditEntry)
    response = client.post("/api/v1/contracts", json=_body(world, **changes))
    assert response.status_code == 422
    # A nested field is named by its path (clauses.0.text).
    assert field in {name.split(".")[0] for name in response.get_json()["error"]["errors"]}
    assert (count_rows(app, Contract), count_rows(app, AuditEntry)) == before


def test_supplier_must_be_an_active_supplier_and_references_are_unique(app, world, api_client):
    client = api_client(world.users["A"])
    response = client.post("/api/v1/contracts", json=_body(world, supplier_id=world.orgs["B"]))
    assert set(response.get_json()["error"]["errors"]) == {"supplier_id"}
    assert client.post("/api/v1/contracts", json=_body(world)).status_code == 201
    again = client.post("/api/v1/contracts", json=_body(world, reference="nh-2026-009"))
    assert set(again.get_json()["error"]["errors"]) == {"reference"}
    # Another buyer may use the same reference.
    assert api_client(world.users["B"]).post("/api/v1/contracts", json=_body(world)).status_code == 201


@pytest.mark.parametrize("who", ["coordinator", "monitor", "X", "admin"])
def test_only_affiliates_register_contracts(world, api_client, client_for, who):
    assert api_client(world.users[who]).post("/api/v1/contracts", json=_body(world)).status_code == 404
    assert client_for(world.users[who]).get("/contracts/new").status_code == 404


def test_another_buyers_contract_is_404_for_every_change(app, world, api_client, client_for):
    b1 = world.contracts["B1"]
    client = api_client(world.users["A"])
    assert client.patch(f"/api/v1/contracts/{b1}", json={"title": "Mine"}).status_code == 404
    assert (
        client.post(f"/api/v1/contracts/{b1}/products", json={"product_id": world.products["P1"]}).status_code
        == 404
    )
    assert client.delete(f"/api/v1/contracts/{b1}/products/{world.products['P2']}").status_code == 404
    html = client_for(world.users["A"])
    assert html.get(f"/contracts/{b1}/edit").status_code == 404
    assert post_form(html, f"/contracts/{b1}/products", {"brand": "x", "model": "y"}).status_code == 404
    assert post_form(html, f"/contracts/{b1}/products/{world.products['P2']}/remove").status_code == 404
    # The supplier of a contract reads it but does not change it.
    supplier = api_client(world.users["X"])
    assert supplier.get(f"/api/v1/contracts/{world.contracts['A1']}").status_code == 200
    assert (
        supplier.patch(f"/api/v1/contracts/{world.contracts['A1']}", json={"title": "x"}).status_code == 404
    )
    with app.app_context():
        assert db.session.get(Contract, b1).title == "Laptops"


def test_affiliate_adds_a_new_product_to_its_contract_and_then_sees_it(app, world, api_client):
    client = api_client(world.users["A"])
    url = f"/api/v1/contracts/{world.contracts['A1']}/products"
    missing_category = client.post(url, json={"brand": "Vistaro", "model": "Meeting Display 65"})
    assert set(missing_category.get_json()["error"]["errors"]) == {"category"}
    response = client.post(
        url,
        json={
            "brand": " Vistaro ",
            "model": "Meeting  Display 65",
            "category": "audio_visual",
            "quantity": 4,
        },
    )
    assert response.status_code == 201, response.get_json()
    item = next(i for i in response.get_json()["products"] if i["product"]["brand"] == "Vistaro")
    assert item["product"]["model"] == "Meeting Display 65"
    assert item["quantity"] == 4
    assert client.get(f"/api/v1/products/{item['product']['id']}").status_code == 200
    # Named again in another case: the same product, and already covered.
    again = client.post(url, json={"brand": "VISTARO", "model": "meeting display 65"})
    assert set(again.get_json()["error"]["errors"]) == {"product_id"}
    # An existing product by name, without a category.
    known = client.post(url, json={"brand": "testbrand", "model": "p3 MODEL"})
    assert known.status_code == 201
    assert world.products["P3"] in {i["product"]["id"] for i in known.get_json()["products"]}
    removed = client.delete(f"{url}/{world.products['P3']}")
    assert world.products["P3"] not in {i["product"]["id"] for i in removed.get_json()["products"]}
    with app.app_context():
        assert (
            db.session.scalar(select(Product.created_by_id).where(Product.brand == "Vistaro"))
            == world.users["A"].id
        )


def test_affiliate_uses_the_contract_forms(app, world, client_for):
    client = client_for(world.users["A"])
    data = {
        "supplier": world.orgs["Y"],
        "reference": "VRC/TIC/2026/01",
        "title": "Servers",
        "start_date": "2026-02-01",
        "annual_spend": "99000",
        "currency": "EUR",
        "labour_conditions": "y",
        "clauses-0-kind": "labour_standards",
        "clauses-0-reference": "§ 4",
        "clauses-0-text": "RBA Code of Conduct applies.",
        "clauses-1-kind": "monitoring",
        "clauses-1-text": "",
    }
    response = post_form(client, "/contracts/new", data, form_page="/contracts/new")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "RBA Code of Conduct applies." in page
    with app.app_context():
        contract = db.session.scalar(select(Contract).where(Contract.reference == "VRC/TIC/2026/01"))
        assert [c.text for c in contract.clauses] == ["RBA Code of Conduct applies."]
        contract_id = contract.id
    edit = client.get(f"/contracts/{contract_id}/edit").get_data(as_text=True)
    assert "RBA Code of Conduct applies." in edit and 'name="clauses-2-text"' in edit  # two spare rows

    added = post_form(
        client,
        f"/contracts/{contract_id}/products",
        {"brand": "Lumenbyte", "model": "Rackline R740", "category": "server", "quantity": "10"},
        form_page=f"/contracts/{contract_id}",
    )
    assert added.status_code == 302
    assert "Rackline R740" in client.get(f"/contracts/{contract_id}").get_data(as_text=True)
    refused = post_form(
        client,
        f"/contracts/{contract_id}/products",
        {"brand": "Nobrand", "model": "Unknown 1"},
        form_page=f"/contracts/{contract_id}",
    )
    assert 'id="category-error"' in refused.get_data(as_text=True)

    bad = post_form(
        client, "/contracts/new", {**data, "reference": "R2", "currency": "ZZZ"}, form_page="/contracts/new"
    )
    assert 'id="currency-error"' in bad.get_data(as_text=True)


def test_a_deactivated_supplier_stays_on_its_contracts_but_gets_no_new_ones(app, world, api_client):
    from monitoring.accounts.models import Organisation

    with app.app_context():
        db.session.get(Organisation, world.orgs["X"]).is_active = False
        db.session.commit()
    client = api_client(world.users["A"])
    response = client.patch(f"/api/v1/contracts/{world.contracts['A1']}", json={"title": "Laptops, extended"})
    assert response.status_code == 200, response.get_json()
    refused = client.post("/api/v1/contracts", json=_body(world))
    assert set(refused.get_json()["error"]["errors"]) == {"supplier_id"}
