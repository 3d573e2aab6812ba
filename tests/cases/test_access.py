"""Factory access: a refused access files a finding; who may read and record access records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases.models import Finding, Severity, SiteAccess
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form

Clients = Callable[[User], FlaskClient]


def _record(api_client: Any, w: CaseWorld, outcome: str, **extra: Any) -> Any:
    body = {
        "requested_of_id": w.orgs["supplier_x"],
        "access_date": "2026-11-03",
        "outcome": outcome,
        **extra,
    }
    return api_client(w.monitor).post(f"/api/v1/sites/{w.site}/access", json=body)


def test_a_refused_access_files_a_major_finding_that_the_monitor_lists(
    case_world: CaseWorld, client_for: Clients, api_client: Any
) -> None:
    w = case_world
    response = _record(api_client, w, "refused", note="Guard turned us away at the gate.")
    assert response.status_code == 201, response.get_json()
    record = response.get_json()
    assert record["outcome"] == "refused" and record["note"] == "Guard turned us away at the gate."
    finding_id = record["finding_id"]
    assert finding_id is not None

    with w.session():
        finding = db.session.get(Finding, finding_id)
        assert finding is not None
        assert (finding.site_id, finding.standard, finding.severity) == (w.site, "GR", Severity.major)
        assert "refused" in finding.summary and "2026" in finding.summary
        assert finding.organisation_id == w.orgs["monitors"]
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"access.record", "finding.create"} <= actions

    findings_page = client_for(w.monitor).get("/findings/").get_data(as_text=True)
    assert f"/findings/{finding_id}" in findings_page
    page = client_for(w.monitor).get(f"/sites/{w.site}/access")
    assert page.status_code == 200
    assert f"/findings/{finding_id}" in page.get_data(as_text=True)


def test_a_granted_access_files_no_finding(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    response = _record(api_client, w, "granted")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["finding_id"] is None
    with w.session():
        assert db.session.scalar(select(Finding).where(Finding.site_id == w.site)) is None


def test_the_page_form_records_a_refusal(case_world: CaseWorld, client_for: Clients) -> None:
    w = case_world
    client = client_for(w.monitor)
    url = f"/sites/{w.site}/access/new"
    assert client.get(url).status_code == 200
    data = {"requested_of_id": w.orgs["supplier_x"], "access_date": "2026-11-04", "outcome": "refused"}
    saved = post_form(client, url, data, form_page=url)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with w.session():
        access = db.session.scalar(select(SiteAccess).where(SiteAccess.site_id == w.site))
        assert access is not None and access.finding_id is not None and access.note is None


@pytest.mark.parametrize(
    "data",
    [
        {"access_date": "2026-11-04", "outcome": "refused"},  # no supplier
        {"requested_of_id": "x", "access_date": "2026-11-04", "outcome": "refused"},
        {"requested_of_id": None, "access_date": "2099-01-01", "outcome": "refused"},  # future
        {"requested_of_id": None, "access_date": "2026-11-04", "outcome": "maybe"},
    ],
)
def test_bad_input_is_refused_on_the_page_and_the_api(
    case_world: CaseWorld, client_for: Clients, api_client: Any, data: dict[str, Any]
) -> None:
    w = case_world
    data = {k: (w.orgs["supplier_x"] if v is None else v) for k, v in data.items()}
    client = client_for(w.monitor)
    url = f"/sites/{w.site}/access/new"
    assert post_form(client, url, data, form_page=url).status_code == 422
    body = {k: (int(v) if k == "requested_of_id" and str(v).isdigit() else v) for k, v in data.items()}
    response = api_client(w.monitor).post(f"/api/v1/sites/{w.site}/access", json=body)
    assert response.status_code == 422, response.get_json()
    with w.session():
        assert db.session.scalar(select(SiteAccess)) is None
        assert db.session.scalar(select(Finding).where(Finding.site_id == w.site)) is None


def test_a_non_supplier_organisation_is_refused(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    response = api_client(w.monitor).post(
        f"/api/v1/sites/{w.site}/access",
        json={"requested_of_id": w.orgs["affiliate_a"], "access_date": "2026-11-04", "outcome": "refused"},
    )
    assert response.status_code == 422
    assert "requested_of_id" in str(response.get_json())


def test_who_sees_and_records_access(case_world: CaseWorld, client_for: Clients, api_client: Any) -> None:
    w = case_world
    assert _record(api_client, w, "no_answer", note="Nobody replied.").status_code == 201
    list_url, api_url = f"/sites/{w.site}/access", f"/api/v1/sites/{w.site}/access"
    # The monitor's organisation and coordinators see the record.
    for user in (w.monitor, w.coordinator):
        assert "Nobody replied." in client_for(user).get(list_url).get_data(as_text=True)
        records = api_client(user).get(api_url).get_json()["records"]
        assert [r["outcome"] for r in records] == ["no_answer"]
    # Another monitor organisation sees the page but not the record.
    assert "Nobody replied." not in client_for(w.other_monitor).get(list_url).get_data(as_text=True)
    assert api_client(w.other_monitor).get(api_url).get_json()["records"] == []
    # Buyers, suppliers and administrators: 404 on the pages and the API.
    for user in (w.affiliate, w.supplier, w.admin):
        assert client_for(user).get(list_url).status_code == 404
        assert api_client(user).get(api_url).status_code == 404
    # Only monitors record: coordinators, buyers and suppliers get 404.
    body = {"requested_of_id": w.orgs["supplier_x"], "access_date": "2026-11-04", "outcome": "granted"}
    for user in (w.coordinator, w.affiliate, w.supplier):
        assert client_for(user).get(f"{list_url}/new").status_code == 404
        assert api_client(user).post(api_url, json=body).status_code == 404
    # An unknown site: 404.
    assert client_for(w.monitor).get("/sites/999999/access").status_code == 404
    # The site page links to the records for monitors and coordinators only.
    assert list_url in client_for(w.monitor).get(f"/sites/{w.site}").get_data(as_text=True)
    assert list_url not in client_for(w.supplier).get(f"/sites/{w.site}").get_data(as_text=True)
