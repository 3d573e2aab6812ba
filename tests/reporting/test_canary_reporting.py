"""The canary on reporting: no export, dashboard, chart, API answer or public page carries a sealed text.

The public page's canary case (tests/publication/test_canary_public.py) is planted and published:
sealed testimony with the worker's name and e-mail, a finding summary, a message of each
visibility, a remedy's description and a closure note, with a remedy covering 4 workers and a
finding affecting 3. Then affiliate A (whose contract reaches the site) and supplier X (asked for
the actions) fetch every export they may (each list as CSV and XLSX, opened; the case and
portfolio PDFs, their text extracted), their dashboard (its SVG charts are inline) and the
reporting API; the public pages are read anonymously. None carries a canary, a monitor's name or
e-mail, and each that shows the worker count shows it as "fewer than 5" (null on the API).
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openpyxl
import pypdf
from flask import Flask

from monitoring.cases.models import Case
from tests.cases.helpers import CaseWorld
from tests.publication.helpers import public_bodies, publish
from tests.publication.test_canary_public import (
    CLOSURE_NOTE,
    EMAIL,
    NOTES,
    REMEDY_TEXT,
    SUMMARY,
    WORKER,
    _plant,
)
from tests.testimony.test_canary import CANARY, leaks

LISTS = ("cases", "findings", "actions", "sites", "contracts", "reports")
FEWER = "fewer than 5"


@dataclass(frozen=True)
class Answer:
    """A response read at once (an export streams in its request's context)."""

    status: int
    mimetype: str
    body: bytes

    @classmethod
    def of(cls, response: Any) -> Answer:
        body = response.get_data()
        return cls(response.status_code, response.mimetype, body)

    def json(self) -> Any:
        return json.loads(self.body)


def _text(answer: Answer) -> str:
    """What a reader of the answer sees: a PDF's text, an XLSX's cells, anything else decoded."""
    body = answer.body
    if answer.mimetype == "application/pdf":
        pages = pypdf.PdfReader(io.BytesIO(body)).pages
        return unicodedata.normalize("NFC", " ".join(" ".join(p.extract_text() for p in pages).split()))
    if body.startswith(b"PK"):
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(
            "\t".join("" if c is None else str(c) for c in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return body.decode("utf-8-sig")


def _answers(
    w: CaseWorld, key: str, case_id: int, client_for: Callable[..., Any], api_client: Callable[..., Any]
):
    """Every reporting answer the role gets, by URL (lists it may not export are left out)."""
    page, api = client_for(w.users[key]), api_client(w.users[key])
    answers: dict[str, Any] = {}
    for kind in LISTS:
        for fmt in ("csv", "xlsx"):
            answer = Answer.of(page.get(f"/exports/{kind}.{fmt}"))
            assert answer.status in (200, 403, 404), (key, kind, fmt, answer.status)
            if answer.status == 200:
                answers[f"/exports/{kind}.{fmt}"] = answer
    for url in (
        f"/exports/cases/{case_id}/report.pdf",
        "/exports/portfolio?start=2024-01-01&end=2030-12-31",
        "/dashboard/",
    ):
        answers[url] = Answer.of(page.get(url))
    for url in ("/api/v1/figures", "/api/v1/remedy-ledger", "/api/v1/dashboard"):
        answers[url] = Answer.of(api.get(url))
    return answers


def test_no_reporting_answer_carries_a_canary_and_small_counts_are_suppressed(
    app: Flask, case_world: CaseWorld, client_for: Callable[..., Any], api_client: Callable[..., Any]
) -> None:
    w = case_world
    case_id = _plant(w)
    publish(w, api_client, case_id)
    monitor = w.users["monitor"]
    forbidden = [
        WORKER,
        EMAIL,
        SUMMARY,
        REMEDY_TEXT,
        CLOSURE_NOTE,
        *NOTES.values(),
        monitor.name,
        monitor.email,
    ]
    for key in ("affiliate", "supplier"):
        answers = _answers(w, key, case_id, client_for, api_client)
        # Suppliers have no case board: they export their actions (and the registry's lists).
        lists = ("cases", "actions") if key == "affiliate" else ("actions",)
        expected = {f"/exports/{kind}.{fmt}" for kind in lists for fmt in ("csv", "xlsx")}
        assert expected <= answers.keys(), (key, sorted(answers))
        for url, answer in answers.items():
            if url.startswith("/exports/portfolio") and key == "supplier":
                assert answer.status in (403, 404), (key, url)
                continue
            assert answer.status == 200, (key, url, answer.status)
            assert not leaks(answer.body), (key, url)
            text = _text(answer)
            assert CANARY not in text, (key, url)
            for needle in forbidden:
                assert needle not in text, (key, url, needle)
        reference = w.get(Case, case_id).reference
        for url in expected:
            assert reference in _text(answers[url]), (key, url, "the case is in the export")
        assert reference in _text(answers[f"/exports/cases/{case_id}/report.pdf"]), key
        assert "<svg" in _text(answers["/dashboard/"]), (key, "the charts are read too")
        # Four workers covered by the remedy: suppressed wherever the count is shown.
        assert FEWER in _text(answers[f"/exports/cases/{case_id}/report.pdf"]), key
        assert FEWER in _text(answers["/dashboard/"]), key
        ledger = answers["/api/v1/remedy-ledger"].json()
        assert ledger["workers_covered"] is None and ledger["suppressed"] is True, (key, ledger)
        assert ledger["rows"] and all(row["workers_covered"] is None for row in ledger["rows"]), (key, ledger)
        if key == "affiliate":
            assert FEWER in _text(answers["/exports/portfolio?start=2024-01-01&end=2030-12-31"])

    bodies = public_bodies(app, [case_id])
    for url, body in bodies.items():
        assert not leaks(body), url
        for needle in forbidden:
            assert needle.encode() not in body, (url, needle)
    assert FEWER.encode() in bodies[f"/public/cases/{case_id}"]


def test_an_affiliates_ledger_names_no_other_buyer(
    case_world: CaseWorld, client_for: Callable[..., Any], api_client: Callable[..., Any]
) -> None:
    """Affiliate B buys too from the site: affiliate A's ledger has its own rows only, once each."""
    w = case_world
    w.registry.contract(w.orgs["affiliate_b"], w.orgs["supplier_x"], [w.products["laptop"]])
    case_id = _plant(w)
    rows = Answer.of(api_client(w.users["affiliate"]).get("/api/v1/remedy-ledger")).json()["rows"]
    assert rows, "the remedy is in the ledger"
    assert {row["buyer_id"] for row in rows} == {w.orgs["affiliate_a"]}, rows
    assert len(rows) == len({(row["kind"], row["currency"], row["supplier_id"]) for row in rows}), rows
    page = _text(Answer.of(client_for(w.users["affiliate"]).get("/dashboard/")))
    ledger = page[page.index('id="ledger-rows"') :].split("</table>")[0]
    assert ledger.count('<th scope="row">Back pay</th>') == 1, "one ledger line, not one per buyer"
    # The staff still see a line per buyer.
    rows = Answer.of(api_client(w.users["coordinator"]).get("/api/v1/remedy-ledger")).json()["rows"]
    assert {row["buyer_id"] for row in rows} == {w.orgs["affiliate_a"], w.orgs["affiliate_b"]}, (
        case_id,
        rows,
    )


def test_a_suppliers_ledger_names_only_the_buyers_of_its_own_contracts(
    case_world: CaseWorld, api_client: Callable[..., Any]
) -> None:
    """Buyer B buys the same product from another supplier: supplier X's ledger does not name B."""
    w = case_world
    w.registry.contract(w.orgs["affiliate_b"], w.orgs["supplier_y"], [w.products["laptop"]])
    _plant(w)
    rows = Answer.of(api_client(w.users["supplier"]).get("/api/v1/remedy-ledger")).json()["rows"]
    assert rows, "the remedy is in the supplier's ledger"
    assert {row["buyer_id"] for row in rows} == {w.orgs["affiliate_a"]}, rows
    rows = Answer.of(api_client(w.users["coordinator"]).get("/api/v1/remedy-ledger")).json()["rows"]
    assert {row["buyer_id"] for row in rows} == {w.orgs["affiliate_a"], w.orgs["affiliate_b"]}, rows


def test_the_case_page_and_the_dashboard_link_to_the_pdf_reports(
    case_world: CaseWorld, client_for: Callable[..., Any]
) -> None:
    w = case_world
    case_id = _plant(w)
    for who in ("coordinator", "monitor", "affiliate", "supplier"):
        page = client_for(w.users[who]).get(f"/cases/{case_id}").get_data(as_text=True)
        assert f'href="/exports/cases/{case_id}/report.pdf"' in page, who
    assert 'href="/exports/portfolio"' in client_for(w.users["affiliate"]).get("/dashboard/").get_data(
        as_text=True
    )
    assert 'href="/exports/portfolio"' not in client_for(w.users["coordinator"]).get("/dashboard/").get_data(
        as_text=True
    )
