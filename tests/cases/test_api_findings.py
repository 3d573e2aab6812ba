"""The findings and standards API: who files, reads and changes findings, and what each role is shown."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from monitoring.cases.models import Finding, FindingReport
from monitoring.cases.standards import STANDARDS
from monitoring.core.db import db
from tests.cases.helpers import CaseWorld
from tests.testimony.monitor_helpers import make_report

API = "/api/v1"
TESTIMONY = "We work every Sunday without overtime pay."  # the sealed text of helper reports
IDENTITY = "Somsri Test"


def finding_body(w: CaseWorld, **overrides: Any) -> dict[str, Any]:
    body = {
        "site_id": w.site,
        "standard": "FL-2",
        "severity": "priority",
        "workers_affected": 14,
        "evidence_type": "offsite_interviews",
        "found_date": "2026-10-20",
        "summary": "Passports of migrant workers are kept by the dormitory office.",
        "report_ids": [],
    }
    body.update(overrides)
    return body


def test_monitor_files_a_finding_with_its_report_links(case_world, api_client):
    w = case_world
    report = make_report(w.app, w.monitor, country="CN")
    client = api_client(w.monitor)
    response = client.post(f"{API}/findings", json=finding_body(w, report_ids=[report]))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["site"]["id"] == w.site
    assert body["organisation"]["id"] == w.orgs["monitors"]
    assert body["standard"] == "FL-2"
    assert body["category"] == "FL"
    assert body["standard_title"] == "Passports or identity documents kept from workers"
    assert (body["severity"], body["workers_affected"], body["workers_affected_suppressed"]) == (
        "priority",
        14,
        False,
    )
    assert body["report_ids"] == [report]
    assert body["case_id"] is None
    assert body["summary"].startswith("Passports of migrant workers")
    assert client.get(f"{API}/findings/{body['id']}").get_json() == body
    with w.app.app_context():
        links = db.session.scalars(
            select(FindingReport.report_id).where(FindingReport.finding_id == body["id"])
        )
        assert list(links) == [report]


@pytest.mark.parametrize("role", ["coordinator", "affiliate", "supplier", "admin"])
def test_only_monitors_file_findings(case_world, api_client, role):
    w = case_world
    client = api_client(w.users[role])
    before = w.counts()
    response = client.post(f"{API}/findings", json=finding_body(w))
    assert response.status_code == 404
    assert w.counts() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"standard": "XX-9"}, "standard"),
        ({"severity": "catastrophic"}, "severity"),
        ({"workers_affected": -1}, "workers_affected"),
        ({"summary": ""}, "summary"),
        ({"found_date": "yesterday"}, "found_date"),
        ({"report_ids": ["one"]}, "report_ids"),
        ({"colour": "red"}, "colour"),
        ({"site_id": None}, "site_id"),
    ],
)
def test_bad_input_names_the_field(case_world, api_client, overrides, field):
    w = case_world
    client = api_client(w.monitor)
    before = w.counts()
    response = client.post(f"{API}/findings", json=finding_body(w, **overrides))
    assert response.status_code == 422
    error = response.get_json()["error"]
    # A list's item is named by its path (report_ids.0).
    assert [name.split(".")[0] for name in error["errors"]] == [field]
    assert w.counts() == before


def test_refusals_of_the_operation_name_the_field(case_world, api_client):
    w = case_world
    other_report = make_report(w.app, w.monitor, country="CN")
    client = api_client(w.other_monitor)
    # A report of another organisation may not be linked.
    response = client.post(f"{API}/findings", json=finding_body(w, report_ids=[other_report]))
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["report_ids"]
    response = client.post(f"{API}/findings", json=finding_body(w, found_date="2099-01-01"))
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["found_date"]
    response = client.post(f"{API}/findings", json=finding_body(w, site_id=999999))
    assert list(response.get_json()["error"]["errors"]) == ["site_id"]


def test_errors_are_in_the_users_language(case_world, api_client, create_user):
    from monitoring.accounts.models import Organisation, UserRole

    w = case_world
    spanish = create_user(UserRole.monitor, organisation=w.get(Organisation, w.orgs["monitors"]), locale="es")
    body = finding_body(w)
    del body["summary"]
    response = api_client(spanish).post(f"{API}/findings", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["errors"] == {"summary": ["Este campo es obligatorio."]}
    # Without a language of its own, the account gets the one the client asks for.
    response = api_client(w.monitor).post(f"{API}/findings", json=body, headers={"Accept-Language": "es"})
    assert response.get_json()["error"]["errors"] == {"summary": ["Este campo es obligatorio."]}
    response = api_client(w.monitor).post(f"{API}/findings", json=body)
    assert response.get_json()["error"]["errors"] == {"summary": ["This field is required."]}


@pytest.fixture
def shared(case_world):
    """A priority finding of 3 workers with a report link, in a case, with an action to supplier X."""
    w = case_world
    report = make_report(w.app, w.monitor, country="CN")
    finding = w.finding(severity="priority", workers_affected=3, report_ids=[report])
    case = w.case(findings=[finding])
    w.action(case, finding_id=finding)
    loose = w.finding(severity="minor", workers_affected=40)  # in no case
    return w, finding, loose, report


EXPECTED = {
    # role: (sees the case finding, sees the loose finding, summary, report links, workers shown)
    "coordinator": (True, True, True, False, 3),
    "monitor": (True, True, True, True, 3),
    "other_monitor": (False, False, None, None, None),
    "affiliate": (True, False, True, False, None),
    "affiliate_b": (False, False, None, None, None),
    "supplier": (True, False, False, False, None),
    "supplier_y": (False, False, None, None, None),
    "admin": (False, False, None, None, None),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_what_it_may_of_a_finding(shared, api_client, role):
    w, finding, loose, report = shared
    sees, sees_loose, summary, links, workers = EXPECTED[role]
    client = api_client(w.users[role])
    response = client.get(f"{API}/findings/{finding}")
    assert response.status_code == (200 if sees else 404)
    assert client.get(f"{API}/findings/{loose}").status_code == (200 if sees_loose else 404)
    listing = client.get(f"{API}/findings")
    if role == "admin":
        assert listing.status_code == 404
        return
    listed = {item["id"] for item in listing.get_json()["items"]}
    assert (finding in listed, loose in listed) == (sees, sees_loose)
    if not sees:
        return
    body = response.get_json()
    assert [item for item in listing.get_json()["items"] if item["id"] == finding] == [body]
    assert ("summary" in body) is summary
    assert ("report_ids" in body) is links
    if links:
        assert body["report_ids"] == [report]
    assert body["workers_affected"] == workers
    assert body["workers_affected_suppressed"] is (workers is None)
    assert (body["standard"], body["severity"]) == ("FL-1", "priority")
    if role == "supplier":
        assert not {"organisation", "evidence_type", "found_date"} & set(body)
    text = response.get_data(as_text=True)
    assert TESTIMONY not in text and IDENTITY not in text


def test_counts_of_5_and_more_are_shown_to_buyers(case_world, api_client):
    w = case_world
    finding = w.finding(workers_affected=5)
    w.case(findings=[finding])
    body = api_client(w.affiliate).get(f"{API}/findings/{finding}").get_json()
    assert (body["workers_affected"], body["workers_affected_suppressed"]) == (5, False)


def test_monitor_changes_a_finding(case_world, api_client):
    w = case_world
    finding = w.finding(severity="major", workers_affected=12)
    report = make_report(w.app, w.monitor, country="CN")
    client = api_client(w.monitor)
    response = client.patch(
        f"{API}/findings/{finding}",
        json={"severity": "priority", "summary": "Fees of 1,200 USD per worker.", "report_ids": [report]},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["severity"], body["summary"], body["report_ids"]) == (
        "priority",
        "Fees of 1,200 USD per worker.",
        [report],
    )
    assert body["workers_affected"] == 12  # left out: unchanged
    with w.app.app_context():
        assert db.session.get(Finding, finding).summary == "Fees of 1,200 USD per worker."
    assert client.patch(f"{API}/findings/{finding}", json={"site_id": w.other_site}).status_code == 422


@pytest.mark.parametrize("role", ["other_monitor", "coordinator", "affiliate", "supplier", "admin"])
def test_others_may_not_change_a_finding(shared, api_client, role):
    w, finding, _loose, _report = shared
    response = api_client(w.users[role]).patch(f"{API}/findings/{finding}", json={"severity": "minor"})
    assert response.status_code == 404
    assert w.get(Finding, finding).severity.value == "priority"


def test_finding_filters(case_world, api_client):
    w = case_world
    in_case = w.finding(standard="FL-1", severity="priority")
    w.case(findings=[in_case])
    hours = w.finding(standard="WH-1", severity="major")
    elsewhere = w.finding(standard="WH-2", severity="minor", site_id=w.other_site)
    client = api_client(w.coordinator)

    def listed(query: str) -> set[int]:
        response = client.get(f"{API}/findings?{query}")
        assert response.status_code == 200, response.get_json()
        return {item["id"] for item in response.get_json()["items"]} & {in_case, hours, elsewhere}

    assert listed("") == {in_case, hours, elsewhere}
    assert listed(f"site_id={w.site}") == {in_case, hours}
    assert listed("category=WH") == {hours, elsewhere}
    assert listed("severity=priority") == {in_case}
    assert listed("in_case=true") == {in_case}
    assert listed("in_case=false") == {hours, elsewhere}
    response = client.get(f"{API}/findings?category=ZZ")
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["category"]


def test_findings_are_paginated_newest_first(case_world, api_client):
    w = case_world
    ids = [w.finding() for _ in range(5)]
    client = api_client(w.monitor)
    seen: list[int] = []
    url = f"{API}/findings?limit=2"
    while url:
        body = client.get(url).get_json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        url = f"{API}/findings?limit=2&after={body['next']}" if body["next"] else ""
    assert seen == sorted(ids, reverse=True)
    response = client.get(f"{API}/findings?after=garbage")
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["after"]


# --- standards ----------------------------------------------------------------------------------


def test_standards_with_their_crosswalk_in_the_users_language(case_world, api_client, create_user):
    from monitoring.accounts.models import Organisation, UserRole

    w = case_world
    body = api_client(w.supplier).get(f"{API}/standards").get_json()
    assert [s["code"] for s in body] == [s.code for s in STANDARDS]
    forced = next(s for s in body if s["code"] == "FL")
    assert forced == {
        "code": "FL",
        "title": "Forced labour",
        "group": "FL",
        "is_group": True,
        "ilo": ["C029", "P029", "C105"],
        "rba": [{"code": "A1", "title": "A1 Freely Chosen Employment"}],
    }
    chemicals = next(s for s in body if s["code"] == "HS-1")
    assert chemicals["group"] == "HS" and chemicals["is_group"] is False
    assert [r["code"] for r in chemicals["rba"]] == ["B4", "C3"]
    swedish = create_user(
        UserRole.affiliate, organisation=w.get(Organisation, w.orgs["affiliate_a"]), locale="sv"
    )
    titles = {s["code"]: s["title"] for s in api_client(swedish).get(f"{API}/standards").get_json()}
    with w.app.test_request_context(headers={"Accept-Language": "sv"}):
        from flask_babel import force_locale

        with force_locale("sv"):
            expected = str(next(s for s in STANDARDS if s.code == "FL").title)
    assert titles["FL"] == expected
    assert api_client(w.admin).get(f"{API}/standards").status_code == 404
