"""The case status on the registry's pages: a site, a product, a contract and My supply chain show
the open (overdue) and closed cases, with the worst open severity, counted over the cases the
reader may see: a buyer or supplier with no case there reads "no cases", never someone else's count."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import update

from monitoring.cases.models import CaseState, CorrectiveAction
from monitoring.core.db import db


@pytest.fixture
def status_world(case_world):
    w = case_world
    open_case = w.case(severity="priority")
    action = w.action(open_case)
    with w.session():
        db.session.execute(
            update(CorrectiveAction)
            .where(CorrectiveAction.id == action)
            .values(plan_due_date=date(2020, 1, 1), closure_due_date=date(2020, 2, 1))
        )
    closed_case = w.case(severity="major")
    w.advance_case(closed_case, CaseState.closed)
    return w


def text_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    text = " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())
    return re.sub(r" ([,.])", r"\1", text)


def case_line(page: str) -> str:
    match = re.search(r"(\d+ open cases?, \d+ overdue · worst: \w+ · \d+ closed|no cases)", page)
    assert match, page[:2000]
    return match.group(1)


@pytest.mark.parametrize("who", ["coordinator", "monitor", "affiliate"])
def test_the_site_page_counts_the_cases_the_reader_sees(status_world, client_for, who):
    w = status_world
    page = text_of(client_for(w.users[who]), f"/sites/{w.site}")
    assert case_line(page) == "1 open case, 1 overdue · worst: Priority · 1 closed"


@pytest.mark.parametrize("who", ["affiliate_b", "supplier_y", "other_monitor"])
def test_a_reader_without_those_cases_reads_no_cases(status_world, client_for, who):
    w = status_world
    client = client_for(w.users[who])
    response = client.get(f"/sites/{w.site}")
    if response.status_code == 404:
        return  # the site itself is out of sight
    page = text_of(client, f"/sites/{w.site}")
    assert case_line(page) == "no cases"
    assert "open case" not in page


def test_the_board_link_filters_by_site(status_world, client_for):
    w = status_world
    html = client_for(w.users["coordinator"]).get(f"/sites/{w.site}").get_data(as_text=True)
    assert f'href="/cases/?site_id={w.site}"' in html


def test_product_contract_and_my_supply_chain_show_the_status(status_world, client_for):
    w = status_world
    client = client_for(w.users["affiliate"])
    expected = "1 open case, 1 overdue · worst: Priority · 1 closed"
    assert expected in text_of(client, f"/products/{w.products['laptop']}")
    contract_page = text_of(client, f"/contracts/{w.contracts['a']}")
    assert contract_page.count(expected) == 2  # the contract's total and its product's row
    assert expected in text_of(client, "/my-supply-chain")


def test_the_other_buyers_product_has_no_cases(status_world, client_for):
    w = status_world
    client = client_for(w.users["affiliate_b"])
    assert case_line(text_of(client, f"/products/{w.products['phone']}")) == "no cases"
    assert "open case" not in text_of(client, "/my-supply-chain")
