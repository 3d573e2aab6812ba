"""CSV and XLSX exports of the lists: per role exactly the rows the list shows, streamed, audited.

World (tests/cases/helpers.py): affiliate A buys what is made at ``site`` (CN); affiliate B at
``other_site`` (TH). Case ``mine`` at ``site`` by the monitor organisation ``monitors``; the
canary case at ``other_site`` is opened for ``other_monitors``, so neither affiliate A nor the
monitor may see it. Every finding's summary (encrypted, never exported) carries SEALED.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select

from monitoring.accounts.models import Organisation, User
from monitoring.cases.models import Case, CaseState
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.reporting import exports
from monitoring.supplychain.models import Site
from tests.cases.helpers import CaseWorld

SEALED = "SEALED-TESTIMONY-CANARY"


@pytest.fixture
def export_world(case_world: CaseWorld) -> dict[str, Any]:
    w = case_world
    mine = w.case(findings=[w.finding(summary=f"{SEALED} fees")])
    other_finding = w.finding(by="other_monitor", site_id=w.other_site, summary=f"{SEALED} other")
    canary = w.case(findings=[other_finding], site_id=w.other_site, by="coordinator")
    with w.session():
        refs = {key: db.session.get(Case, cid).reference for key, cid in (("mine", mine), ("canary", canary))}
    return {"w": w, "mine": mine, "canary": canary, "refs": refs}


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _listed_refs(api: Any) -> set[str]:
    response = api.get("/api/v1/cases?limit=100")
    assert response.status_code == 200
    return {item["reference"] for item in response.get_json()["items"]}


@pytest.mark.parametrize("role", ["coordinator", "monitor", "affiliate", "affiliate_b"])
def test_case_export_holds_exactly_the_rows_of_the_board(
    export_world: dict[str, Any], api_client: Callable[..., Any], role: str
) -> None:
    w, refs = export_world["w"], export_world["refs"]
    api = api_client(w.users[role])
    rows = _csv(api.get("/api/v1/exports/cases.csv"))
    exported = {row[0] for row in rows[1:]}
    assert exported == _listed_refs(api)
    if role in ("monitor", "affiliate"):
        assert exported == {refs["mine"]}
    if role == "affiliate_b":
        assert refs["mine"] not in exported
    text = "\n".join(",".join(r) for r in rows)
    assert SEALED not in text


def test_page_export_keeps_the_page_filters(
    export_world: dict[str, Any], client_for: Callable[..., Any]
) -> None:
    """The page link, with the page's filters; a supplier has no case board (404)."""
    w = export_world["w"]
    response = client_for(w.users["affiliate"]).get("/exports/cases.csv?country=cn&after=x")
    rows = _csv(response)
    assert [row[0] for row in rows[1:]] == [export_world["refs"]["mine"]]
    assert client_for(w.users["supplier"]).get("/exports/cases.csv").status_code == 404
    assert (
        client_for(w.users["affiliate"])
        .get("/exports/cases.csv?country=TH")
        .get_data(as_text=True)
        .count("\n")
        == 1
    )


def test_findings_and_actions_per_role(export_world: dict[str, Any], api_client: Callable[..., Any]) -> None:
    w = export_world["w"]
    w.action(export_world["mine"])
    monitor_rows = _csv(api_client(w.users["monitor"]).get("/api/v1/exports/findings.csv"))
    assert [row[-1] for row in monitor_rows[1:]] == [export_world["refs"]["mine"]]
    assert api_client(w.users["affiliate"]).get("/api/v1/exports/findings.csv").status_code == 404
    supplier_rows = _csv(api_client(w.users["supplier"]).get("/api/v1/exports/actions.csv"))
    assert [row[1] for row in supplier_rows[1:]] == [export_world["refs"]["mine"]]
    assert _csv(api_client(w.users["supplier_y"]).get("/api/v1/exports/actions.csv"))[1:] == []


def test_worker_reports_give_metadata_only(case_world: CaseWorld, api_client: Callable[..., Any]) -> None:
    w = case_world
    w.report()
    rows = _csv(api_client(w.users["monitor"]).get("/api/v1/exports/reports.csv"))
    assert rows[0] == ["Report", "Received", "Date collected", "Channel", "Status", "Country", "Site"]
    assert len(rows) == 2
    assert rows[1][5] == "CN"
    assert _csv(api_client(w.users["other_monitor"]).get("/api/v1/exports/reports.csv"))[1:] == []
    assert api_client(w.users["affiliate"]).get("/api/v1/exports/reports.csv").status_code == 404


