"""Importing audit results: a sample file, bad rows refused whole with line numbers, who may import."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitoring.accounts.models import User
from monitoring.cases.audits.models import AuditFindingStatus, SocialAudit, SocialAuditFinding
from monitoring.cases.models import Severity
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.audits.conftest import audit_csv, upload
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form

Clients = Callable[[User], FlaskClient]


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_sample_audit_file_imports_one_audit_per_site_date_and_firm(
    case_world: CaseWorld, api_client: Any
) -> None:
    w = case_world
    data = audit_csv(
        f"{w.site},2026-05-20,Verité Audits,A3,Weekly hours above 60 in peak season,Priority,Open",
        f"{w.site},2026-05-20,verité audits,B4,Solvent fumes without extraction,major,in progress",
        f"{w.other_site},2026-04-02,Bureau Audit,,,,",
    )
    response = upload(api_client, w.coordinator, data)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["findings"] == 2
    assert sorted(len(a["findings"]) for a in body["audits"]) == [0, 2]
    first = next(a for a in body["audits"] if a["findings"])
    assert first["site_id"] == w.site and first["firm"] == "Verité Audits"
    assert [(f["rba_section"], f["severity"], f["status"]) for f in first["findings"]] == [
        ("A3", "priority", "open"),
        ("B4", "major", "in_progress"),
    ]
    with w.session():
        findings = list(db.session.scalars(select(SocialAuditFinding).order_by(SocialAuditFinding.id)))
        assert findings[0].text == "Weekly hours above 60 in peak season"
        assert (
            findings[0].severity is Severity.priority and findings[1].status is AuditFindingStatus.in_progress
        )
        assert b"Weekly hours" not in findings[0].text_ct  # protected, as findings are
        entries = list(
            db.session.scalars(select(AuditEntry).where(AuditEntry.action == "social_audit.import"))
        )
        assert len(entries) == 2 and all(e.actor_id == w.coordinator.id for e in entries)


def test_bad_rows_refuse_the_whole_file_with_line_numbers(case_world: CaseWorld, api_client: Any) -> None:
    w = case_world
    data = audit_csv(
        f"{w.site},2026-05-20,Verité Audits,A3,Hours above 60,priority,open",
        f"{w.site},2026-05-20,Verité Audits,A3,Hours above 60,critical,open",
        f"{w.site},20/05/2026,Verité Audits,Z7,Fees,minor,closed",
        "CN2019303BQ3FZP,2026-05-20,Verité Audits,A1,Fees,minor,",
    )
    response = upload(api_client, w.monitor, data)
    assert response.status_code == 422
    errors = response.get_json()["error"]["errors"]
    assert set(errors) == {"3.severity", "4.audit_date", "4.code_section", "5.site", "5.status"}
    assert "critical is not one of: priority, major, minor." in errors["3.severity"]
    with w.session():
        assert _count(SocialAudit) == 0 and _count(SocialAuditFinding) == 0


def test_a_missing_column_and_an_audit_imported_before_are_refused(
    case_world: CaseWorld, api_client: Any
) -> None:
    w = case_world
    missing = b"site,audit_date,audit_firm\n1,2026-01-01,X\n"
    response = upload(api_client, w.coordinator, missing)
    assert response.status_code == 422
    assert "1.code_section" in response.get_json()["error"]["errors"]

    row = f"{w.site},2026-05-20,Verité Audits,,,,"
    assert upload(api_client, w.coordinator, audit_csv(row)).status_code == 201
    again = upload(api_client, w.coordinator, audit_csv(row))
    assert again.status_code == 422
    assert "2.audit_firm" in again.get_json()["error"]["errors"]
    with w.session():
        assert _count(SocialAudit) == 1


def test_the_import_page_lists_problems_by_line_and_imports_a_good_file(
    case_world: CaseWorld, client_for: Clients
) -> None:
    w = case_world
    client = client_for(w.monitor)
    assert client.get("/audits/import").status_code == 200

    def send(data: bytes) -> Any:
        return post_form(
            client,
            "/audits/import",
            {"file": (io.BytesIO(data), "audits.csv")},
            form_page="/audits/import",
            content_type="multipart/form-data",
        )

    refused = send(audit_csv(f"{w.site},2026-05-20,Verité Audits,A3,Hours,huge,open"))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "The file was not imported" in page and "huge is not one of" in page
    done = send(audit_csv(f"{w.site},2026-05-20,Verité Audits,A3,Hours,major,open"))
    assert done.status_code == 200
    assert f"/sites/{w.site}/audits" in done.get_data(as_text=True)
    with w.session():
        assert _count(SocialAudit) == 1


@pytest.mark.parametrize("role", ["affiliate", "supplier", "admin"])
def test_only_staff_import_audits(
    case_world: CaseWorld, api_client: Any, client_for: Clients, role: str
) -> None:
    w = case_world
    user = w.users[role]
    response = upload(api_client, user, audit_csv(f"{w.site},2026-05-20,Verité Audits,,,,"))
    assert response.status_code == 404
    assert client_for(user).get("/audits/import").status_code == 404
