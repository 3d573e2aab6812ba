"""Dashboard snapshots: the ledger, its totals per kind, the leverage ranking and the portfolio.

The whole period's dashboard reads them from one snapshot per scope (``breakdown`` "dashboard"),
stored on the first read and refreshed as the figures' are; a bounded period computes them. The
tests tamper with a stored snapshot to tell a read snapshot from a live computation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.cases.models import Case, RemedyKind
from monitoring.reporting.models import FigureSnapshot
from tests.reporting.conftest import NOW, FigureWorld, add_remedy

ApiClient = Callable[[User], Any]
MARKER = 777  # a count no live computation of this data set gives


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def board(api_client: ApiClient, user: User, query: str = "") -> dict[str, Any]:
    response = api_client(user).get(f"/api/v1/dashboard{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    result: dict[str, Any] = response.get_json()
    return result


def stored(fw: FigureWorld) -> dict[tuple[str, int], dict[str, Any]]:
    with fw.w.session() as session:
        rows = session.scalars(select(FigureSnapshot).where(FigureSnapshot.breakdown == "dashboard"))
        return {(s.scope, s.organisation_id): s.data for s in rows}


def tamper(fw: FigureWorld, scope: str, organisation_id: int) -> None:
    """Set the stored remedy count, the portfolio's open cases and the leverage to MARKER."""
    with fw.w.session() as session:
        snapshot = session.scalars(
            select(FigureSnapshot).where(
                FigureSnapshot.scope == scope,
                FigureSnapshot.organisation_id == organisation_id,
                FigureSnapshot.breakdown == "dashboard",
            )
        ).one()
        data = dict(snapshot.data)
        data["ledger"] = {**data["ledger"], "remedies": MARKER}
        data["portfolio"] = [[*row[:4], MARKER, *row[5:]] for row in data["portfolio"]]
        data["leverage"] = [[*row[:4], MARKER] for row in data["leverage"]]
        snapshot.data = data


