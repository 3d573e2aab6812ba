"""Reviewing likely duplicate sites: proposed, never merged silently; merges keep history."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain import duplicates, permissions
from monitoring.supplychain.models import Disclosure, DuplicateState, Site, SiteDuplicate
from tests.conftest import post_form
from tests.jobs.conftest import job_id_from, run_worker, upload_facilities
from tests.supplychain.helpers import count_rows
from tests.supplychain.test_import_facilities import facility_csv, facility_row


def propose(app, coordinator: User, site_id: int, candidate_id: int, reason: str = "") -> int:
    with app.app_context():
        pair = duplicates.propose_duplicate(
            db.session.get(User, coordinator.id),
            db.session.get(Site, site_id),
            db.session.get(Site, candidate_id),
            reason,
        )
        db.session.commit()
        return pair.id


def get(app, model, ident):
    with app.app_context():
        obj = db.session.get(model, ident)
        if isinstance(obj, SiteDuplicate):
            _ = (obj.site, obj.candidate, obj.decided_by)
        db.session.expunge_all()
        return obj


def last_audit(app, action: str) -> AuditEntry:
    with app.app_context():
        return db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
        )


@pytest.fixture
def pair(app, world, registry):
    """S1 (no OS id) and a twin with an OS id that has one of X's disclosures."""
    twin = registry.site("Site S1 Co., Ltd.", address="Other address 9", os_id="CN2019303EEEEEE")
    disclosure = registry.disclose(world.users["X"].id, world.products["P1"], twin, "battery")
    pair_id = propose(app, world.users["coordinator"], world.sites["S1"], twin)
    return {"id": pair_id, "kept": world.sites["S1"], "twin": twin, "disclosure": disclosure}


# --- pages ----------------------------------------------------------------------------------


def test_imports_propose_pairs_that_coordinators_list(app, world, client_for):
    coordinator = world.users["coordinator"]
    client = client_for(coordinator)
    data = facility_csv([facility_row(name="Twin Works Ltd", address="1 A Road"), facility_row()])
    job_id_from(upload_facilities(client, data, "f.csv"))
    run_worker(app)
    again = facility_csv([facility_row(name="TWIN WORKS LIMITED", address="2 B Road")])
    job_id_from(upload_facilities(client, again, "g.csv"))
    run_worker(app)
    page = client.get("/sites/duplicates")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Same name and country, different address" in text
    assert "Twin Works Ltd" in text and "TWIN WORKS LIMITED" in text
    assert len(re.findall(r"Review pair \d+", text)) == 1
    # Both sites are still there, unmerged.
    with app.app_context():
        twins = db.session.scalars(select(Site).where(Site.name.ilike("twin works%"))).all()
        assert len(twins) == 2 and all(s.merged_into_id is None for s in twins)


def test_pair_page_compares_the_sites(app, world, pair, client_for):
    client = client_for(world.users["coordinator"])
    text = client.get(f"/sites/duplicates/{pair['id']}").get_data(as_text=True)
    assert "CN2019303EEEEEE" in text and "Other address 9" in text
    assert 'action="/sites/duplicates/{}/merge"'.format(pair["id"]) in text
    assert "Proposed by a coordinator" in text


def test_merge_moves_disclosures_and_keeps_history(app, world, pair, client_for):
    client = client_for(world.users["coordinator"])
    kept_disclosures = count_rows(app, Disclosure)
    response = post_form(
        client,
        f"/sites/duplicates/{pair['id']}/merge",
        {"keep": "site"},
        form_page=f"/sites/duplicates/{pair['id']}",
    )
    assert response.status_code == 302
    kept, twin = get(app, Site, pair["kept"]), get(app, Site, pair["twin"])
    # The merged site keeps its row, marked as merged; the kept site takes its OS id.
    assert (twin.merged_into_id, twin.merged_dt is not None, twin.name) == (
        kept.id,
        True,
        "Site S1 Co., Ltd.",
    )
    assert (kept.os_id, twin.os_id, kept.merged_into_id) == ("CN2019303EEEEEE", None, None)
    assert get(app, Disclosure, pair["disclosure"]).site_id == kept.id
    assert count_rows(app, Disclosure) == kept_disclosures
    decided = get(app, SiteDuplicate, pair["id"])
    assert (decided.state, decided.decided_by_id) == (DuplicateState.merged, world.users["coordinator"].id)
    entry = last_audit(app, "site.merge")
    assert entry.object_id == str(kept.id)
    assert entry.data_dict["merged_site_id"] == twin.id
    assert entry.data_dict["disclosures_moved"] == [pair["disclosure"]]
    assert entry.data_dict["os_id_moved"] == "CN2019303EEEEEE"
    assert entry.data_dict["merged_site"]["address"] == "Other address 9"
    # The merged site's page still answers (history), and the pair is no longer awaiting.
    assert client.get(f"/sites/{twin.id}").status_code == 200
    assert f"Review pair {pair['id']}" not in client.get("/sites/duplicates").get_data(as_text=True)
    assert f"Review pair {pair['id']}" in client.get("/sites/duplicates?state=merged").get_data(as_text=True)
    # A second decision is refused.
    response = post_form(
        client, f"/sites/duplicates/{pair['id']}/dismiss", {}, form_page=f"/sites/duplicates/{pair['id']}"
    )
    assert response.status_code == 302
    assert get(app, SiteDuplicate, pair["id"]).state is DuplicateState.merged