def test_xlsx_opens_with_the_same_cells(export_world: dict[str, Any], api_client: Callable[..., Any]) -> None:
    w = export_world["w"]
    api = api_client(w.users["coordinator"])
    response = api.get("/api/v1/exports/cases.xlsx?state=open")
    assert response.status_code == 200
    assert response.mimetype == exports.MEDIA_TYPES["xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    cells = [[("" if v is None else str(v)) for v in row] for row in book.active.iter_rows(values_only=True)]
    rows = _csv(api.get("/api/v1/exports/cases.csv?state=open"))
    assert cells == rows
    assert {row[0] for row in cells[1:]} >= set(export_world["refs"].values())


def test_sites_and_contracts(case_world: CaseWorld, api_client: Callable[..., Any]) -> None:
    w = case_world
    contracts = _csv(api_client(w.users["affiliate"]).get("/api/v1/exports/contracts.csv"))
    assert len(contracts) == 2
    assert contracts[0][:4] == ["Reference", "Title", "Public buyer", "Supplier"]
    sites = _csv(api_client(w.users["coordinator"]).get("/api/v1/exports/sites.xlsx".replace("xlsx", "csv")))
    with w.session():
        names = {db.session.get(Site, w.site).name, db.session.get(Site, w.other_site).name}
    assert names <= {row[0] for row in sites[1:]}


def test_formula_injection_is_neutralised(case_world: CaseWorld, api_client: Callable[..., Any]) -> None:
    w = case_world
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert exports.neutralise(f"{start}1+1") == f"'{start}1+1"
    assert exports.neutralise("Plant 1") == "Plant 1"
    with w.session():
        db.session.get(Site, w.site).name = '=HYPERLINK("http://evil.example","x")'
    api = api_client(w.users["coordinator"])
    rows = _csv(api.get("/api/v1/exports/sites.csv?country=CN"))
    assert '\'=HYPERLINK("http://evil.example","x")' in {row[0] for row in rows}
    book = openpyxl.load_workbook(io.BytesIO(api.get("/api/v1/exports/sites.xlsx?country=CN").get_data()))
    values = [row[0].value for row in book.active.iter_rows()]
    assert '\'=HYPERLINK("http://evil.example","x")' in values
    assert all(cell.data_type != "f" for row in book.active.iter_rows() for cell in row)


def _audits(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_every_export_is_audited_without_content(
    app: Flask, export_world: dict[str, Any], api_client: Callable[..., Any], client_for: Callable[..., Any]
) -> None:
    w = export_world["w"]
    before = len(_audits(app, "export.cases"))
    api_client(w.users["affiliate"]).get("/api/v1/exports/cases.csv?state=open")
    client_for(w.users["affiliate"]).get("/exports/cases.xlsx")
    entries = _audits(app, "export.cases")[before:]
    assert len(entries) == 2
    first = json.loads(entries[0].data)
    assert (first["format"], first["rows"], first["filters"]) == ("csv", 1, {"state": "open"})
    assert json.loads(entries[1].data)["format"] == "xlsx"
    assert entries[0].actor_id == w.users["affiliate"].id
    assert export_world["refs"]["mine"] not in entries[0].data + entries[0].summary


def test_bad_filter_is_a_422_in_the_api(export_world: dict[str, Any], api_client: Callable[..., Any]) -> None:
    response = api_client(export_world["w"].users["coordinator"]).get(
        "/api/v1/exports/cases.csv?state=nonsense"
    )
    assert response.status_code == 422
    assert "state" in response.get_json()["fields"] if "fields" in response.get_json() else True


def test_list_pages_link_to_their_exports_with_their_filters(
    export_world: dict[str, Any], client_for: Callable[..., Any]
) -> None:
    html = client_for(export_world["w"].users["coordinator"]).get("/cases/?state=open").get_data(as_text=True)
    assert "/exports/cases.csv?state=open" in html
    assert "/exports/cases.xlsx?state=open" in html


def test_openapi_documents_the_media_types(app: Flask, api_client: Callable[..., Any], admin: User) -> None:
    spec = api_client(admin).get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert (
        "text/csv; charset=utf-8" in paths["/api/v1/exports/cases.csv"]["get"]["responses"]["200"]["content"]
    )
    xlsx = paths["/api/v1/exports/findings.xlsx"]["get"]["responses"]["200"]["content"]
    assert exports.MEDIA_TYPES["xlsx"] in xlsx
    pdf = paths["/api/v1/cases/{case_id}/report.pdf"]["get"]["responses"]["200"]["content"]
    assert "application/pdf" in pdf


def test_the_remedy_ledger_exports_as_the_dashboard_shows_it(
    case_world: CaseWorld, api_client: Callable[..., Any], client_for: Callable[..., Any]
) -> None:
    """A closed case's remedy (12 workers, 1,250 USD) in CSV and XLSX; the staff see the count,
    a buyer sees it too (12 is not a small cell) and its own buyer name only; every export audited."""
    w = case_world
    case_id = w.case()
    w.advance_case(case_id, CaseState.closed)
    coordinator = _csv(api_client(w.users["coordinator"]).get("/api/v1/exports/ledger.csv"))
    assert coordinator[0] == [
        "Kind of remedy",
        "Year",
        "Country",
        "Public buyer",
        "Supplier",
        "Remedies",
        "Workers covered",
        "Currency",
        "Amount",
        "Amount in EUR",
    ]
    body = coordinator[1:]
    assert body and all(row[7] == "USD" and row[8] == "1250.00" for row in body), body
    affiliate_rows = _csv(api_client(w.users["affiliate"]).get("/api/v1/exports/ledger.csv"))[1:]
    with w.session():
        own = db.session.get(Organisation, w.orgs["affiliate_a"]).name
    assert affiliate_rows and {row[3] for row in affiliate_rows} == {own}
    book = openpyxl.load_workbook(
        io.BytesIO(api_client(w.users["coordinator"]).get("/api/v1/exports/ledger.xlsx").get_data()),
        read_only=True,
    )
    cells = [[("" if v is None else str(v)) for v in row] for row in book.active.iter_rows(values_only=True)]
    assert cells[0] == coordinator[0] and len(cells) == len(coordinator)
    assert client_for(w.users["affiliate"]).get("/exports/ledger.csv?from=2020-01-01").status_code == 200
    assert api_client(w.users["admin"]).get("/api/v1/exports/ledger.csv").status_code == 404
    page = client_for(w.users["affiliate"]).get("/dashboard/?from=2020-01-01").get_data(as_text=True)
    assert 'href="/exports/ledger.csv?from=2020-01-01"' in page
    with w.session():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "export.ledger")
        ).all()
    assert len(actions) == 4