def refresh(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["figures", "refresh"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_whole_periods_dashboard_is_stored_once_per_scope_then_read_back(
    figure_world: FigureWorld, api_client: ApiClient
) -> None:
    w = figure_world.w
    coordinator, affiliate = w.users["coordinator"], w.users["affiliate"]
    first = board(api_client, coordinator)
    assert first["as_of"].startswith("2027-01-15T12:00:00")
    c3 = w.get(Case, figure_world.cases["C3"]).reference
    assert [row["reference"] for row in first["leverage"]] == [c3]
    assert board(api_client, affiliate)["portfolio"][0]["open_cases"] == 1  # C3
    assert set(stored(figure_world)) == {("network", 0), ("affiliate", w.orgs["affiliate_a"])}
    tamper(figure_world, "network", 0)
    tamper(figure_world, "affiliate", w.orgs["affiliate_a"])
    again = board(api_client, coordinator)
    assert again["ledger"]["remedies"] == MARKER
    assert [row["affiliates"] for row in again["leverage"]] == [MARKER]
    assert board(api_client, affiliate)["portfolio"][0]["open_cases"] == MARKER
    # a bounded period is computed on request and stores nothing
    november = board(api_client, coordinator, "?from=2026-11-01&to=2026-11-30")
    assert november["ledger"]["remedies"] == 0
    assert [row["affiliates"] for row in november["leverage"]] == [1]
    assert len(stored(figure_world)) == 2


def test_the_dashboard_page_says_as_of_when(
    figure_world: FigureWorld, client_for: Callable[[User], Any], frozen: time_machine.Coordinates
) -> None:
    affiliate = figure_world.w.users["affiliate"]
    client_for(affiliate).get("/dashboard/")
    frozen.shift(timedelta(minutes=2))
    page = client_for(affiliate).get("/dashboard/").get_data(as_text=True)
    for part in ("portfolio", "ledger"):
        assert f'id="{part}-as-of"' in page
    assert "As of 2027-01-15 12:00 (UTC)." in page  # the stored snapshot's time, not 12:02
    coordinator = client_for(figure_world.w.users["coordinator"]).get("/dashboard/").get_data(as_text=True)
    assert 'id="leverage-as-of"' in coordinator


def test_a_new_remedy_changes_the_total_after_a_refresh(
    app: Flask, figure_world: FigureWorld, api_client: ApiClient, frozen: time_machine.Coordinates
) -> None:
    w, c = figure_world.w, figure_world.cases
    coordinator = w.users["coordinator"]
    add_remedy(w, c["C1"], RemedyKind.back_pay, "500.00", "EUR", 6)
    before = board(api_client, coordinator)
    assert (before["ledger"]["remedies"], before["ledger"]["total_eur"]) == (1, "500.00")
    recorded = api_client(w.users["monitor"]).post(
        f"/api/v1/cases/{c['C3']}/remedies",
        json={"kind": "back_pay", "amount": "80.00", "currency": "EUR", "workers_covered": 6},
    )
    assert recorded.status_code == 201, recorded.get_data(as_text=True)
    unchanged = board(api_client, coordinator)
    assert (unchanged["ledger"]["remedies"], unchanged["ledger"]["total_eur"]) == (1, "500.00")
    frozen.shift(timedelta(seconds=10))
    assert "refreshed 2 figure snapshots" in refresh(app)  # the figures' and the dashboard's
    after = board(api_client, coordinator)
    assert (after["ledger"]["remedies"], after["ledger"]["total_eur"]) == (2, "580.00")
    assert [(k["kind"], k["remedies"], k["amount_eur"]) for k in after["by_kind"]] == [
        ("back_pay", 2, "580.00")
    ]
    assert after["as_of"].startswith("2027-01-15T12:00:10")


def test_the_worker_refreshes_a_stale_dashboard_snapshot(
    app: Flask, figure_world: FigureWorld, api_client: ApiClient, frozen: time_machine.Coordinates
) -> None:
    w, c = figure_world.w, figure_world.cases
    affiliate = w.users["affiliate"]
    assert board(api_client, affiliate)["ledger"]["remedies"] == 0
    add_remedy(w, c["C1"], RemedyKind.back_pay, "500.00", "EUR", 6)
    frozen.shift(timedelta(seconds=301))
    result = app.test_cli_runner().invoke(args=["jobs", "worker", "--once"])
    assert "refreshed 2 figure snapshots" in result.output  # the figures' and the dashboard's
    after = board(api_client, affiliate)
    assert (after["ledger"]["remedies"], after["ledger"]["workers_covered"]) == (1, 6)


def test_suppression_is_applied_when_a_snapshot_is_read(
    figure_world: FigureWorld, api_client: ApiClient
) -> None:
    w, c = figure_world.w, figure_world.cases
    add_remedy(w, c["C1"], RemedyKind.passports_returned, None, None, 2)
    board(api_client, w.users["affiliate"])  # stores the snapshot, unsuppressed
    (row,) = stored(figure_world)[("affiliate", w.orgs["affiliate_a"])]["by_kind"]
    assert row[2] == 2  # the raw count is held; the reader's role decides what shows
    buyer = board(api_client, w.users["affiliate"])
    assert [(k["workers_covered"], k["suppressed"]) for k in buyer["by_kind"]] == [(None, True)]
    assert buyer["ledger"]["suppressed"] is True
    assert buyer["ledger"]["rows"][0]["workers_covered"] is None
    colleague_staff = board(api_client, w.users["coordinator"])
    assert [k["workers_covered"] for k in colleague_staff["by_kind"]] == [2]


@pytest.mark.parametrize("reader", ["affiliate_b", "supplier", "monitor", "coordinator"])
def test_no_one_reads_another_scopes_dashboard_snapshot(
    figure_world: FigureWorld, api_client: ApiClient, create_user: Callable[..., User], reader: str
) -> None:
    w, c = figure_world.w, figure_world.cases
    add_remedy(w, c["C1"], RemedyKind.back_pay, "500.00", "EUR", 6)
    board(api_client, w.users["affiliate"])
    tamper(figure_world, "affiliate", w.orgs["affiliate_a"])
    answer = board(api_client, w.users[reader])
    assert answer["ledger"]["remedies"] != MARKER
    assert MARKER not in [row["open_cases"] for row in answer["portfolio"]]
    if reader == "affiliate_b":  # another buyer: its own portfolio (other_site), none of A's sites
        assert {row["site_id"] for row in answer["portfolio"]} == {w.other_site}
        assert answer["ledger"]["remedies"] == 0  # C1's remedy is at A's site
    # a colleague of the same buyer reads the buyer's snapshot: it is the organisation's
    colleague = create_user(UserRole.affiliate, organisation=w.get(Organisation, w.orgs["affiliate_a"]))
    assert board(api_client, colleague)["ledger"]["remedies"] == MARKER
    reader_scope = (
        ("network", 0)
        if reader == "coordinator"
        else (w.users[reader].role.value, w.users[reader].organisation_id)
    )
    snapshots = stored(figure_world)
    assert set(snapshots) == {("affiliate", w.orgs["affiliate_a"]), reader_scope}
    assert snapshots[reader_scope]["ledger"]["remedies"] != MARKER


def test_refresh_all_stores_every_scopes_dashboard(app: Flask, figure_world: FigureWorld) -> None:
    result = app.test_cli_runner().invoke(args=["figures", "refresh", "--all"])
    assert result.exit_code == 0, result.output
    orgs = figure_world.w.orgs
    scopes = set(stored(figure_world))
    for scope, key in (("monitor", "monitors"), ("affiliate", "affiliate_b"), ("supplier", "supplier_y")):
        assert (scope, orgs[key]) in scopes
    assert ("network", 0) in scopes
