"""Suppliers disclose sites only for the products of their own contracts, by form and by API."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain.models import Disclosure, Site
from tests.conftest import post_form
from tests.supplychain.helpers import TODAY, count_rows

REFUSAL = "You can only disclose sites for products that one of your contracts covers."


def _counts(app):
    return count_rows(app, Disclosure), count_rows(app, Site), count_rows(app, AuditEntry)


def _new_site_body(world, product, **site):
    return {
        "product_id": world.products[product],
        "part": "battery",
        "valid_from": TODAY.isoformat(),
        "site": {"name": "Nanhai Cell Works Co., Ltd.", "country": "CN", "kind": "component", **site},
    }


@pytest.mark.parametrize("product", ["P2", "P3"])
def test_api_refuses_a_product_outside_the_suppliers_contracts(app, world, api_client, product):
    client = api_client(world.users["X"])
    before = _counts(app)
    body = {"product_id": world.products[product], "site_id": world.sites["S1"], "part": "battery"}
    response = client.post("/api/v1/disclosures", json={**body, "valid_from": "2025-01-01"})
    assert response.status_code == 422
    assert response.get_json()["error"]["errors"] == {"product_id": [REFUSAL]}
    assert _counts(app) == before


def test_form_refuses_a_product_outside_the_suppliers_contracts(app, world, client_for):
    client = client_for(world.users["X"])
    before = _counts(app)
    response = post_form(
        client,
        "/disclosures/new",
        {
            "product": world.products["P2"],
            "part": "battery",
            "site": world.sites["S1"],
            "valid_from": TODAY.isoformat(),
        },
        form_page="/disclosures/new",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="product-error">{REFUSAL}</p>' in page
    assert _counts(app) == before
    # The form offers only the supplier's own products.
    form = client.get("/disclosures/new").get_data(as_text=True)
    assert f'value="{world.products["P1"]}"' in form
    assert f'value="{world.products["P2"]}"' not in form


def test_form_discloses_at_a_new_site_and_then_at_the_same_site(app, world, client_for):
    client = client_for(world.users["X"])
    data = {
        "product": world.products["P1"],
        "part": "battery",
        "site": "new",
        "site_name": "Nanhai Cell Works Co., Ltd.",
        "site_address": "3 Shishan Road",
        "site_city": "Foshan",
        "site_country": "CN",
        "site_kind": "component",
        "valid_from": TODAY.isoformat(),
        "source": "Supplier list 2025",
    }
    response = post_form(client, "/disclosures/new", data, form_page="/disclosures/new")
    assert response.status_code == 302, response.get_data(as_text=True)
    sites = count_rows(app, Site)
    # Described again with other spacing, case and legal form: matched, not added twice.
    again = {
        **data,
        "part": "casing",
        "site_name": "NANHAI  cell works co ltd",
        "site_address": "3 shishan road",
    }
    assert post_form(client, "/disclosures/new", again, form_page="/disclosures/new").status_code == 302
    assert count_rows(app, Site) == sites
    with app.app_context():
        site_ids = set(
            db.session.scalars(select(Disclosure.site_id).where(Disclosure.source == "Supplier list 2025"))
        )
        assert len(site_ids) == 1
    page = client.get(f"/sites/{site_ids.pop()}").get_data(as_text=True)
    assert "Nanhai Cell Works" in page and "Battery" in page and "Casing" in page


def test_form_needs_a_site(app, world, client_for):
    client = client_for(world.users["X"])
    data = {
        "product": world.products["P1"],
        "part": "battery",
        "site": "new",
        "valid_from": TODAY.isoformat(),
    }
    response = post_form(client, "/disclosures/new", data, form_page="/disclosures/new")
    assert 'id="site_name-error"' in response.get_data(as_text=True)
    data = {**data, "site_name": "Somewhere", "site_kind": "component"}
    response = post_form(client, "/disclosures/new", data, form_page="/disclosures/new")
    assert 'id="site_country-error"' in response.get_data(as_text=True)


def test_api_reuses_a_site_by_open_supply_hub_id(app, world, api_client, registry):
    known = registry.site("Huaxin Precision", os_id="CN2019123ABC456")
    body = {**_new_site_body(world, "P1", os_id="cn2019123abc456", name="Another name")}
    response = api_client(world.users["X"]).post("/api/v1/disclosures", json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["site"]["id"] == known


def test_api_refuses_a_site_the_supplier_does_not_see(app, world, api_client):
    body = {"product_id": world.products["P1"], "site_id": world.sites["S2"], "part": "battery"}
    response = api_client(world.users["X"]).post(
        "/api/v1/disclosures", json={**body, "valid_from": "2025-01-01"}
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["errors"]) == {"site_id"}


@pytest.mark.parametrize(
    ("site", "field"),
    [({"country": "QQ"}, "site.country"), ({"os_id": "12"}, "site.os_id"), ({"name": "  "}, "site.name")],
)
def test_api_names_the_field_of_a_bad_new_site(app, world, api_client, site, field):
    client = api_client(world.users["X"])
    before = _counts(app)
    response = client.post("/api/v1/disclosures", json=_new_site_body(world, "P1", **site))
    assert response.status_code == 422
    assert set(response.get_json()["error"]["errors"]) == {field}
    assert _counts(app) == before


def test_api_input_is_checked(world, api_client):
    client = api_client(world.users["X"])
    both = {**_new_site_body(world, "P1"), "site_id": world.sites["S1"]}
    assert set(client.post("/api/v1/disclosures", json=both).get_json()["error"]["errors"]) == {"site_id"}
    bad_dates = {**_new_site_body(world, "P1"), "valid_to": "2000-01-01"}
    response = client.post("/api/v1/disclosures", json=bad_dates)
    assert set(response.get_json()["error"]["errors"]) == {"valid_to"}


@pytest.mark.parametrize("who", ["coordinator", "monitor", "A", "admin"])
def test_only_suppliers_disclose(world, api_client, client_for, who):
    body = {"product_id": world.products["P1"], "site_id": world.sites["S1"], "part": "battery"}
    response = api_client(world.users[who]).post(
        "/api/v1/disclosures", json={**body, "valid_from": "2025-01-01"}
    )
    assert response.status_code == 404
    assert client_for(world.users[who]).get("/disclosures/new").status_code == 404


def test_supplier_withdraws_its_own_disclosure_only(app, world, api_client, client_for):
    other = api_client(world.users["Y"])
    assert other.post(f"/api/v1/disclosures/{world.disclosures['D1']}/withdraw").status_code == 404
    assert other.get(f"/api/v1/disclosures/{world.disclosures['D1']}").status_code == 404
    assert (
        post_form(
            client_for(world.users["Y"]), f"/disclosures/{world.disclosures['D1']}/withdraw"
        ).status_code
        == 404
    )

    client = client_for(world.users["X"])
    response = post_form(client, f"/disclosures/{world.disclosures['D1']}/withdraw", form_page="/disclosures")
    assert response.status_code == 302
    with app.app_context():
        disclosure = db.session.get(Disclosure, world.disclosures["D1"])
        assert disclosure.withdrawn_dt is not None
        assert disclosure.withdrawn_by_id == world.users["X"].id
        assert db.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "disclosure.withdraw", AuditEntry.object_id == str(disclosure.id)
            )
        )
    # Withdrawn: it no longer links S1, so buyer A loses sight of the site.
    assert client_for(world.users["A"]).get(f"/sites/{world.sites['S1']}").status_code == 404
    again = api_client(world.users["X"]).post(f"/api/v1/disclosures/{world.disclosures['D1']}/withdraw")
    assert again.status_code == 422


def test_disclosure_list_filters_by_state(world, client_for):
    client = client_for(world.users["X"])
    withdrawn = client.get("/disclosures?state=withdrawn").get_data(as_text=True)
    current = client.get("/disclosures?state=current").get_data(as_text=True)
    assert f'/sites/{world.sites["S4"]}"' in withdrawn and f'/sites/{world.sites["S1"]}"' not in withdrawn
    assert f'/sites/{world.sites["S1"]}"' in current and f'/sites/{world.sites["S4"]}"' not in current
    assert f"/disclosures/{world.disclosures['D1']}/withdraw" in current
