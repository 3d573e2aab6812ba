"""The dashboard page per role, its charts and tables, and the interim-remedy form."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases.models import Remedy, RemedyKind
from monitoring.core.db import db
from monitoring.reporting import services
from monitoring.reporting.figures import Breakdown, Period
from monitoring.supplychain.models import Contract
from tests.conftest import post_form
from tests.reporting.conftest import NOW, FigureWorld, add_remedy

NOVEMBER = "/dashboard/?from=2026-11-01&to=2026-11-30"
SECTIONS = {
    "portfolio": "portfolio-heading",
    "queues": "queues-heading",
    "leverage": "leverage-heading",
    "figures": "figures-heading",
    "ledger": "ledger-heading",
}
ClientFor = Callable[[User], FlaskClient]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def page(client: FlaskClient, url: str = NOVEMBER, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def table(html: str, table_id: str) -> list[list[str]]:
    """The body rows of one table of the page, as the text of their cells."""
    found = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert found, table_id
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in row] for row in cells]


def chart(html: str, chart_id: str) -> str:
    found = re.search(rf'<figure class="chart" id="{chart_id}">(.*?)</figure>', html, re.S)
    assert found, chart_id
    return found.group(1)


def chart_table(html: str, chart_id: str) -> list[list[str]]:
    body = re.search(r"<tbody>(.*?)</tbody>", chart(html, chart_id), re.S)
    assert body
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [[c.strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


@pytest.mark.parametrize(
    ("who", "shown"),
    [
        ("coordinator", {"queues", "leverage"}),
        ("monitor", {"queues"}),
        ("affiliate", {"portfolio"}),
        ("supplier", set()),
    ],
)
def test_each_role_sees_its_sections_only(
    figure_world: FigureWorld, client_for: ClientFor, who: str, shown: set[str]
) -> None:
    html = page(client_for(figure_world.w.users[who]))
    for section, heading in SECTIONS.items():
        expected = section in shown or section in ("figures", "ledger")
        assert (f'id="{heading}"' in html) is expected, section
    assert 'href="/dashboard/"' in html  # the main menu links here


def test_administrators_have_no_dashboard_nor_menu_entry(
    figure_world: FigureWorld, client_for: ClientFor
) -> None:
    client = client_for(figure_world.w.users["admin"])
    page(client, NOVEMBER, 404)
    assert 'href="/dashboard/"' not in page(client, "/")


def test_affiliate_portfolio_lists_its_sites_cases(figure_world: FigureWorld, client_for: ClientFor) -> None:
    w = figure_world.w
    html = page(client_for(w.users["affiliate"]))
    assert "Phone Plant" not in html  # affiliate B's site
    with w.session() as session:
        reference = session.get(Contract, w.contracts["a"]).reference
    # Contract a reaches the assembly plant: C3 open (A4 not due yet), C1 and C2 closed.
    rows = [r for r in table(html, "portfolio") if r[0] == reference]
    assert len(rows) == 1
    assert rows[0][1].startswith("Assembly Plant")
    assert rows[0][3:6] == ["1", "0", "2"]


def test_small_cells_read_fewer_than_5_for_buyers_not_for_staff(
    figure_world: FigureWorld, client_for: ClientFor
) -> None:
    w, c = figure_world.w, figure_world.cases
    add_remedy(w, c["C1"], RemedyKind.back_pay, "500.00", "EUR", 3)
    staff = table(page(client_for(w.users["coordinator"])), "figures-durations")
    assert ["Case opened to closed", "—", "20.0", "30.0", "3"] in staff
    buyer_html = page(client_for(w.users["affiliate"]))
    buyer = table(buyer_html, "figures-durations")
    # The affiliate sees C1 and C2 closed: two cases, under the threshold of three.
    assert ["Case opened to closed", "—", "fewer than 5", "fewer than 5", "fewer than 5"] in buyer
    assert re.search(r'id="ledger-workers">fewer than 5<', buyer_html)
    assert re.search(r'id="ledger-eur">fewer than 5<', buyer_html)
    assert "500.00" not in buyer_html
    coordinator_html = page(client_for(w.users["coordinator"]))
    assert re.search(r'id="ledger-eur">500.00<', coordinator_html)


def test_the_median_chart_carries_the_figures_and_draws_no_suppressed_bar(
    figure_world: FigureWorld, client_for: ClientFor
) -> None:
    w = figure_world.w
    for who in ("coordinator", "affiliate"):
        html = page(client_for(w.users[who]))
        with w.app.test_request_context("/"):
            user = db.session.get(User, w.users[who].id)
            period = Period.of_days(date(2026, 11, 1), date(2026, 11, 30))
            view = services.figures_view(user, period, Breakdown.total)
        rows = chart_table(html, "chart-medians")
        assert len(rows) == len(view.durations)
        for (_label, shown), row in zip(rows, view.durations, strict=True):
            expected = "fewer than 5" if row.suppressed else str(row.median_days or "—")
            assert shown == expected
        drawn = [r for r in view.durations if not r.suppressed and r.median_days is not None]
        svg = chart(html, "chart-medians")
        assert svg.count("<rect") == len(drawn)
        assert 'role="img"' in svg and 'aria-labelledby="chart-medians-title"' in svg
    staff = chart_table(page(client_for(w.users["coordinator"])), "chart-medians")
    assert ["Case opened to closed", "20.0"] in staff
    buyer = chart_table(page(client_for(w.users["affiliate"])), "chart-medians")
    assert ["Case opened to closed", "fewer than 5"] in buyer


def test_the_ledger_chart_gives_eur_per_kind(figure_world: FigureWorld, client_for: ClientFor) -> None:
    w, c = figure_world.w, figure_world.cases
    add_remedy(w, c["C1"], RemedyKind.back_pay, "500.00", "EUR", 3)
    add_remedy(w, c["C2"], RemedyKind.back_pay, "250.00", "EUR", 4)
    add_remedy(w, c["C2"], RemedyKind.fees_repaid, "100.00", "EUR", 6)
    add_remedy(w, c["C1"], RemedyKind.passports_returned, None, None, 2)
    html = page(client_for(w.users["coordinator"]))
    kinds = [["Recruitment fees repaid", "100.00"], ["Passports and documents returned", "—"]]
    assert chart_table(html, "chart-kinds") == [*kinds, ["Back pay", "750.00"]]
    assert chart(html, "chart-kinds").count("<rect") == 2  # no money for passports: no bar
    buyer = page(client_for(w.users["affiliate"]))
    # Back pay covers 7 workers, fees 6: both shown; passports 2 workers: suppressed, not drawn.
    assert chart_table(buyer, "chart-kinds") == [
        ["Recruitment fees repaid", "100.00"],
        ["Passports and documents returned", "fewer than 5"],
        ["Back pay", "750.00"],
    ]
    assert chart(buyer, "chart-kinds").count("<rect") == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-12-01&to=2026-11-01", "The end of the period comes before its start."),
        ("from=yesterday", "Not a valid date."),
        ("breakdown=colour", "Must be one of"),
    ],
)
def test_a_bad_period_shows_the_form_again_with_its_error(
    figure_world: FigureWorld, client_for: ClientFor, query: str, message: str
) -> None:
    html = page(client_for(figure_world.w.users["affiliate"]), f"/dashboard/?{query}", 422)
    assert message in html
    assert 'aria-invalid="true"' in html
    assert 'id="figures-heading"' not in html


# --- the interim-remedy form ----------------------------------------------------------------


def remedy_url(case_id: int) -> str:
    return f"/cases/{case_id}/remedies/new"


def test_the_case_monitor_records_an_interim_remedy(figure_world: FigureWorld, client_for: ClientFor) -> None:
    w, c3 = figure_world.w, figure_world.cases["C3"]
    client = client_for(w.users["monitor"])
    assert remedy_url(c3) in page(client, f"/cases/{c3}")
    page(client, remedy_url(c3))
    data = {"kind": "fees_repaid", "amount": "120.50", "currency": "usd", "workers_covered": "8"}
    response = post_form(client, remedy_url(c3), data, form_page=remedy_url(c3))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{c3}")
    with w.session() as session:
        remedy = session.scalars(select(Remedy).where(Remedy.case_id == c3)).one()
        assert (remedy.kind, str(remedy.amount), remedy.currency, remedy.workers_covered) == (
            RemedyKind.fees_repaid,
            "120.50",
            "USD",
            8,
        )
    assert "Recruitment fees repaid" in page(client, remedy_url(c3))


def test_a_remedy_needs_its_kind_and_amount(figure_world: FigureWorld, client_for: ClientFor) -> None:
    c3 = figure_world.cases["C3"]
    client = client_for(figure_world.w.users["monitor"])
    response = post_form(client, remedy_url(c3), {"kind": ""}, form_page=remedy_url(c3))
    assert response.status_code == 422
    assert "Choose the kind of remedy." in response.get_data(as_text=True)
    response = post_form(client, remedy_url(c3), {"kind": "back_pay"}, form_page=remedy_url(c3))
    assert response.status_code == 422
    assert "Give the amount paid." in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["other_monitor", "coordinator", "affiliate", "supplier", "admin"])
def test_others_get_404_on_the_remedy_form(
    figure_world: FigureWorld, client_for: ClientFor, who: str
) -> None:
    c3 = figure_world.cases["C3"]
    client = client_for(figure_world.w.users[who])
    page(client, remedy_url(c3), 404)
    if who == "coordinator":
        assert remedy_url(c3) not in page(client, f"/cases/{c3}")


def test_a_closed_case_refuses_an_interim_remedy(figure_world: FigureWorld, client_for: ClientFor) -> None:
    c1 = figure_world.cases["C1"]
    client = client_for(figure_world.w.users["monitor"])
    assert remedy_url(c1) not in page(client, f"/cases/{c1}")
    data = {"kind": "passports_returned", "workers_covered": "5"}
    response = post_form(client, remedy_url(c1), data, form_page=remedy_url(c1))
    assert response.status_code == 422
    assert "The case is closed: record remedies when closing it." in response.get_data(as_text=True)
    with figure_world.w.session() as session:
        assert session.scalars(select(Remedy).where(Remedy.case_id == c1)).first() is None
