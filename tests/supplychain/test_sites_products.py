"""Coordinators manage sites, products and currency rates; input is checked; others get 404."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitoring.accounts.models import UserRole
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain.matching import site_keys
from monitoring.supplychain.models import CurrencyRate, Product, Site
from tests.conftest import post_form
from tests.supplychain.helpers import count_rows


def put(api, url, **kwargs):
    """The test API client has no put(); send its token by hand."""
    return api.client.put(url, headers={"Authorization": f"Bearer {api.token}"}, **kwargs)


SITE = {
    "name": "Siam Circuit Boards Public Co., Ltd.",
    "address": "Rojana Industrial Park, 1/55 Moo 2",
    "city": "Ayutthaya",
    "country": "th",
    "kind": "component",
    "os_id": "TH2021045RJN7QA",
    "workers_approx": 2600,
    "latitude": 14.35,
    "longitude": 100.62,
}


def test_coordinator_adds_and_changes_a_site_by_api(app, api_client, coordinator):
    client = api_client(coordinator)
    response = client.post("/api/v1/sites", json=SITE)
    assert response.status_code == 201, response.get_json()
    site = response.get_json()
    assert site["country"] == "TH"
    assert site["merged_into_id"] is None
    changed = client.patch(
        f"/api/v1/sites/{site['id']}", json={"name": "Siam Circuit Boards Plant 2"}
    ).get_json()
    assert changed["name"] == "Siam Circuit Boards Plant 2"
    assert changed["os_id"] == SITE["os_id"]
    with app.app_context():
        stored = db.session.get(Site, site["id"])
        # The matching keys follow every change.
        assert stored.match_key == site_keys(changed["name"], SITE["address"], "TH").match_key
        assert stored.name_key == site_keys(changed["name"], "", "TH").name_key
        entry = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "site.update", AuditEntry.object_id == str(site["id"])
            )
        )
        assert entry.data_dict["name"] == [SITE["name"], "Siam Circuit Boards Plant 2"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "EU"}, "country"),
        ({"country": "Thailand"}, "country"),
        ({"os_id": "not-an-id"}, "os_id"),
        ({"latitude": 14.0, "longitude": None}, "latitude"),
        ({"latitude": 91.0}, "latitude"),
        ({"workers_approx": -1}, "workers_approx"),
        ({"kind": "warehouse"}, "kind"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_site_input_is_422_and_writes_nothing(app, api_client, coordinator, changes, field):
    client = api_client(coordinator)
    before = count_rows(app, Site), count_rows(app, AuditEntry)
    response = client.post("/api/v1/sites", json={**SITE, **changes})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["errors"]) == {field}
    assert (count_rows(app, Site), count_rows(app, AuditEntry)) == before


def test_duplicate_sites_are_refused(api_client, coordinator):
    client = api_client(coordinator)
    assert client.post("/api/v1/sites", json=SITE).status_code == 201
    same_id = client.post("/api/v1/sites", json={**SITE, "name": "Other", "address": "Elsewhere"})
    assert set(same_id.get_json()["error"]["errors"]) == {"os_id"}
    same_place = {
        **SITE,
        "os_id": None,
        "name": "SIAM CIRCUIT BOARDS PCL",
        "address": SITE["address"].upper(),
    }
    assert set(client.post("/api/v1/sites", json=same_place).get_json()["error"]["errors"]) == {"name"}


def test_coordinator_uses_the_site_and_product_forms(app, client_for, coordinator):
    client = client_for(coordinator)
    form = {**SITE, "country": "TH", "workers_approx": "2600", "latitude": "14.35", "longitude": "100.62"}
    response = post_form(client, "/sites/new", form, form_page="/sites/new")
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thailand" in page and "Component manufacturing" in page
    site_id = int(response.headers["Location"].rsplit("/", 1)[1])
    edit = client.get(f"/sites/{site_id}/edit").get_data(as_text=True)
    assert '<option selected value="TH">' in edit or '<option value="TH" selected>' in edit
    bad = post_form(
        client, f"/sites/{site_id}/edit", {**form, "country": "QQ"}, form_page=f"/sites/{site_id}/edit"
    )
    assert 'id="country-error"' in bad.get_data(as_text=True)

    created = post_form(
        client,
        "/products/new",
        {"brand": "Korvata", "model": "M480", "category": "printer"},
        form_page="/products/new",
    )
    assert created.status_code == 302
    product_id = int(created.headers["Location"].rsplit("/", 1)[1])
    duplicate = post_form(
        client,
        "/products/new",
        {"brand": "korvata", "model": " m480 ", "category": "printer"},
        form_page="/products/new",
    )
    assert "This brand already has a product with this model name." in duplicate.get_data(as_text=True)
    renamed = post_form(
        client,
        f"/products/{product_id}/edit",
        {"brand": "Korvata", "model": "PrintStation  M480", "category": "printer"},
        form_page=f"/products/{product_id}/edit",
    )
    assert renamed.status_code == 302
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert (product.model, product.model_key) == ("PrintStation M480", "printstation m480")


def test_country_names_follow_the_users_language(app, registry, client_for, create_user):
    site_id = registry.site("Labe Refurbishment s.r.o.", country="CZ")
    coordinator = create_user(UserRole.coordinator, locale="sv")
    page = client_for(coordinator).get(f"/sites/{site_id}").get_data(as_text=True)
    assert "Tjeckien" in page


def test_site_list_filters(registry, client_for, coordinator):
    th = registry.site("Bangkok Boards", country="TH", kind="component")
    cz = registry.site("Brno Servers", country="CZ", city="Brno")
    mx = registry.site("Juarez 100% Assembly", country="MX")
    client = client_for(coordinator)

    def listed(query):
        page = client.get(f"/sites?{query}").get_data(as_text=True)
        return {i for i in (th, cz, mx) if f'href="/sites/{i}"' in page}

    assert listed("") == {th, cz, mx}
    assert listed("country=TH") == {th}
    assert listed("kind=final_assembly") == {cz, mx}
    assert listed("q=brno") == {cz}
    assert listed("q=100%25") == {mx}  # the wildcard is taken literally
    assert listed("country=nonsense") == {th, cz, mx}  # a filter that does not parse is left out


@pytest.mark.parametrize("role", ["monitor", "affiliate", "supplier", "admin"])
def test_only_coordinators_manage_sites_products_and_rates(
    app, api_client, client_for, create_user, registry, role
):
    user = create_user(role)
    site_id, product_id = registry.site(), registry.product()
    api = api_client(user)
    assert api.post("/api/v1/sites", json=SITE).status_code == 404
    assert api.patch(f"/api/v1/sites/{site_id}", json={"name": "x"}).status_code == 404
    assert (
        api.post("/api/v1/products", json={"brand": "b", "model": "m", "category": "other"}).status_code
        == 404
    )
    assert api.patch(f"/api/v1/products/{product_id}", json={"model": "x"}).status_code == 404
    assert put(api, "/api/v1/currency-rates/SEK", json={"eur_per_unit": "0.1"}).status_code == 404
    html = client_for(user)
    for url in (
        "/sites/new",
        f"/sites/{site_id}/edit",
        "/products/new",
        f"/products/{product_id}/edit",
        "/currency-rates",
    ):
        assert html.get(url).status_code == 404, url
    assert count_rows(app, CurrencyRate) == 0


def test_currency_rates(app, api_client, client_for, coordinator, monitor, registry, create_organisation):
    client = api_client(coordinator)
    response = put(client, "/api/v1/currency-rates/sek", json={"eur_per_unit": "0.0871"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["eur_per_unit"] == "0.08710000"
    assert set(
        put(client, "/api/v1/currency-rates/EUR", json={"eur_per_unit": "1"}).get_json()["error"]["errors"]
    ) == {"currency"}
    assert set(
        put(client, "/api/v1/currency-rates/XXQ", json={"eur_per_unit": "1"}).get_json()["error"]["errors"]
    ) == {"currency"}
    assert put(client, "/api/v1/currency-rates/GBP", json={"eur_per_unit": "0"}).status_code == 422
    listed = api_client(monitor).get("/api/v1/currency-rates").get_json()["items"]
    assert [(r["currency"], r["eur_per_unit"]) for r in listed] == [("SEK", "0.08710000")]

    html = client_for(coordinator)
    saved = post_form(
        html, "/currency-rates", {"currency": "gbp", "eur_per_unit": "1.172"}, form_page="/currency-rates"
    )
    assert saved.status_code == 302
    with app.app_context():
        assert str(db.session.get(CurrencyRate, "GBP").eur_per_unit) == "1.17200000"
