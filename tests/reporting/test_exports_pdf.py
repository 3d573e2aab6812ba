"""PDF reports: a case as the role sees it and a buyer's portfolio, Thai text shaped and extractable.

The Thai site is ``other_site`` (affiliate B's); the canary case at ``site`` is one affiliate B
may not see.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Callable
from typing import Any

import pypdf
import pytest
from flask import Flask
from sqlalchemy import select

from monitoring.cases.models import Case, CaseState
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain.models import Site
from tests.cases.helpers import CaseWorld

THAI = "โรงงานอิเล็กทรอนิกส์"
SEALED = "SEALED-TESTIMONY-CANARY"


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in reader.pages))


@pytest.fixture
def thai_world(case_world: CaseWorld) -> dict[str, Any]:
    w = case_world
    with w.session():
        db.session.get(Site, w.other_site).name = THAI
    thai = w.case(findings=[w.finding(site_id=w.other_site, summary=f"{SEALED} Thai")], site_id=w.other_site)
    w.advance_case(w.case(findings=[w.finding(summary=f"{SEALED} CN")]), CaseState.closed)  # affiliate A only
    with w.session():
        reference = db.session.get(Case, thai).reference
    return {"w": w, "thai": thai, "reference": reference}


def test_case_report_has_the_thai_site_and_the_reference(
    app: Flask, thai_world: dict[str, Any], api_client: Callable[..., Any]
) -> None:
    w = thai_world["w"]
    response = api_client(w.users["affiliate_b"]).get(f"/api/v1/cases/{thai_world['thai']}/report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = _text(response.get_data())
    assert THAI in text
    assert thai_world["reference"] in text
    assert SEALED not in text
    with app.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export.case_report").order_by(AuditEntry.id.desc())
        ).first()
        assert entry is not None and entry.object_id == str(thai_world["thai"])
        assert json.loads(entry.data)["format"] == "pdf"


def test_case_report_is_404_for_a_case_the_role_may_not_see(
    thai_world: dict[str, Any], api_client: Callable[..., Any], client_for: Callable[..., Any]
) -> None:
    w = thai_world["w"]
    case_id = thai_world["thai"]
    assert api_client(w.users["affiliate"]).get(f"/api/v1/cases/{case_id}/report.pdf").status_code == 404
    assert api_client(w.users["other_monitor"]).get(f"/api/v1/cases/{case_id}/report.pdf").status_code == 404
    assert client_for(w.users["affiliate"]).get(f"/exports/cases/{case_id}/report.pdf").status_code == 404
    assert api_client(w.users["admin"]).get(f"/api/v1/cases/{case_id}/report.pdf").status_code == 404


def test_portfolio_report_of_an_affiliate(
    thai_world: dict[str, Any], api_client: Callable[..., Any], client_for: Callable[..., Any]
) -> None:
    w = thai_world["w"]
    api = api_client(w.users["affiliate_b"])
    response = api.get("/api/v1/exports/portfolio.pdf?start=2020-01-01&end=2029-12-31")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    text = _text(response.get_data())
    assert THAI in text and thai_world["reference"] in text
    assert SEALED not in text
    # Affiliate A's case at the Chinese site, with its remedy, is not affiliate B's.
    other = _text(
        api_client(w.users["affiliate"])
        .get("/api/v1/exports/portfolio.pdf?start=2020-01-01&end=2029-12-31")
        .get_data()
    )
    assert THAI not in other
    assert thai_world["reference"] not in other
    assert "1250.00 USD" in other
    page = client_for(w.users["affiliate_b"])
    assert page.get("/exports/portfolio").status_code == 200
    bad = page.get("/exports/portfolio?start=2026-02-01&end=2026-01-01")
    assert bad.status_code == 422
    assert "The end date must not be before the start date." in bad.get_data(as_text=True)
    assert api.get("/api/v1/exports/portfolio.pdf?start=2026-02-01&end=2026-01-01").status_code == 422
    assert (
        api_client(w.users["coordinator"])
        .get("/api/v1/exports/portfolio.pdf?start=2026-01-01&end=2026-02-01")
        .status_code
        == 404
    )
