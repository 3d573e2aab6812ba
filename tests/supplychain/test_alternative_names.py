"""Alternative names of sites: who manages and reads them, page and API, imports, search, merges."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.names import search_text
from monitoring.supplychain import duplicates, operations
from monitoring.supplychain.import_facilities import import_facilities
from monitoring.supplychain.import_reading import ImportRefused
from monitoring.supplychain.models import DuplicateState, Site, SiteDuplicate, SiteName
from monitoring.supplychain.operations_names import REASON_ALTERNATIVE_NAME
from tests.conftest import csrf_token
from tests.supplychain.helpers import SEES

CHINESE = "重庆富士康科技有限公司"
THAI = "บริษัท สยาม เซอร์กิต จำกัด"
CYRILLIC = "Завод Электроника"
FULLWIDTH = "".join(chr(ord(char) + 0xFEE0) for char in "FOXCONN")  # "FOXCONN" in fullwidth letters


def add_name(app, site_id: int, name: str) -> int:
    with app.app_context():
        alternative = operations.add_alternative_name(None, db.session.get(Site, site_id), name)
        db.session.commit()
        return alternative.id


def names_of(app, site_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(SiteName.name).where(SiteName.site_id == site_id)))


def api_search(client, text: str) -> set[int]:
    response = client.get("/api/v1/sites", query_string={"q": text})
    assert response.status_code == 200, response.get_json()
    return {site["id"] for site in response.get_json()["items"]}


# --- the fold ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "query"),
    [
        (CHINESE, "重庆"),
        (f"{FULLWIDTH} Chongqing", "foxconn"),  # fullwidth letters (NFKC)
        (THAI, "สยาม"),
        (CYRILLIC, "ЗАВОД"),  # case in Cyrillic, which SQLite's lower() leaves alone
        ("Công ty Điện tử Sài Gòn", "dien tu sai gon"),  # accents, and đ
        ("Großwerk GmbH", "GROSSWERK"),  # case folding, not lowering
        ("Hon\u200bHai", "honhai"),  # an invisible zero-width space
    ],
)
def test_search_text_folds_names_in_any_script(name, query):
    assert search_text(query) in search_text(name)


def test_search_text_keeps_the_marks_of_thai_and_drops_punctuation():
    assert search_text("โรงงาน") == "โรงงาน"  # Thai vowel signs are part of the letters
    assert search_text("Hon Hai (Shenzhen) Co., Ltd.") == "hon hai shenzhen co ltd"
    assert search_text("  ") == ""


# --- coordinators manage, by page and API -----------------------------------------------------


def test_coordinator_adds_and_removes_names_on_the_site_page(world, client_for, app):
    client = client_for(world.users["coordinator"])
    site_id = world.sites["S1"]
    page = client.get(f"/sites/{site_id}").get_data(as_text=True)
    assert "No other name is recorded for this site." in page and "Add another name" in page
    token = csrf_token(client, f"/sites/{site_id}")
    response = client.post(f"/sites/{site_id}/names", data={"name": f"  {CHINESE} ", "csrf_token": token})
    assert response.status_code == 302
    page = client.get(f"/sites/{site_id}").get_data(as_text=True)
    assert f"<bdi>{CHINESE}</bdi>" in page and "is also known as" in page
    assert names_of(app, site_id) == [CHINESE]

    # The same name again (in another width), the site's own name and an empty one are refused.
    for name, message in (
        ("重庆富士康科技有限公司 ", "The site already has this name."),
        ("SITE s1", "This is the site&#39;s own name."),
        ("", "This field is required."),
    ):
        response = client.post(f"/sites/{site_id}/names", data={"name": name, "csrf_token": token})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert names_of(app, site_id) == [CHINESE]

    with app.app_context():
        name_id = db.session.scalar(select(SiteName.id).where(SiteName.site_id == site_id))
    response = client.post(f"/sites/{site_id}/names/{name_id}/remove", data={"csrf_token": token})
    assert response.status_code == 302
    assert names_of(app, site_id) == []
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "site", AuditEntry.object_id == str(site_id)
            )
        ).all()
    assert "site.name_add" in actions and "site.name_remove" in actions


def test_coordinator_manages_names_through_the_api(world, api_client, app):
    client = api_client(world.users["coordinator"])
    site_id = world.sites["S2"]
    response = client.post(f"/api/v1/sites/{site_id}/alternative-names", json={"name": THAI})
    assert response.status_code == 201, response.get_json()
    site = response.get_json()
    assert [n["name"] for n in site["alternative_names"]] == [THAI]
    assert client.get(f"/api/v1/sites/{site_id}").get_json()["alternative_names"][0]["name"] == THAI

    for body, field in (
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 301}, "name"),
        ({"name": "..."}, "name"),
    ):
        response = client.post(f"/api/v1/sites/{site_id}/alternative-names", json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in response.get_json()["error"]["errors"]
    response = client.post(f"/api/v1/sites/{site_id}/alternative-names", json={"name": THAI.upper()})
    assert response.status_code == 422

    name_id = site["alternative_names"][0]["id"]
    other_site = world.sites["S3"]
    assert client.delete(f"/api/v1/sites/{other_site}/alternative-names/{name_id}").status_code == 404
    response = client.delete(f"/api/v1/sites/{site_id}/alternative-names/{name_id}")
    assert response.status_code == 200 and response.get_json()["alternative_names"] == []
    assert client.delete(f"/api/v1/sites/{site_id}/alternative-names/{name_id}").status_code == 404


def test_the_openapi_document_describes_the_names(world, api_client):
    document = api_client(world.users["coordinator"]).get("/api/v1/openapi.json").get_json()
    assert "/api/v1/sites/{site_id}/alternative-names" in document["paths"] or any(
        path.endswith("/sites/{site_id}/alternative-names") for path in document["paths"]
    )
    schemas = document["components"]["schemas"]
    assert any(name.startswith("AddSiteName") for name in schemas)
    assert any(name.startswith("SiteName") for name in schemas)


@pytest.mark.parametrize("who", ["monitor", "A", "B", "X", "Y", "admin"])
def test_only_coordinators_manage_names(world, api_client, client_for, who):
    site_id = world.sites["S1"]
    client = api_client(world.users[who])
    assert (
        client.post(f"/api/v1/sites/{site_id}/alternative-names", json={"name": CHINESE}).status_code == 404
    )
    page = client_for(world.users[who])
    token = csrf_token(page, "/")
    assert (
        page.post(f"/sites/{site_id}/names", data={"name": CHINESE, "csrf_token": token}).status_code == 404
    )
    if who != "admin":
        sees_page = page.get(f"/sites/{site_id}")
        if sees_page.status_code == 200:
            assert "Add another name" not in sees_page.get_data(as_text=True)


@pytest.mark.parametrize("who", ["coordinator", "monitor", "A", "B", "X", "Y", "admin"])
def test_names_are_read_where_the_site_is_read(world, app, api_client, client_for, who):
    add_name(app, world.sites["S1"], CHINESE)
    client = api_client(world.users[who])
    response = client.get(f"/api/v1/sites/{world.sites['S1']}")
    if "S1" in SEES[who]["sites"]:
        assert response.status_code == 200
        assert [n["name"] for n in response.get_json()["alternative_names"]] == [CHINESE]
        assert f"<bdi>{CHINESE}</bdi>" in client_for(world.users[who]).get(
            f"/sites/{world.sites['S1']}"
        ).get_data(as_text=True)
        # The list finds the site by its other name, in the reader's scope.
        assert world.sites["S1"] in api_search(client, "重庆")
    else:
        assert response.status_code == 404
        if who != "admin":
            assert client.get("/api/v1/sites", query_string={"q": "重庆"}).get_json()["items"] == []


def test_staff_site_list_finds_names_in_any_script(world, app, api_client, client_for):
    add_name(app, world.sites["S1"], CHINESE)
    add_name(app, world.sites["S2"], THAI)
    add_name(app, world.sites["S3"], CYRILLIC)
    client = api_client(world.users["coordinator"])
    assert api_search(client, "重庆") == {world.sites["S1"]}
    assert api_search(client, "สยาม") == {world.sites["S2"]}
    assert api_search(client, "электроника") == {world.sites["S3"]}
    assert api_search(client, "ЗАВОД ЭЛЕКТРОНИКА") == {world.sites["S3"]}
    assert api_search(client, "site s1") == {world.sites["S1"]}  # the own name still matches
    assert api_search(client, "重庆 Shenzhen") == {world.sites["S1"]}  # a name word and the city
    assert api_search(client, "%") == set()  # wildcards are matched as typed
    page = (
        client_for(world.users["coordinator"])
        .get("/sites", query_string={"q": "重庆"})
        .get_data(as_text=True)
    )
    assert f'href="/sites/{world.sites["S1"]}"' in page and "Also known as" in page
    assert f'href="/sites/{world.sites["S2"]}"' not in page


def test_merged_site_is_not_changed_and_its_names_follow_the_merge(world, app, api_client):
    site_id, merged_id = world.sites["S1"], world.sites["S3"]
    add_name(app, merged_id, CHINESE)
    with app.app_context():
        coordinator = db.session.get(type(world.users["coordinator"]), world.users["coordinator"].id)
        pair = duplicates.propose_duplicate(
            coordinator, db.session.get(Site, site_id), db.session.get(Site, merged_id)
        )
        duplicates.merge_duplicate(coordinator, pair)
        db.session.commit()
    assert sorted(names_of(app, site_id)) == sorted(["Site S3", CHINESE])
    client = api_client(world.users["coordinator"])
    assert api_search(client, "重庆") == {site_id}  # the merged site is not listed
    response = client.post(f"/api/v1/sites/{merged_id}/alternative-names", json={"name": "Another"})
    assert response.status_code == 404


def test_a_name_shared_with_another_site_of_the_country_proposes_a_duplicate(world, app):
    add_name(app, world.sites["S2"], "Site S1 Co., Ltd.")  # the name of S1, as S2's other name
    with app.app_context():
        pair = db.session.scalar(select(SiteDuplicate).where(SiteDuplicate.reason == REASON_ALTERNATIVE_NAME))
        assert pair is not None and pair.state is DuplicateState.proposed
        assert {pair.site_id, pair.candidate_id} == {world.sites["S1"], world.sites["S2"]}
        assert "another name" in duplicates.reason_title(pair.reason)


# --- facility imports -----------------------------------------------------------------------------

HEADER = "name,address,country_code,city,alternative_names\n"


def run_import(app, data: str):
    with app.app_context():
        result = import_facilities(None, io.BytesIO(data.encode()), filename="facilities.csv")
        db.session.commit()
        return result


def test_facility_import_reads_alternative_names(app, api_client, coordinator):
    data = (
        HEADER
        + f'Hongfujin Precision,1 Xiyong Road,CN,Chongqing,"{CHINESE} | Foxconn Chongqing|{CHINESE}"\n'
        + f"Siam Circuit,9 Rojana Road,TH,Ayutthaya,{THAI}\n"
        + "Plain Works,3 Main Street,CZ,Pardubice,\n"
    )
    result = run_import(app, data)
    assert (result.created, result.names_added) == (3, 3)
    client = api_client(coordinator)
    (chongqing,) = api_search(client, "重庆")
    site = client.get(f"/api/v1/sites/{chongqing}").get_json()
    assert sorted(n["name"] for n in site["alternative_names"]) == sorted([CHINESE, "Foxconn Chongqing"])
    assert len(api_search(client, "สยาม")) == 1
    with app.app_context():
        # Rows the import wrote in SQL carry the search key of their name as well.
        keys = dict(db.session.execute(select(Site.name, Site.search_key)).all())
    assert keys["Plain Works"] == "plain works"

    # Importing again adds only the names a site does not bear yet, and removes none.
    again = run_import(
        app, HEADER + 'Hongfujin Precision,1 Xiyong Road,CN,Chongqing,"Foxconn Chongqing|富士康"\n'
    )
    assert (again.created, again.names_added) == (0, 1)
    site = client.get(f"/api/v1/sites/{chongqing}").get_json()
    assert len(site["alternative_names"]) == 3


def test_facility_import_refuses_names_that_are_too_long(app):
    data = HEADER + f"Long Names,1 Road,CN,Shenzhen,{'长' * 301}\n"
    with pytest.raises(ImportRefused) as refused, app.app_context():
        import_facilities(None, io.BytesIO(data.encode()), filename="bad.csv")
    (error,) = refused.value.errors
    assert error.column == "alternative_names" and error.line == 2
