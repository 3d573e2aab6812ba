"""The editable crosswalk: seeded with the code's mapping, read by all, edited by coordinators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases.audits.models import CrosswalkEntry
from monitoring.cases.standards import ISSUE_CATEGORY_SEED, STANDARDS, get_standard
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.testimony.models import IssueCategory
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form

Clients = Callable[[User], FlaskClient]


def test_the_table_is_seeded_with_the_mapping_the_code_held(case_world: CaseWorld) -> None:
    w = case_world
    with w.session():
        for standard in STANDARDS:
            assert standard.rba == tuple(standard.seed_rba), standard.code
        rows = list(
            db.session.scalars(select(CrosswalkEntry).where(CrosswalkEntry.issue_category.is_not(None)))
        )
        assert {r.issue_category.value: r.standard for r in rows if r.issue_category} == ISSUE_CATEGORY_SEED
        assert set(ISSUE_CATEGORY_SEED) == {c.value for c in IssueCategory} - {"other"}


@pytest.mark.parametrize("role", ["coordinator", "monitor", "affiliate", "supplier"])
def test_every_working_role_reads_the_crosswalk(
    case_world: CaseWorld, api_client: Any, client_for: Clients, role: str
) -> None:
    w = case_world
    user = w.users[role]
    body = api_client(user).get("/api/v1/crosswalk").get_json()
    assert {"rba_section": "A3", "standard": "WH"}.items() <= body["entries"][0].items() or any(
        e["rba_section"] == "A3" and e["standard"] == "WH" for e in body["entries"]
    )
    page = client_for(user).get("/crosswalk")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "WH Working hours" in text
    assert ("/crosswalk/new" in text) is (role == "coordinator")


def test_admins_do_not_read_it(case_world: CaseWorld, api_client: Any) -> None:
    assert api_client(case_world.admin).get("/api/v1/crosswalk").status_code == 404


def test_a_coordinator_changes_a_link_and_the_standards_follow(
    case_world: CaseWorld, api_client: Any, client_for: Clients
) -> None:
    w = case_world
    with w.session():
        entry_id = db.session.scalar(
            select(CrosswalkEntry.id).where(
                CrosswalkEntry.standard == "WH", CrosswalkEntry.rba_section == "A3"
            )
        )
    changed = api_client(w.coordinator).put(
        f"/api/v1/crosswalk/{entry_id}",
        json={
            "standard": "WH",
            "rba_section": "A4",
            "issue_category": "working_hours",
            "note": "Pay for hours",
        },
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["rba_section_title"] == "A4 Wages and Benefits"
    with w.session():
        standard = get_standard("WH")
        assert standard is not None and standard.rba == ("A4",)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "crosswalk.edit"))
        assert entry is not None and entry.actor_id == w.coordinator.id
        assert entry.data_dict["changes"]["rba_section"] == ["A3", "A4"]
    standards = client_for(w.monitor).get("/standards/").get_data(as_text=True)
    assert "A4 Wages and Benefits" in standards


def test_the_page_form_adds_a_link_and_shows_errors(case_world: CaseWorld, client_for: Clients) -> None:
    w = case_world
    client = client_for(w.coordinator)
    url = "/crosswalk/new"
    refused = post_form(client, url, {"standard": "FL-2", "note": "no section"}, form_page=url)
    assert refused.status_code == 422
    assert "Give an RBA Code section, an issue category or both." in refused.get_data(as_text=True)
    bad = post_form(client, url, {"standard": "FL-2", "rba_section": "Q1"}, form_page=url)
    assert bad.status_code == 422
    saved = post_form(
        client, url, {"standard": "FL-2", "rba_section": "a9", "note": "Documents"}, form_page=url
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    with w.session():
        entry = db.session.scalar(select(CrosswalkEntry).where(CrosswalkEntry.rba_section == "A9"))
        assert entry is not None and entry.standard == "FL-2" and entry.updated_by_id == w.coordinator.id
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "crosswalk.add")) is not None
    edit = client.get(f"/crosswalk/{entry.id}/edit")
    assert edit.status_code == 200 and 'value="A9"' in edit.get_data(as_text=True)
    again = post_form(client, url, {"standard": "FL-2", "rba_section": "A9"}, form_page=url)
    assert again.status_code == 422
    assert "The crosswalk already has this link." in again.get_data(as_text=True)


def test_the_api_refuses_unknown_standards(case_world: CaseWorld, api_client: Any) -> None:
    response = api_client(case_world.coordinator).post(
        "/api/v1/crosswalk", json={"standard": "XX-9", "rba_section": "A1"}
    )
    assert response.status_code == 422
    assert "standard" in response.get_json()["error"]["errors"]


@pytest.mark.parametrize("role", ["monitor", "affiliate", "supplier"])
def test_only_coordinators_edit(
    case_world: CaseWorld, api_client: Any, client_for: Clients, role: str
) -> None:
    w = case_world
    user = w.users[role]
    with w.session():
        entry_id = db.session.scalar(select(CrosswalkEntry.id).limit(1))
    client = api_client(user)
    assert client.post("/api/v1/crosswalk", json={"standard": "WH", "rba_section": "A9"}).status_code == 404
    assert (
        client.put(f"/api/v1/crosswalk/{entry_id}", json={"standard": "WH", "rba_section": "A9"}).status_code
        == 404
    )
    assert client.delete(f"/api/v1/crosswalk/{entry_id}").status_code == 404
    pages = client_for(user)
    assert pages.get("/crosswalk/new").status_code == 404
    assert pages.get(f"/crosswalk/{entry_id}/edit").status_code == 404


def test_a_removed_link_is_audited_with_what_it_was(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    with w.session():
        entry_id = db.session.scalar(
            select(CrosswalkEntry.id).where(
                CrosswalkEntry.standard == "GR-2", CrosswalkEntry.rba_section == "D8"
            )
        )
    response = api_client(w.coordinator).delete(f"/api/v1/crosswalk/{entry_id}")
    assert response.status_code == 200
    assert all(e["id"] != entry_id for e in response.get_json()["entries"])
    with w.session():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "crosswalk.delete"))
        assert (
            entry is not None
            and entry.data_dict["standard"] == "GR-2"
            and entry.data_dict["rba_section"] == "D8"
        )
        standard = get_standard("GR-2")
        assert standard is not None and standard.rba == ()