def test_merge_can_keep_the_second_site(app, world, pair, client_for):
    client = client_for(world.users["coordinator"])
    response = post_form(
        client,
        f"/sites/duplicates/{pair['id']}/merge",
        {"keep": "candidate"},
        form_page=f"/sites/duplicates/{pair['id']}",
    )
    assert response.status_code == 302
    kept, first = get(app, Site, pair["twin"]), get(app, Site, pair["kept"])
    assert (first.merged_into_id, kept.merged_into_id, kept.os_id) == (kept.id, None, "CN2019303EEEEEE")
    decided = get(app, SiteDuplicate, pair["id"])
    assert (decided.site_id, decided.candidate_id) == (kept.id, first.id)
    # S1's own disclosure went to the kept site too.
    assert get(app, Disclosure, world.disclosures["D1"]).site_id == kept.id


def test_merge_carries_over_other_proposals_and_earlier_merges(app, world, registry, pair):
    coordinator = world.users["coordinator"]
    third = registry.site("Third Place Ltd", address="3 Road")
    fourth = registry.site("Fourth Place Ltd", address="4 Road")
    fifth = registry.site("Fifth Place Ltd", address="5 Road")
    other = propose(app, coordinator, third, pair["twin"])
    repeated = propose(app, coordinator, pair["twin"], fifth)
    propose(app, coordinator, pair["kept"], fifth)
    # "fourth" was merged into the twin earlier.
    earlier = propose(app, coordinator, pair["twin"], fourth)
    with app.app_context():
        duplicates.merge_duplicate(
            db.session.get(User, coordinator.id), db.session.get(SiteDuplicate, earlier)
        )
        duplicates.merge_duplicate(
            db.session.get(User, coordinator.id), db.session.get(SiteDuplicate, pair["id"])
        )
        db.session.commit()
    carried = get(app, SiteDuplicate, other)
    assert (carried.site_id, carried.candidate_id, carried.state) == (
        third,
        pair["kept"],
        DuplicateState.proposed,
    )
    assert get(app, SiteDuplicate, repeated) is None  # it would repeat the kept site's own proposal
    assert get(app, Site, fourth).merged_into_id == pair["kept"]
    entry = last_audit(app, "site.merge")
    assert entry.data_dict["proposals_carried_over"] == [other]
    assert entry.data_dict["proposals_dropped"] == [repeated]
    assert entry.data_dict["sites_repointed"] == [fourth]


def test_dismiss_records_two_different_sites(app, world, pair, client_for):
    client = client_for(world.users["coordinator"])
    response = post_form(
        client, f"/sites/duplicates/{pair['id']}/dismiss", {}, form_page=f"/sites/duplicates/{pair['id']}"
    )
    assert response.status_code == 302
    decided = get(app, SiteDuplicate, pair["id"])
    assert decided.state is DuplicateState.dismissed and decided.decided_dt is not None
    assert get(app, Site, pair["twin"]).merged_into_id is None
    assert get(app, Disclosure, pair["disclosure"]).site_id == pair["twin"]
    assert last_audit(app, "site.duplicate_dismiss").object_id == str(pair["id"])


