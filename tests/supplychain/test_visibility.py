"""Who sees what: every role sees exactly its part of the registry; anything else is 404."""

from __future__ import annotations

import pytest

from tests.supplychain.helpers import SEES, TODAY

ROLES = ["coordinator", "monitor", "A", "B", "X", "Y"]

API_LISTS = {
    "contracts": "/api/v1/contracts",
    "products": "/api/v1/products",
    "sites": "/api/v1/sites",
    "disclosures": "/api/v1/disclosures",
}
HTML_PAGES = {"contracts": "/contracts/{}", "products": "/products/{}", "sites": "/sites/{}"}


def _ids(world, kind, keys):
    return {getattr(world, kind)[key] for key in keys}


@pytest.mark.parametrize("who", ROLES)
def test_api_lists_hold_exactly_what_the_role_sees(world, api_client, who):
    client = api_client(world.users[who])
    for kind, url in API_LISTS.items():
        response = client.get(url)
        assert response.status_code == 200, (kind, response.get_json())
        assert {item["id"] for item in response.get_json()["items"]} == _ids(world, kind, SEES[who][kind]), (
            kind
        )


@pytest.mark.parametrize("who", ROLES)
def test_api_details_are_404_for_what_the_role_does_not_see(world, api_client, who):
    client = api_client(world.users[who])
    for kind in API_LISTS:
        for key, ident in getattr(world, kind).items():
            response = client.get(f"{API_LISTS[kind]}/{ident}")
            expected = 200 if key in SEES[who][kind] else 404
            assert response.status_code == expected, (who, kind, key)


@pytest.mark.parametrize("who", ROLES)
def test_pages_are_404_for_what_the_role_does_not_see(world, client_for, who):
    client = client_for(world.users[who])
    for kind, url in HTML_PAGES.items():
        for key, ident in getattr(world, kind).items():
            response = client.get(url.format(ident))
            expected = 200 if key in SEES[who][kind] else 404
            assert response.status_code == expected, (who, kind, key)


@pytest.mark.parametrize("who", ROLES)
def test_list_pages_show_exactly_what_the_role_sees(world, client_for, who):
    client = client_for(world.users[who])
    sites = client.get("/sites").get_data(as_text=True)
    contracts = client.get("/contracts").get_data(as_text=True)
    products = client.get("/products").get_data(as_text=True)
    for key, ident in world.sites.items():
        assert (f'href="/sites/{ident}"' in sites) == (key in SEES[who]["sites"]), (who, key)
    for key, ident in world.contracts.items():
        assert (f'href="/contracts/{ident}"' in contracts) == (key in SEES[who]["contracts"]), (who, key)
    for key, ident in world.products.items():
        assert (f'href="/products/{ident}"' in products) == (key in SEES[who]["products"]), (who, key)


def test_affiliate_supply_chain_shows_its_contracts_products_and_sites(world, client_for):
    page = client_for(world.users["A"]).get("/my-supply-chain").get_data(as_text=True)
    assert f'href="/contracts/{world.contracts["A1"]}"' in page
    assert f'href="/contracts/{world.contracts["B1"]}"' not in page
    assert f'href="/products/{world.products["P1"]}"' in page
    assert f'href="/sites/{world.sites["S1"]}"' in page
    # The withdrawn disclosure at S4 and the other buyer's site S2 are not there.
    assert f'href="/sites/{world.sites["S4"]}"' not in page
    assert f'href="/sites/{world.sites["S2"]}"' not in page


def test_affiliate_supply_chain_shows_the_first_sites_of_a_product_and_counts_the_rest(
    world, registry, client_for
):
    from monitoring.supplychain.services import SITES_SHOWN

    x = world.users["X"].id
    # Named so that they sort after S1 ("Site S1"), two more than are shown with it.
    extra = [registry.site(f"Site T{n:02d}") for n in range(SITES_SHOWN + 1)]
    for site_id in extra:
        registry.disclose(x, world.products["P1"], site_id, "battery")
    page = client_for(world.users["A"]).get("/my-supply-chain").get_data(as_text=True)
    assert f'href="/sites/{world.sites["S1"]}"' in page
    for site_id in extra[: SITES_SHOWN - 1]:
        assert f'href="/sites/{site_id}"' in page
    for site_id in extra[SITES_SHOWN - 1 :]:
        assert f'href="/sites/{site_id}"' not in page
    # The withdrawn disclosure at S4 is neither shown nor counted.
    assert "and 2 more sites: see the product" in page
    assert f'href="/sites/{world.sites["S4"]}"' not in page


