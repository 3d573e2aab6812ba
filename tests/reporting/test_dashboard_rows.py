"""The dashboard shows the first rows of the ledger and of the portfolio and says how many there are.

Its snapshot holds only those rows (so that a dashboard costs the same however large they grow);
an affiliate's whole portfolio is held beside it, refreshed with it, and read a page at a time on
``/dashboard/portfolio`` and ``/api/v1/portfolio``. BOARD_ROWS is set to 2 here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event, select

from monitoring.accounts.models import User
from monitoring.cases.models import RemedyKind
from monitoring.core.db import db
from monitoring.reporting import services
from monitoring.reporting.models import FigureSnapshot
from tests.reporting.conftest import NOW, FigureWorld, add_remedy

ClientFor = Callable[[User], Any]
ApiClient = Callable[[User], Any]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def two_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "BOARD_ROWS", 2)


@pytest.fixture
def wide(figure_world: FigureWorld) -> FigureWorld:
    """Affiliate A's contract reaches three more sites (named to sort before the assembly plant,
    none with a case), and C1 has remedies of three kinds: three ledger rows."""
    w, c = figure_world.w, figure_world.cases
    for name in ("Aaa Plant", "Aab Plant", "Aac Plant"):
        w.registry.disclose(w.users["supplier"].id, w.products["laptop"], w.registry.site(name, country="VN"))
    add_remedy(w, c["C1"], RemedyKind.back_pay, "500.00", "EUR", 6)
    add_remedy(w, c["C1"], RemedyKind.fees_repaid, "300.00", "EUR", 7)
    add_remedy(w, c["C1"], RemedyKind.passports_returned, None, None, 8)
    return figure_world


def text(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(p|div)>', html, re.S)
    assert found, element_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def body_rows(html: str, table_id: str) -> list[str]:
    found = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert found, table_id
    return re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)


def sites_of(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", re.findall(r"<th[^>]*>(.*?)</th>", row, re.S)[0])
        for row in body_rows(html, "portfolio")
    ]


def test_the_affiliates_dashboard_shows_the_sites_that_need_attention_first_and_says_how_many(
    wide: FigureWorld, client_for: ClientFor, api_client: ApiClient
) -> None:
    affiliate = wide.w.users["affiliate"]
    html = client_for(affiliate).get("/dashboard/").get_data(as_text=True)
    assert sites_of(html)[0].startswith("Assembly Plant")  # its open case first, before "Aaa"
    assert sites_of(html)[1] == "Aaa Plant"
    assert len(body_rows(html, "portfolio")) == 2
    shown = text(html, "portfolio-shown")
    assert shown.startswith("Showing 2 of 4 sites")
    assert 'href="/dashboard/portfolio"' in html
    board = api_client(affiliate).get("/api/v1/dashboard").get_json()
    assert (len(board["portfolio"]), board["portfolio_total"]) == (2, 4)


def test_the_whole_portfolio_a_page_at_a_time(
    wide: FigureWorld, client_for: ClientFor, api_client: ApiClient
) -> None:
    affiliate = wide.w.users["affiliate"]
    whole = api_client(affiliate).get("/api/v1/portfolio").get_json()
    names = [row["site_name"] for row in whole["rows"]]
    assert names[0].startswith("Assembly Plant") and names[1:] == ["Aaa Plant", "Aab Plant", "Aac Plant"]
    assert (whole["total"], whole["offset"], whole["next_offset"]) == (4, 0, None)
    first = api_client(affiliate).get("/api/v1/portfolio?limit=3").get_json()
    assert (len(first["rows"]), first["next_offset"]) == (3, 3)
    last = api_client(affiliate).get("/api/v1/portfolio?limit=3&offset=3").get_json()
    assert ([row["site_name"] for row in last["rows"]], last["next_offset"]) == (["Aac Plant"], None)
    assert api_client(affiliate).get("/api/v1/portfolio?offset=-1").status_code == 422
    assert api_client(affiliate).get("/api/v1/portfolio?limit=0").status_code == 422
    client = client_for(affiliate)
    page = client.get("/dashboard/portfolio").get_data(as_text=True)
    assert len(body_rows(page, "portfolio")) == 4
    assert text(page, "portfolio-shown").startswith("Sites 1 to 4 of 4")
    assert 'id="portfolio-as-of"' in page
    bad = client.get("/dashboard/portfolio?offset=x")
    assert bad.status_code == 422
    assert 'role="alert"' in bad.get_data(as_text=True)


def test_the_portfolio_page_links_the_next_and_previous_sites(
    wide: FigureWorld, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "PORTFOLIO_PAGE_ROWS", 3)
    client = client_for(wide.w.users["affiliate"])
    first = client.get("/dashboard/portfolio").get_data(as_text=True)
    assert len(body_rows(first, "portfolio")) == 3
    assert 'rel="next" href="/dashboard/portfolio?offset=3"' in first
    assert 'rel="prev"' not in first
    second = client.get("/dashboard/portfolio?offset=3").get_data(as_text=True)
    assert sites_of(second) == ["Aac Plant"]
    assert 'rel="prev" href="/dashboard/portfolio?offset=0"' in second
    assert 'rel="next"' not in second


@pytest.mark.parametrize("who", ["coordinator", "monitor", "supplier", "admin"])
def test_only_affiliates_have_a_portfolio(
    figure_world: FigureWorld, client_for: ClientFor, api_client: ApiClient, who: str
) -> None:
    user = figure_world.w.users[who]
    assert client_for(user).get("/dashboard/portfolio").status_code == 404
    assert api_client(user).get("/api/v1/portfolio").status_code == 404


def test_another_buyers_portfolio_stays_its_own(wide: FigureWorld, api_client: ApiClient) -> None:
    w = wide.w
    api_client(w.users["affiliate"]).get("/api/v1/portfolio")
    other = api_client(w.users["affiliate_b"]).get("/api/v1/portfolio").get_json()
    assert [row["site_id"] for row in other["rows"]] == [w.other_site]


def test_the_ledger_table_shows_its_first_rows_and_the_totals_count_every_remedy(
    wide: FigureWorld, client_for: ClientFor, api_client: ApiClient
) -> None:
    coordinator = wide.w.users["coordinator"]
    every = api_client(coordinator).get("/api/v1/remedy-ledger").get_json()
    assert len(every["rows"]) == 3
    html = client_for(coordinator).get("/dashboard/").get_data(as_text=True)
    assert len(body_rows(html, "ledger-rows")) == 2
    assert text(html, "ledger-shown").startswith("Showing the first 2 of 3 rows")
    assert '<dd id="ledger-remedies">3</dd>' in html
    board = api_client(coordinator).get("/api/v1/dashboard").get_json()
    assert (len(board["ledger"]["rows"]), board["ledger_rows_total"], board["ledger"]["remedies"]) == (
        2,
        3,
        3,
    )
    assert board["ledger"]["rows"] == every["rows"][:2]  # the first rows, in the ledger's order
    # a bounded period is computed on request and shows its first rows the same way
    bounded = api_client(coordinator).get("/api/v1/dashboard?from=2026-11-01&to=2026-11-30").get_json()
    assert (len(bounded["ledger"]["rows"]), bounded["ledger_rows_total"]) == (2, 3)


def test_the_ledger_says_nothing_of_more_rows_when_all_are_shown(
    figure_world: FigureWorld, client_for: ClientFor
) -> None:
    add_remedy(figure_world.w, figure_world.cases["C1"], RemedyKind.back_pay, "500.00", "EUR", 6)
    html = client_for(figure_world.w.users["coordinator"]).get("/dashboard/").get_data(as_text=True)
    assert len(body_rows(html, "ledger-rows")) == 1
    assert 'id="ledger-shown"' not in html


def test_a_buyer_reads_the_first_rows_suppressed(figure_world: FigureWorld, api_client: ApiClient) -> None:
    w, c = figure_world.w, figure_world.cases
    for kind in (RemedyKind.back_pay, RemedyKind.fees_repaid, RemedyKind.passports_returned):
        add_remedy(w, c["C1"], kind, "10.00", "EUR", 2)
    board = api_client(w.users["affiliate"]).get("/api/v1/dashboard").get_json()
    assert board["ledger_rows_total"] == 3
    assert [(row["workers_covered"], row["suppressed"]) for row in board["ledger"]["rows"]] == [
        (None, True)
    ] * 2


def snapshots_of(fw: FigureWorld) -> dict[str, FigureSnapshot]:
    with fw.w.session() as session:
        rows = session.scalars(
            select(FigureSnapshot).where(
                FigureSnapshot.scope == "affiliate",
                FigureSnapshot.organisation_id == fw.w.orgs["affiliate_a"],
            )
        ).all()
        session.expunge_all()
        return {row.breakdown: row for row in rows}


def test_the_snapshot_holds_the_first_rows_and_the_whole_portfolio_beside_it(
    app: Flask, wide: FigureWorld, api_client: ApiClient, frozen: time_machine.Coordinates
) -> None:
    w = wide.w
    affiliate = w.users["affiliate"]
    api_client(affiliate).get("/api/v1/dashboard")
    held = snapshots_of(wide)
    assert set(held) == {"total", "dashboard", "portfolio"}
    board = held["dashboard"].data
    assert (len(board["portfolio"]), board["portfolio_total"]) == (2, 4)
    assert (len(board["ledger"]["rows"]), board["ledger"]["rows_total"]) == (2, 3)
    assert len(held["portfolio"].data["rows"]) == 4
    assert held["portfolio"].computed_dt == held["dashboard"].computed_dt
    # a new site reaches the portfolio with the next refresh, in both snapshots
    w.registry.disclose(
        w.users["supplier"].id, w.products["laptop"], w.registry.site("Aad Plant", country="VN")
    )
    assert api_client(affiliate).get("/api/v1/portfolio").get_json()["total"] == 4
    frozen.shift(timedelta(seconds=301))
    result = app.test_cli_runner().invoke(args=["jobs", "worker", "--once"])
    assert "refreshed 2 figure snapshots" in result.output  # the figures' and the dashboard's
    after = api_client(affiliate).get("/api/v1/portfolio").get_json()
    assert (after["total"], after["as_of"][:19]) == (5, "2027-01-15T12:05:01")
    assert api_client(affiliate).get("/api/v1/dashboard").get_json()["portfolio_total"] == 5


def test_a_snapshot_stored_before_held_every_row_and_still_reads(
    wide: FigureWorld, client_for: ClientFor, api_client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    affiliate = wide.w.users["affiliate"]
    monkeypatch.setattr(services, "BOARD_ROWS", 100)
    api_client(affiliate).get("/api/v1/dashboard")  # stores every row
    with wide.w.session() as session:
        snapshot = session.scalars(
            select(FigureSnapshot).where(
                FigureSnapshot.scope == "affiliate",
                FigureSnapshot.organisation_id == wide.w.orgs["affiliate_a"],
                FigureSnapshot.breakdown == "dashboard",
            )
        ).one()
        data = dict(snapshot.data)
        data.pop("portfolio_total")
        data["ledger"] = {k: v for k, v in data["ledger"].items() if k != "rows_total"}
        snapshot.data = data
        session.execute(FigureSnapshot.__table__.delete().where(FigureSnapshot.breakdown == "portfolio"))
    monkeypatch.setattr(services, "BOARD_ROWS", 2)
    board = api_client(affiliate).get("/api/v1/dashboard").get_json()
    assert (len(board["portfolio"]), board["portfolio_total"]) == (2, 4)
    assert (len(board["ledger"]["rows"]), board["ledger_rows_total"]) == (2, 3)
    # the whole portfolio, missing, is computed and stored on its first read
    assert api_client(affiliate).get("/api/v1/portfolio").get_json()["total"] == 4
    assert "portfolio" in snapshots_of(wide)


def test_the_openapi_document_describes_the_portfolios_pages(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/portfolio"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"offset", "limit"}
    board = document["components"]["schemas"]["Dashboard"]["properties"]
    assert {"portfolio_total", "ledger_rows_total"} <= set(board)


@contextmanager
def counting(app: Flask) -> Iterator[list[int]]:
    """Count the statements run (as tests/cases/test_api_cases.py does, the web session's left out)."""
    engine = db.state(app).engine
    count = [0]

    def before(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "web_session" not in statement:
            count[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_the_dashboard_reads_and_draws_as_much_when_the_portfolio_grows(
    app: Flask, wide: FigureWorld, client_for: ClientFor, frozen: time_machine.Coordinates
) -> None:
    w = wide.w
    client = client_for(w.users["affiliate"])
    client.get("/dashboard/")  # stores the snapshots

    def measured() -> tuple[int, int]:
        with counting(app) as count:
            html = client.get("/dashboard/").get_data(as_text=True)
        return count[0], len(body_rows(html, "portfolio"))

    before = measured()
    for n in range(6):
        site = w.registry.site(f"Growth Plant {n}", country="VN")
        w.registry.disclose(w.users["supplier"].id, w.products["laptop"], site)
    frozen.shift(timedelta(seconds=10))
    assert "refreshed" in app.test_cli_runner().invoke(args=["figures", "refresh"]).output
    after = measured()
    assert before == after == (before[0], 2)
    assert text(client.get("/dashboard/").get_data(as_text=True), "portfolio-shown").startswith(
        "Showing 2 of 10 sites"
    )