def test_propose_by_hand_and_its_refusals(app, world, registry, client_for):
    client = client_for(world.users["coordinator"])
    s2, s3 = world.sites["S2"], world.sites["S3"]
    page = client.get(f"/sites/duplicates/new?site_id={s2}&candidate_id={s3}").get_data(as_text=True)
    assert f'value="{s2}"' in page and f'value="{s3}"' in page
    url = "/sites/duplicates/new"
    response = post_form(client, url, {"site_id": s2, "candidate_id": s2}, form_page=url)
    assert response.status_code == 422 and "Choose two different sites." in response.get_data(as_text=True)
    response = post_form(client, url, {"site_id": s2, "candidate_id": 999999}, form_page=url)
    assert response.status_code == 422 and "There is no site with this number." in response.get_data(
        as_text=True
    )
    before = count_rows(app, SiteDuplicate)
    response = post_form(
        client, url, {"site_id": s2, "candidate_id": s3, "reason": "Same gate"}, form_page=url
    )
    assert response.status_code == 302
    assert count_rows(app, SiteDuplicate) == before + 1
    response = post_form(client, url, {"site_id": s3, "candidate_id": s2}, form_page=url)
    assert response.status_code == 422
    assert "already proposed as duplicates" in response.get_data(as_text=True)
    with app.app_context():
        made = db.session.scalar(select(SiteDuplicate).order_by(SiteDuplicate.id.desc()))
        assert (made.site_id, made.candidate_id, made.reason) == (s2, s3, "Same gate")


def test_a_dismissed_pair_can_be_proposed_again(app, world):
    coordinator = world.users["coordinator"]
    pair_id = propose(app, coordinator, world.sites["S2"], world.sites["S3"])
    with app.app_context():
        duplicates.dismiss_duplicate(
            db.session.get(User, coordinator.id), db.session.get(SiteDuplicate, pair_id)
        )
        db.session.commit()
    assert propose(app, coordinator, world.sites["S2"], world.sites["S3"], "New evidence") == pair_id
    reopened = get(app, SiteDuplicate, pair_id)
    assert (reopened.state, reopened.reason, reopened.decided_dt) == (
        DuplicateState.proposed,
        "New evidence",
        None,
    )
    assert last_audit(app, "site.duplicate_propose").data_dict["reopened_from"] == "dismissed"


def test_a_merged_site_cannot_be_paired_again(app, world, pair):
    coordinator = world.users["coordinator"]
    with app.app_context():
        duplicates.merge_duplicate(
            db.session.get(User, coordinator.id), db.session.get(SiteDuplicate, pair["id"])
        )
        db.session.commit()
    from monitoring.core.operations import OperationError

    with pytest.raises(OperationError, match="already merged"):
        propose(app, coordinator, world.sites["S2"], pair["twin"])


# --- API ------------------------------------------------------------------------------------


def test_api_lists_merges_and_dismisses(app, world, pair, api_client, registry):
    api = api_client(world.users["coordinator"])
    body = api.get("/api/v1/sites/duplicates").get_json()
    assert [item["id"] for item in body["items"]] == [pair["id"]]
    item = body["items"][0]
    assert (item["site"]["id"], item["candidate"]["id"], item["state"]) == (
        pair["kept"],
        pair["twin"],
        "proposed",
    )
    assert item["reason"] == "manual" and item["reason_text"] == "Proposed by a coordinator"
    assert (
        api.get(f"/api/v1/sites/duplicates/{pair['id']}").get_json()["candidate"]["os_id"]
        == "CN2019303EEEEEE"
    )
    response = api.post(f"/api/v1/sites/duplicates/{pair['id']}/merge", json={"keep": "neither"})
    assert response.status_code == 422
    response = api.post(f"/api/v1/sites/duplicates/{pair['id']}/merge", json={})
    assert response.status_code == 200
    assert response.get_json()["state"] == "merged"
    assert response.get_json()["candidate"]["merged_into_id"] == pair["kept"]
    response = api.post(f"/api/v1/sites/duplicates/{pair['id']}/dismiss")
    assert response.status_code == 422
    assert api.get("/api/v1/sites/duplicates").get_json()["items"] == []
    merged = api.get("/api/v1/sites/duplicates?state=merged").get_json()["items"]
    assert [m["id"] for m in merged] == [pair["id"]]
    # Propose, then dismiss.
    s2, s3 = world.sites["S2"], world.sites["S3"]
    response = api.post("/api/v1/sites/duplicates", json={"site_id": s2, "candidate_id": s3})
    assert response.status_code == 201
    new_id = response.get_json()["id"]
    assert api.post(f"/api/v1/sites/duplicates/{new_id}/dismiss").get_json()["state"] == "dismissed"
    response = api.post("/api/v1/sites/duplicates", json={"site_id": s2, "candidate_id": 999999})
    assert response.status_code == 422 and "candidate_id" in response.get_json()["error"]["errors"]
    assert api.get("/api/v1/sites/duplicates/999999").status_code == 404


