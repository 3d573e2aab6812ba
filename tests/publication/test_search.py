"""The case board's text search and the search box, scoped by what each role may see."""

from __future__ import annotations

import pytest

from monitoring.accounts.models import Organisation
from monitoring.cases.models import Case
from monitoring.supplychain.models import Site
from tests.cases.helpers import CaseWorld

SUMMARY = "Dormitory locks checked nightly 5521"


@pytest.fixture
def found(case_world: CaseWorld) -> dict[str, str]:
    """A case at the site with an action for supplier X, and the texts that should find it."""
    w = case_world
    finding_id = w.finding(summary=SUMMARY)
    case_id = w.case(findings=[finding_id])
    w.action(case_id)
    case = w.get(Case, case_id)
    return {
        "case_id": str(case_id),
        "finding": f'/findings/{finding_id}"',
        "reference": case.reference,
        "site": w.get(Site, w.site).name.split()[0].upper(),  # case-insensitive, part of the name
        "supplier": w.get(Organisation, w.orgs["supplier_x"]).name,
    }


def _api_ids(api_client, user, q: str) -> set[int]:
    response = api_client(user).get("/api/v1/cases", query_string={"q": q, "limit": 200})
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


@pytest.mark.parametrize("key", ["reference", "site", "supplier"])
@pytest.mark.parametrize("who", ["coordinator", "monitor", "affiliate"])
def test_board_search_finds_by_reference_site_and_supplier(
    case_world, found, api_client, client_for, key, who
):
    user = case_world.users[who]
    case_id = int(found["case_id"])
    assert case_id in _api_ids(api_client, user, found[key])
    page = client_for(user).get("/cases/", query_string={"q": found[key]}).get_data(as_text=True)
    assert f'/cases/{case_id}"' in page
    assert case_id not in _api_ids(api_client, user, "no such text 8812")


@pytest.mark.parametrize("who", ["other_monitor", "affiliate_b", "supplier_y"])
def test_board_search_never_returns_what_the_role_may_not_see(case_world, found, api_client, who):
    user = case_world.users[who]
    for key in ("reference", "site", "supplier"):
        assert int(found["case_id"]) not in _api_ids(api_client, user, found[key])


def test_board_search_is_bounded(case_world, api_client):
    response = api_client(case_world.users["coordinator"]).get("/api/v1/cases", query_string={"q": "x" * 101})
    assert response.status_code == 422


@pytest.mark.parametrize("who", ["coordinator", "monitor"])
def test_search_box_finds_cases_sites_and_finding_text_for_staff(case_world, found, client_for, who):
    client = client_for(case_world.users[who])
    page = client.get("/search", query_string={"q": found["reference"]}).get_data(as_text=True)
    assert f'/cases/{found["case_id"]}"' in page
    page = client.get("/search", query_string={"q": found["site"]}).get_data(as_text=True)
    assert f'/sites/{case_world.site}"' in page
    page = client.get("/search", query_string={"q": "dormitory LOCKS"}).get_data(as_text=True)
    assert found["finding"] in page
    assert 'href="/search"' in client.get("/").get_data(as_text=True)


def test_search_box_gives_affiliates_no_findings(case_world, found, client_for):
    client = client_for(case_world.users["affiliate"])
    page = client.get("/search", query_string={"q": found["reference"]}).get_data(as_text=True)
    assert f'/cases/{found["case_id"]}"' in page
    page = client.get("/search", query_string={"q": "dormitory locks"}).get_data(as_text=True)
    assert found["finding"] not in page


@pytest.mark.parametrize("who", ["other_monitor", "affiliate_b", "supplier_y", "supplier"])
def test_search_box_never_shows_what_the_role_may_not_see(case_world, found, client_for, who):
    client = client_for(case_world.users[who])
    for q in (found["reference"], found["site"], found["supplier"], "dormitory locks"):
        page = client.get("/search", query_string={"q": q}).get_data(as_text=True)
        assert f'/cases/{found["case_id"]}"' not in page, (who, q)
        assert found["finding"] not in page, (who, q)
    if who in ("other_monitor",):
        return
    page = client.get("/search", query_string={"q": found["site"]}).get_data(as_text=True)
    assert f'/sites/{case_world.site}"' not in page


def test_search_box_needs_a_login(app):
    assert app.test_client().get("/search?q=x").status_code in (302, 404)
