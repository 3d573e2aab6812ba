"""The reporting API: figures, remedy ledger and dashboard per role, suppression, interim remedies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine

from monitoring.accounts.models import User
from monitoring.cases.models import RemedyKind
from tests.reporting.conftest import NOW, FigureWorld, add_remedy

NOVEMBER = "from=2026-11-01&to=2026-11-30"
ApiClient = Callable[[User], Any]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def get(api_client: ApiClient, user: User, url: str, status: int = 200) -> Any:
    response = api_client(user).get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def row(rows: list[dict[str, Any]], figure: str, group: str | None = None) -> dict[str, Any]:
    return next(r for r in rows if r["figure"] == figure and r["group"] == group)


def test_figures_are_suppressed_for_buyers_and_suppliers(
    figure_world: FigureWorld, api_client: ApiClient
) -> None:
    users = figure_world.w.users
    staff = get(api_client, users["coordinator"], f"/api/v1/figures?{NOVEMBER}")
    closure = row(staff["durations"], "case_closure")
    assert (closure["count"], closure["median_days"], closure["p90_days"], closure["suppressed"]) == (
        3,
        20.0,
        30.0,
        False,
    )
    for who in ("affiliate", "supplier"):
        shown = get(api_client, users[who], f"/api/v1/figures?{NOVEMBER}")
        closure = row(shown["durations"], "case_closure")
        assert closure["suppressed"] is True, who
        assert (closure["count"], closure["median_days"], closure["p90_days"]) == (None, None, None)
    # Monitors see their organisation's figures unsuppressed, even when small.
    monitor = get(api_client, users["monitor"], f"/api/v1/figures?{NOVEMBER}")
    assert row(monitor["durations"], "case_closure")["suppressed"] is False


def test_the_ledger_suppresses_rows_under_5_workers_for_buyers(
    figure_world: FigureWorld, api_client: ApiClient
) -> None:
    w, c = figure_world.w, figure_world.cases
    add_remedy(w, c["C1"], RemedyKind.back_pay, "500.00", "EUR", 3)
    staff = get(api_client, w.users["coordinator"], "/api/v1/remedy-ledger")
    assert (staff["workers_covered"], staff["total_eur"], staff["suppressed"]) == (3, "500.00", False)
    buyer = get(api_client, w.users["affiliate"], "/api/v1/remedy-ledger")
    assert (buyer["workers_covered"], buyer["total_eur"], buyer["suppressed"]) == (None, None, True)
    assert [(r["workers_covered"], r["amount"], r["suppressed"]) for r in buyer["rows"]] == [
        (None, None, True)
    ]


@pytest.mark.parametrize(
    ("who", "queues", "leverage", "portfolio"),
    [
        ("coordinator", True, True, False),
        ("monitor", True, False, False),
        ("affiliate", False, False, True),
        ("supplier", False, False, False),
    ],
)
def test_the_dashboard_gives_each_role_its_parts(
    figure_world: FigureWorld, api_client: ApiClient, who: str, queues: bool, leverage: bool, portfolio: bool
) -> None:
    board = get(api_client, figure_world.w.users[who], f"/api/v1/dashboard?{NOVEMBER}")
    assert board["role"] == figure_world.w.users[who].role.value
    assert (board["queues"] is not None) is queues
    assert bool(board["leverage"]) is leverage
    assert bool(board["portfolio"]) is portfolio
    if queues:
        assert board["queues"]["overdue_actions"] >= 1  # A3 (C4) is past its closure date


def test_the_dashboard_totals_per_kind_count_each_remedy_once_and_suppress(
    figure_world: FigureWorld, api_client: ApiClient
) -> None:
    w, c = figure_world.w, figure_world.cases
    add_remedy(w, c["C1"], RemedyKind.back_pay, "500.00", "EUR", 3)
    add_remedy(w, c["C2"], RemedyKind.back_pay, "250.00", "EUR", 4)
    add_remedy(w, c["C1"], RemedyKind.passports_returned, None, None, 2)
    staff = get(api_client, w.users["coordinator"], "/api/v1/dashboard")["by_kind"]
    assert [(k["kind"], k["remedies"], k["workers_covered"], k["amount_eur"]) for k in staff] == [
        ("passports_returned", 1, 2, None),
        ("back_pay", 2, 7, "750.00"),
    ]
    buyer = get(api_client, w.users["affiliate"], "/api/v1/dashboard")["by_kind"]
    assert [(k["kind"], k["workers_covered"], k["amount_eur"], k["suppressed"]) for k in buyer] == [
        ("passports_returned", None, None, True),
        ("back_pay", 7, "750.00", False),
    ]


@pytest.mark.parametrize("url", ["/api/v1/figures", "/api/v1/dashboard", "/api/v1/remedy-ledger"])
def test_a_bad_period_is_422(figure_world: FigureWorld, api_client: ApiClient, url: str) -> None:
    body = get(api_client, figure_world.w.users["affiliate"], f"{url}?from=2026-12-01&to=2026-11-01", 422)
    assert "The end of the period comes before its start." in str(body)


def test_administrators_get_404(figure_world: FigureWorld, api_client: ApiClient) -> None:
    get(api_client, figure_world.w.users["admin"], "/api/v1/dashboard", 404)


def test_interim_remedies_by_the_case_monitor_only(figure_world: FigureWorld, api_client: ApiClient) -> None:
    w, c = figure_world.w, figure_world.cases
    data = {"kind": "back_pay", "amount": "80.00", "currency": "eur", "workers_covered": 6}
    created = api_client(w.users["monitor"]).post(f"/api/v1/cases/{c['C3']}/remedies", json=data)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert (body["case_id"], body["kind"], body["amount"], body["currency"]) == (
        c["C3"],
        "back_pay",
        "80.00",
        "EUR",
    )
    for who in ("other_monitor", "coordinator", "affiliate"):
        refused = api_client(w.users[who]).post(f"/api/v1/cases/{c['C3']}/remedies", json=data)
        assert refused.status_code == 404, who
    closed = api_client(w.users["monitor"]).post(f"/api/v1/cases/{c['C1']}/remedies", json=data)
    assert closed.status_code == 422
    assert "The case is closed" in closed.get_data(as_text=True)
    # The interim remedy counts in the ledger at once.
    ledger = get(api_client, w.users["coordinator"], "/api/v1/remedy-ledger")
    assert (ledger["remedies"], ledger["total_eur"]) == (1, "80.00")