def test_api_list_is_paginated(app, world, registry, api_client):
    coordinator = world.users["coordinator"]
    base = registry.site("Base Ltd", address="0 Road")
    ids = [
        propose(app, coordinator, base, registry.site(f"Copy {i} Ltd", address=f"{i} Lane")) for i in range(3)
    ]
    api = api_client(coordinator)
    first = api.get("/api/v1/sites/duplicates?limit=2").get_json()
    second = api.get(f"/api/v1/sites/duplicates?limit=2&after={first['next']}").get_json()
    assert [i["id"] for i in first["items"] + second["items"]] == sorted(ids, reverse=True)
    assert second["next"] is None


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "monitor", "A", "X"])
def test_only_coordinators_review_duplicates(app, world, pair, client_for, api_client, who):
    user = world.users[who]
    client = client_for(user)
    for url in ("/sites/duplicates", f"/sites/duplicates/{pair['id']}", "/sites/duplicates/new"):
        assert client.get(url).status_code == 404, url
    api = api_client(user)
    assert api.get("/api/v1/sites/duplicates").status_code == 404
    assert api.get(f"/api/v1/sites/duplicates/{pair['id']}").status_code == 404
    assert api.post(f"/api/v1/sites/duplicates/{pair['id']}/merge", json={}).status_code == 404
    assert api.post(f"/api/v1/sites/duplicates/{pair['id']}/dismiss").status_code == 404
    body = {"site_id": world.sites["S2"], "candidate_id": world.sites["S3"]}
    assert api.post("/api/v1/sites/duplicates", json=body).status_code == 404
    assert get(app, SiteDuplicate, pair["id"]).state is DuplicateState.proposed
    with app.app_context():
        assert db.session.scalars(permissions.visible_duplicates(db.session.get(User, user.id))).all() == []


def test_list_runs_the_same_queries_for_few_and_many_pairs(app, world, registry, client_for, api_client):
    from tests.supplychain.test_query_counts import counting

    coordinator = world.users["coordinator"]
    base = registry.site("Counted Base Ltd", address="0 Road")
    client, api = client_for(coordinator), api_client(coordinator)

    def add(start: int, stop: int) -> None:
        for i in range(start, stop):
            candidate = registry.site(f"Counted {i} Ltd", address=f"{i} Lane")
            registry.disclose(world.users["X"].id, world.products["P1"], candidate, "battery")
            propose(app, coordinator, base, candidate)

    def queries() -> tuple[int, int]:
        with counting(app) as html:
            assert client.get("/sites/duplicates").status_code == 200
        with counting(app) as json:
            assert api.get("/api/v1/sites/duplicates").status_code == 200
        return html[0], json[0]

    add(0, 3)
    few = queries()
    add(3, 15)
    assert queries() == few


def test_merge_form_needs_a_valid_choice(app, world, pair, client_for):
    client = client_for(world.users["coordinator"])
    url = f"/sites/duplicates/{pair['id']}"
    response = post_form(client, f"{url}/merge", {"keep": "both"}, form_page=url)
    assert response.status_code == 422
    assert get(app, SiteDuplicate, pair["id"]).state is DuplicateState.proposed
    assert get(app, Site, pair["twin"]).merged_into_id is None


def test_merge_moves_worker_reports_to_the_site_that_stays(app, world, pair, monitor_with_keys):
    from monitoring.testimony import operations
    from monitoring.testimony.models import WorkerReport
    from tests.testimony.monitor_helpers import intake_data

    with app.app_context():
        twin = db.session.get(Site, pair["twin"])
        monitor = db.session.get(User, monitor_with_keys.id)
        report_id = operations.record_report(monitor, intake_data(site=twin, country=None)).id
        db.session.commit()
    with app.app_context():
        coordinator = db.session.get(User, world.users["coordinator"].id)
        duplicates.merge_duplicate(coordinator, db.session.get(SiteDuplicate, pair["id"]))
        db.session.commit()
    assert get(app, WorkerReport, report_id).site_id == pair["kept"]
    assert last_audit(app, "site.merge").data_dict["worker_reports_moved"] == 1
