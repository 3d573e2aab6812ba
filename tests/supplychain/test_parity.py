"""Pages and API are two skins over one service layer: every list filter gives the same rows,
and an affiliate and a supplier see the same of a site and of a contract on both."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from monitoring.accounts.models import Organisation
from tests.supplychain.helpers import World

ROW_ID = re.compile(r'<tr data-id="(\d+)"')

# (page, API list, filters as keys of the world or literal values); each runs for each user.
FILTERS = [
    ("/sites", "/api/v1/sites", {}),
    ("/sites", "/api/v1/sites", {"q": "Site S1"}),
    ("/sites", "/api/v1/sites", {"q": "industrial"}),
    ("/sites", "/api/v1/sites", {"country": "CN"}),
    ("/sites", "/api/v1/sites", {"country": "TH"}),
    ("/sites", "/api/v1/sites", {"kind": "final_assembly"}),
    ("/sites", "/api/v1/sites", {"kind": "component"}),
    ("/products", "/api/v1/products", {}),
    ("/products", "/api/v1/products", {"q": "P1 model"}),
    ("/products", "/api/v1/products", {"category": "laptop"}),
    ("/products", "/api/v1/products", {"category": "smartphone"}),
    ("/contracts", "/api/v1/contracts", {}),
    ("/contracts", "/api/v1/contracts", {"affiliate_id": "org:A"}),
    ("/contracts", "/api/v1/contracts", {"supplier_id": "org:Y"}),
    ("/contracts", "/api/v1/contracts", {"in_force": "true"}),
    ("/contracts", "/api/v1/contracts", {"in_force": "false"}),
    ("/disclosures", "/api/v1/disclosures", {}),
    ("/disclosures", "/api/v1/disclosures", {"product_id": "product:P1"}),
    ("/disclosures", "/api/v1/disclosures", {"site_id": "site:S2"}),
    ("/disclosures", "/api/v1/disclosures", {"current": "true"}),
    ("/disclosures", "/api/v1/disclosures", {"current": "false"}),
    ("/disclosures", "/api/v1/disclosures", {"state": "current"}),
    ("/disclosures", "/api/v1/disclosures", {"state": "ended"}),
    ("/disclosures", "/api/v1/disclosures", {"state": "withdrawn"}),
]
USERS = ["coordinator", "monitor", "A", "X"]


def _resolve(world: World, filters: dict[str, str]) -> dict[str, str]:
    where = {"org": world.orgs, "product": world.products, "site": world.sites}
    resolved = {}
    for name, value in filters.items():
        kind, _, key = value.partition(":")
        resolved[name] = str(where[kind][key]) if kind in where and key else value
    return resolved


def page_ids(client, url: str, params: dict[str, str]) -> list[int]:
    response = client.get(url, query_string=params)
    assert response.status_code == 200, (url, params)
    return [int(i) for i in ROW_ID.findall(response.get_data(as_text=True))]


def api_ids(api, url: str, params: dict[str, str]) -> list[int]:
    response = api.get(url, query_string=params)
    assert response.status_code == 200, (url, params, response.get_json())
    return [item["id"] for item in response.get_json()["items"]]


@pytest.mark.parametrize("user", USERS)
def test_every_list_filter_gives_the_same_rows_on_page_and_api(world, registry, client_for, api_client, user):
    registry.site("Thai Component Works", country="TH", kind="component")
    registry.contract(world.orgs["A"], world.orgs["Y"], [world.products["P3"]], start=_past(), end=_past(1))
    client, api = client_for(world.users[user]), api_client(world.users[user])
    empty = 0
    for page_url, api_url, filters in FILTERS:
        params = _resolve(world, filters)
        ids = api_ids(api, api_url, params)
        assert page_ids(client, page_url, params) == ids, (user, page_url, params)
        empty += not ids
    assert empty < len(FILTERS) / 2  # the filters pick rows, they do not all come back empty


@pytest.mark.parametrize("state", ["proposed", "merged", "dismissed"])
def test_duplicate_filter_gives_the_same_pairs_on_page_and_api(
    world, registry, client_for, api_client, state
):
    coordinator = world.users["coordinator"]
    api = api_client(coordinator)
    for n, decision in enumerate(("merge", "dismiss", None)):
        twin = registry.site(f"Site S1 twin {n}")
        pair = api.post("/api/v1/sites/duplicates", json={"site_id": world.sites["S2"], "candidate_id": twin})
        if decision:
            assert (
                api.post(f"/api/v1/sites/duplicates/{pair.get_json()['id']}/{decision}", json={}).status_code
                == 200
            )
    params = {"state": state}
    ids = api_ids(api, "/api/v1/sites/duplicates", params)
    assert len(ids) == 1
    assert page_ids(client_for(coordinator), "/sites/duplicates", params) == ids


# --- what an affiliate and a supplier see -----------------------------------------------------


def _shown(page: str, value: str) -> bool:
    return html.escape(value, quote=False) in page or value in html.unescape(page)


@pytest.mark.parametrize("user", ["A", "X"])
def test_a_site_shows_the_same_on_page_and_api(app, world, registry, client_for, api_client, user):
    site_id = world.sites["S1"]
    page = client_for(world.users[user]).get(f"/sites/{site_id}").get_data(as_text=True)
    api = api_client(world.users[user])
    site = api.get(f"/api/v1/sites/{site_id}").get_json()
    for name in ("name", "address", "city"):
        assert _shown(page, site[name]), name
    concerned = api.get(f"/api/v1/sites/{site_id}/concerned")
    other_buyer = registry.get(Organisation, world.orgs["B"]).name
    assert not _shown(page, other_buyer)
    if user == "A":
        body = concerned.get_json()
        assert body["leverage"] is None and body["unconverted"] is None
        for supplier in body["suppliers"]:
            assert _shown(page, supplier["organisation"]["name"])
        assert body["other_affiliates"] == 0
        assert [a["organisation"]["id"] for a in body["affiliates"]] == [world.orgs["A"]]
    else:
        # A supplier sees neither the buyers nor the suppliers a site concerns, on either skin.
        assert concerned.status_code == 404
        assert not _shown(page, registry.get(Organisation, world.orgs["A"]).name)
        assert "Collective leverage" not in page


@pytest.mark.parametrize("user", ["A", "X"])
def test_a_contract_shows_the_same_on_page_and_api(world, client_for, api_client, user):
    contract_id = world.contracts["A1"]
    page = client_for(world.users[user]).get(f"/contracts/{contract_id}").get_data(as_text=True)
    contract = api_client(world.users[user]).get(f"/api/v1/contracts/{contract_id}").get_json()
    shown = [
        contract["reference"],
        contract["title"],
        contract["affiliate"]["name"],
        contract["supplier"]["name"],
        *(clause["text"] for clause in contract["clauses"]),
        *(f"{item['product']['brand']} {item['product']['model']}" for item in contract["products"]),
    ]
    for value in shown:
        assert _shown(page, value), value
    # Neither skin shows a contract of another buyer.
    other = world.contracts["B1"]
    assert client_for(world.users[user]).get(f"/contracts/{other}").status_code == 404
    assert api_client(world.users[user]).get(f"/api/v1/contracts/{other}").status_code == 404


def _past(years: int = 2) -> date:
    return date.today() - timedelta(days=365 * years)
