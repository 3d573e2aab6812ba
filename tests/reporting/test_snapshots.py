"""Figure snapshots: stored once, read back, refreshed by the CLI and the worker, scoped per role.

The whole period's figures (no ``from``/``to``) come from a snapshot of the user's scope; the
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
from monitoring.cases.models import Case, CaseOutcome, CaseState
from monitoring.reporting.models import FigureSnapshot
from tests.reporting.conftest import NOW, FigureWorld, at

ApiClient = Callable[[User], Any]
MARKER = 777  # a count no live computation of this data set gives


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def figures(api_client: ApiClient, user: User, query: str = "") -> dict[str, Any]:
    response = api_client(user).get(f"/api/v1/figures{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    result: dict[str, Any] = response.get_json()
    return result


def closure_count(answer: dict[str, Any]) -> int | None:
    row = next(r for r in answer["durations"] if r["figure"] == "case_closure" and r["group"] is None)
    count: int | None = row["count"]
    return count


def snapshots(fw: FigureWorld) -> list[tuple[str, int, str]]:
    with fw.w.session() as session:
        rows = session.execute(
            select(FigureSnapshot.scope, FigureSnapshot.organisation_id, FigureSnapshot.breakdown)
        )
        return sorted((scope, org, breakdown) for scope, org, breakdown in rows)


def tamper(fw: FigureWorld, scope: str, organisation_id: int) -> None:
    """Set the stored case-closure count of a snapshot to MARKER."""
    with fw.w.session() as session:
        snapshot = session.scalars(
            select(FigureSnapshot).where(
                FigureSnapshot.scope == scope, FigureSnapshot.organisation_id == organisation_id
            )
        ).one()
        durations = [
            [name, group, MARKER if name == "case_closure" else count, median, p90]
            for name, group, count, median, p90 in snapshot.data["durations"]
        ]
        snapshot.data = {**snapshot.data, "durations": durations}


def close_c3(fw: FigureWorld) -> None:
    with fw.w.session() as session:
        case = session.get(Case, fw.cases["C3"])
        case.state, case.closed_dt, case.outcome = CaseState.closed, at(12, 10), CaseOutcome.resolved


def computed_at(fw: FigureWorld) -> list[Any]:
    with fw.w.session() as session:
        return list(session.scalars(select(FigureSnapshot.computed_dt).order_by(FigureSnapshot.id)))


def test_the_whole_periods_figures_are_stored_once_then_read_back(
    figure_world: FigureWorld, api_client: ApiClient
) -> None:
    coordinator = figure_world.w.users["coordinator"]
    first = figures(api_client, coordinator)
    assert closure_count(first) == 3  # C1, C2, C4 (computed live, then stored)
    assert first["as_of"].startswith("2027-01-15T12:00:00")
    assert snapshots(figure_world) == [("network", 0, "total")]
    tamper(figure_world, "network", 0)
    assert closure_count(figures(api_client, coordinator)) == MARKER  # read from the snapshot
    assert snapshots(figure_world) == [("network", 0, "total")]


def test_a_bounded_period_is_computed_live_and_not_stored(
    figure_world: FigureWorld, api_client: ApiClient
) -> None:
    coordinator = figure_world.w.users["coordinator"]
    figures(api_client, coordinator)
    tamper(figure_world, "network", 0)
    november = figures(api_client, coordinator, "?from=2026-11-01&to=2026-11-30")
    assert closure_count(november) == 3
    assert snapshots(figure_world) == [("network", 0, "total")]


def test_each_breakdown_has_its_own_snapshot(figure_world: FigureWorld, api_client: ApiClient) -> None:
    coordinator = figure_world.w.users["coordinator"]
    figures(api_client, coordinator)
    tamper(figure_world, "network", 0)
    by_country = figures(api_client, coordinator, "?breakdown=country")
    counts = {r["group"]: r["count"] for r in by_country["durations"] if r["figure"] == "case_closure"}
    assert counts == {"CN": 2, "TH": 1}
    assert snapshots(figure_world) == [("network", 0, "country"), ("network", 0, "total")]


def test_a_write_then_a_refresh_changes_the_figure(
    app: Flask, figure_world: FigureWorld, api_client: ApiClient, frozen: time_machine.Coordinates
) -> None:
    coordinator = figure_world.w.users["coordinator"]
    assert closure_count(figures(api_client, coordinator)) == 3
    close_c3(figure_world)
    assert closure_count(figures(api_client, coordinator)) == 3  # the snapshot, until refreshed
    frozen.shift(timedelta(seconds=10))
    result = app.test_cli_runner().invoke(args=["figures", "refresh"])
    assert result.exit_code == 0, result.output
    assert "refreshed 1 figure snapshots" in result.output
    answer = figures(api_client, coordinator)
    assert closure_count(answer) == 4
    assert answer["as_of"].startswith("2027-01-15T12:00:10")


def test_the_worker_refreshes_stale_snapshots_only(
    app: Flask, figure_world: FigureWorld, api_client: ApiClient, frozen: time_machine.Coordinates
) -> None:
    coordinator = figure_world.w.users["coordinator"]
    figures(api_client, coordinator)
    close_c3(figure_world)
    worker = ["jobs", "worker", "--once"]
    frozen.shift(timedelta(seconds=299))  # younger than FIGURES_MAX_AGE_SECONDS (300)
    assert "figure snapshots" not in app.test_cli_runner().invoke(args=worker).output
    assert closure_count(figures(api_client, coordinator)) == 3
    frozen.shift(timedelta(seconds=2))
    result = app.test_cli_runner().invoke(args=worker)
    assert result.exit_code == 0, result.output
    assert "refreshed 1 figure snapshots" in result.output
    assert closure_count(figures(api_client, coordinator)) == 4
    assert [dt.isoformat() for dt in computed_at(figure_world)] == [
        (NOW + timedelta(seconds=301)).isoformat()
    ]


@pytest.mark.parametrize("reader", ["affiliate_b", "supplier", "monitor", "coordinator"])
def test_no_one_reads_another_scopes_snapshot(
    figure_world: FigureWorld, api_client: ApiClient, create_user: Callable[..., User], reader: str
) -> None:
    w = figure_world.w
    figures(api_client, w.users["affiliate"])
    tamper(figure_world, "affiliate", w.orgs["affiliate_a"])
    answer = figures(api_client, w.users[reader])
    assert MARKER not in [r["count"] for r in answer["durations"]]
    # a colleague of the same buyer reads the buyer's snapshot: it is the organisation's
    colleague = create_user(UserRole.affiliate, organisation=w.get(Organisation, w.orgs["affiliate_a"]))
    assert closure_count(figures(api_client, colleague)) == MARKER
    with w.session() as session:
        stored = {(s.scope, s.organisation_id): s.data for s in session.scalars(select(FigureSnapshot))}
    reader_scope = (
        ("network", 0)
        if reader == "coordinator"
        else (w.users[reader].role.value, w.users[reader].organisation_id)
    )
    assert set(stored) == {("affiliate", w.orgs["affiliate_a"]), reader_scope}
    assert MARKER not in [row[2] for row in stored[reader_scope]["durations"]]


def test_refresh_all_stores_the_network_and_every_organisation(
    app: Flask, figure_world: FigureWorld, api_client: ApiClient, frozen: time_machine.Coordinates
) -> None:
    result = app.test_cli_runner().invoke(args=["figures", "refresh", "--all"])
    assert result.exit_code == 0, result.output
    stored = snapshots(figure_world)
    orgs = figure_world.w.orgs
    for scope, key in (("monitor", "monitors"), ("affiliate", "affiliate_b"), ("supplier", "supplier_y")):
        assert (scope, orgs[key], "total") in stored
    assert ("network", 0, "total") in stored
    assert not [s for s in stored if s[1] == orgs["operator"]]
    frozen.shift(timedelta(seconds=60))
    monitor = figures(api_client, figure_world.w.users["monitor"])
    assert monitor["as_of"].startswith("2027-01-15T12:00:00")  # the stored snapshot, not computed now
    assert closure_count(monitor) == 3  # C1, C2 and C4: the stand-in monitor saw its organisation's cases


def test_the_dashboard_says_as_of_when(figure_world: FigureWorld, client_for: Callable[[User], Any]) -> None:
    page = client_for(figure_world.w.users["monitor"]).get("/dashboard/").get_data(as_text=True)
    assert 'id="figures-as-of"' in page
    assert "2027-01-15 12:00" in page


def test_the_queues_count_no_further_than_their_limit(
    figure_world: FigureWorld, api_client: ApiClient, client_for: Callable[[User], Any], monkeypatch: Any
) -> None:
    coordinator = figure_world.w.users["coordinator"]
    queues = api_client(coordinator).get("/api/v1/dashboard").get_json()["queues"]
    assert queues["overdue_actions"] == 1  # A3, due 2026-12-31
    assert queues["plans_awaiting_decision"] == 0
    assert queues["counted_up_to"] == 1000
    monkeypatch.setattr("monitoring.reporting.services.QUEUE_LIMIT", 1)
    page = client_for(coordinator).get("/dashboard/").get_data(as_text=True)
    assert "<dd>1 or more</dd>" in page  # the overdue action: the count stopped at the limit
    assert "<dd>0</dd>" in page