def test_site_page_of_an_affiliate_hides_other_buyers_names(world, registry, client_for, api_client):
    # Buyer B also buys P1 now, so S1 concerns A and B.
    registry.contract(world.orgs["B"], world.orgs["X"], [world.products["P1"]], reference="B-P1")
    page = client_for(world.users["A"]).get(f"/sites/{world.sites['S1']}").get_data(as_text=True)
    b_name = world.users["B"].organisation.name
    assert b_name not in page
    assert "1 other public buyer has contracts in force that reach this site." in page
    coordinator_page = client_for(world.users["coordinator"]).get(f"/sites/{world.sites['S1']}")
    assert b_name in coordinator_page.get_data(as_text=True)

    concerned = api_client(world.users["A"]).get(f"/api/v1/sites/{world.sites['S1']}/concerned").get_json()
    assert [a["organisation"]["id"] for a in concerned["affiliates"]] == [world.orgs["A"]]
    assert concerned["other_affiliates"] == 1
    assert concerned["leverage"] is None
    everyone = (
        api_client(world.users["monitor"]).get(f"/api/v1/sites/{world.sites['S1']}/concerned").get_json()
    )
    assert {a["organisation"]["id"] for a in everyone["affiliates"]} == {world.orgs["A"], world.orgs["B"]}
    assert everyone["other_affiliates"] is None
    assert everyone["leverage"]["affiliates"] == 2


@pytest.mark.parametrize(
    "url",
    [
        "/sites",
        "/sites/leverage",
        "/products",
        "/contracts",
        "/disclosures",
        "/my-supply-chain",
        "/currency-rates",
    ],
)
def test_admin_sees_none_of_the_registry(world, client_for, url):
    assert client_for(world.users["admin"]).get(url).status_code == 404


def test_admin_gets_404_from_the_registry_api(world, api_client):
    client = api_client(world.users["admin"])
    for url in [*API_LISTS.values(), f"/api/v1/sites/{world.sites['S1']}", "/api/v1/sites/leverage"]:
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(
    ("who", "allowed"), [("coordinator", True), ("monitor", True), ("A", False), ("X", False)]
)
def test_leverage_is_for_coordinators_and_monitors(world, client_for, api_client, who, allowed):
    expected = 200 if allowed else 404
    assert client_for(world.users[who]).get("/sites/leverage").status_code == expected
    assert api_client(world.users[who]).get("/api/v1/sites/leverage").status_code == expected


def test_suppliers_get_404_for_whom_a_site_concerns(world, api_client):
    response = api_client(world.users["X"]).get(f"/api/v1/sites/{world.sites['S1']}/concerned")
    assert response.status_code == 404


def test_merged_site_is_not_listed_but_readers_reach_its_page(world, registry, app, client_for, api_client):
    from monitoring.core.db import db
    from monitoring.core.types import utcnow
    from monitoring.supplychain.models import Disclosure, Site

    with app.app_context():
        merged = db.session.get(Site, world.sites["S4"])
        merged.merged_into_id, merged.merged_dt = world.sites["S1"], utcnow()
        db.session.query(Disclosure).filter_by(site_id=merged.id).update({"site_id": world.sites["S1"]})
        db.session.commit()
    coordinator = client_for(world.users["coordinator"])
    assert f'href="/sites/{world.sites["S4"]}"' not in coordinator.get("/sites").get_data(as_text=True)
    page = coordinator.get(f"/sites/{world.sites['S4']}").get_data(as_text=True)
    assert "This site was merged into another site" in page
    assert f'href="/sites/{world.sites["S1"]}"' in page
    ids = {s["id"] for s in api_client(world.users["monitor"]).get("/api/v1/sites").get_json()["items"]}
    assert world.sites["S4"] not in ids
    # A supplier whose disclosure moved along no longer reaches the merged site.
    assert client_for(world.users["X"]).get(f"/sites/{world.sites['S4']}").status_code == 404


@pytest.mark.parametrize("many", [0, 10_000])  # the walk by site name, and the plain sort
def test_the_first_sites_of_a_product_are_the_same_found_either_way(app, world, registry, monkeypatch, many):
    """Sites of the same name, disclosed in another order than their ids, several parts at one
    site: the first few are the first by (site name, disclosure id), found by either query."""
    from monitoring.accounts.models import User
    from monitoring.core.db import db
    from monitoring.supplychain import services
    from monitoring.supplychain.models import Disclosure, Site
    from monitoring.supplychain.permissions import visible_disclosures

    monkeypatch.setattr(services, "MANY_SITES", many)
    monkeypatch.setattr(services, "_walks_by_name", lambda: True)  # on PostgreSQL too
    x, p1 = world.users["X"].id, world.products["P1"]
    twins = [registry.site("Site T") for _ in range(services.SITES_SHOWN + 2)]
    for site_id in reversed(twins):
        registry.disclose(x, p1, site_id, "battery")
    registry.disclose(x, p1, twins[0], "display")
    registry.disclose(x, p1, registry.site("Site A"), "casing")
    with app.app_context():
        user = db.session.get(User, world.users["A"].id)
        rows = db.session.execute(
            visible_disclosures(user, TODAY)
            .join(Site, Site.id == Disclosure.site_id)
            .where(Disclosure.product_id == p1)
            .with_only_columns(Site.name, Disclosure.id)
        ).all()
        expected = [d for _name, d in sorted(rows)]
        made_at = services.first_sites_of_products(user, {p1}, TODAY)[p1]
        assert [d.id for d in made_at.shown] == expected[: services.SITES_SHOWN]
        assert made_at.total == len(expected) == services.SITES_SHOWN + 5
