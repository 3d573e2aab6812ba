"""Collective leverage, computed by the database, against an example worked out by hand.

Buyers A (EUR), B (SEK), C (GBP) and D (NOK, which has no rate); suppliers X, Y, Z.
Rates: 1 SEK = 0.0871 EUR, 1 GBP = 1.1720 EUR.

Contracts (in force unless said):   covers
  cA1  A  X  100,000.50 EUR         P1, P2
  cA2  A  X   50,000.00 EUR         P3
  cB1  B  Y 1,000,000.00 SEK        P1
  cBx  B  Z 9,999,999.00 SEK        P2   ended last year
  cC1  C  Z   20,000.00 GBP         P2, P3
  cD1  D  Y  500,000.00 NOK         P3

Disclosures:
  S1: P1 final assembly (X), P2 battery (X), P1 display (Y)
  S2: P2 final assembly (X); P3 circuit board (Y) withdrawn
  S3: P3 final assembly (Y); P1 battery (X) ended yesterday
  S4: P3 battery (X) from tomorrow

By hand:
  S1  P1, P2 -> cA1 (once, though two products and three disclosures link it), cB1, cC1
      3 buyers; 100,000.50 + 1,000,000 x 0.0871 + 20,000 x 1.1720 = 100,000.50 + 87,100 + 23,440
      = 210,540.50 EUR
  S2  P2 -> cA1, cC1 (cBx ended)      2 buyers; 100,000.50 + 23,440 = 123,440.50 EUR
  S3  P3 -> cA2, cC1, cD1             3 buyers; 50,000 + 23,440 = 73,440.00 EUR, 1 contract in NOK
  S4  nothing current                 not ranked
Ranking: S1 (3 buyers, 210,540.50), S3 (3, 73,440.00), S2 (2, 123,440.50).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from monitoring.accounts.models import OrganisationKind, UserRole
from monitoring.core.db import db
from monitoring.supplychain import queries
from tests.supplychain.helpers import TODAY, YEAR_AGO


@pytest.fixture
def example(registry, create_organisation, create_user):
    orgs = {k: create_organisation(OrganisationKind.affiliate, name=f"Buyer {k}").id for k in "ABCD"}
    suppliers = {k: create_organisation(OrganisationKind.supplier, name=f"Supplier {k}") for k in "XYZ"}
    users = {k: create_user(UserRole.supplier, organisation=org).id for k, org in suppliers.items()}
    sup = {k: org.id for k, org in suppliers.items()}
    p1, p2, p3 = (registry.product(f"Example {n}") for n in (1, 2, 3))
    s1, s2, s3, s4 = (registry.site(f"Example site {n}") for n in (1, 2, 3, 4))
    registry.rate("SEK", "0.0871")
    registry.rate("GBP", "1.1720")
    contracts = {
        "cA1": registry.contract(orgs["A"], sup["X"], [p1, p2], spend="100000.50"),
        "cA2": registry.contract(orgs["A"], sup["X"], [p3], spend="50000.00"),
        "cB1": registry.contract(orgs["B"], sup["Y"], [p1], spend="1000000.00", currency="SEK"),
        "cBx": registry.contract(
            orgs["B"],
            sup["Z"],
            [p2],
            spend="9999999.00",
            currency="SEK",
            start=YEAR_AGO - timedelta(days=800),
            end=YEAR_AGO,
        ),
        "cC1": registry.contract(orgs["C"], sup["Z"], [p2, p3], spend="20000.00", currency="GBP"),
        "cD1": registry.contract(orgs["D"], sup["Y"], [p3], spend="500000.00", currency="NOK"),
    }
    x, y = users["X"], users["Y"]
    registry.disclose(x, p1, s1, "final_assembly")
    registry.disclose(x, p2, s1, "battery")
    registry.disclose(y, p1, s1, "display")
    registry.disclose(x, p2, s2, "final_assembly")
    registry.disclose(y, p3, s2, "printed_circuit_board", withdrawn=True)
    registry.disclose(y, p3, s3, "final_assembly")
    registry.disclose(x, p1, s3, "battery", valid_to=TODAY - timedelta(days=1))
    registry.disclose(x, p3, s4, "battery", valid_from=TODAY + timedelta(days=1))
    return {"orgs": orgs, "suppliers": sup, "sites": (s1, s2, s3, s4), "contracts": contracts}


def test_ranking_matches_the_hand_computed_example(app, example):
    s1, s2, s3, s4 = example["sites"]
    with app.app_context():
        query, keys = queries.leverage_ranking(TODAY)
        rows = queries.ranked(db.session.execute(query.order_by(*keys)).all())
        got = [(r.rank, r.site.id, r.leverage) for r in rows]
        assert got == [
            (
                1,
                s1,
                queries.Leverage(affiliates=3, contracts=3, spend_cents=21054050, unconverted_contracts=0),
            ),
            (
                2,
                s3,
                queries.Leverage(affiliates=3, contracts=3, spend_cents=7344000, unconverted_contracts=1),
            ),
            (
                3,
                s2,
                queries.Leverage(affiliates=2, contracts=2, spend_cents=12344050, unconverted_contracts=0),
            ),
        ]
        assert rows[0].leverage.spend_eur == Decimal("210540.50")
        assert queries.site_leverage(s4, TODAY) == queries.NO_LEVERAGE
        assert queries.site_leverage(s3, TODAY) == rows[1].leverage


def test_concerned_affiliates_suppliers_and_unconverted_spend(app, example):
    s1, _s2, s3, _s4 = example["sites"]
    orgs, sup = example["orgs"], example["suppliers"]
    with app.app_context():
        affiliates = queries.concerned_affiliates(s1, TODAY)
        assert [(a.organisation.id, a.leverage.contracts, a.leverage.spend_cents) for a in affiliates] == [
            (orgs["A"], 1, 10000050),
            (orgs["B"], 1, 8710000),
            (orgs["C"], 1, 2344000),
        ]
        at_s3 = {a.organisation.id: a.leverage for a in queries.concerned_affiliates(s3, TODAY)}
        assert at_s3[orgs["D"]] == queries.Leverage(1, 1, 0, 1)
        assert queries.unconverted_spend(s3, TODAY) == [
            queries.UnconvertedSpend("NOK", Decimal("500000.00"), 1)
        ]
        suppliers = {
            s.organisation.id: (s.disclosed, s.contracted) for s in queries.concerned_suppliers(s1, TODAY)
        }
        assert suppliers == {sup["X"]: (True, True), sup["Y"]: (True, True), sup["Z"]: (False, True)}
        # Buyer B knows of its own supplier Y and of those disclosing its products (P1 and P2,
        # the latter through its ended contract), but not of Z, which supplies only buyer C here.
        seen_by_b = {s.organisation.id for s in queries.concerned_suppliers(s1, TODAY, orgs["B"])}
        assert seen_by_b == {sup["X"], sup["Y"]}
        assert queries.other_affiliates(s1, TODAY, orgs["B"]) == 2


def test_a_new_rate_converts_the_left_out_spend(app, registry, example):
    _s1, _s2, s3, _s4 = example["sites"]
    registry.rate("NOK", "0.0850")
    with app.app_context():
        assert queries.site_leverage(s3, TODAY) == queries.Leverage(3, 3, 7344000 + 4250000, 0)


def test_ranking_page_and_api_page_by_rank(example, api_client, client_for, create_user):
    s1, s2, s3, _s4 = example["sites"]
    coordinator = create_user(UserRole.coordinator)
    client = api_client(coordinator)
    first = client.get("/api/v1/sites/leverage?limit=2").get_json()
    assert [(i["rank"], i["site"]["id"]) for i in first["items"]] == [(1, s1), (2, s3)]
    assert first["items"][0]["leverage"] == {
        "affiliates": 3,
        "contracts": 3,
        "spend_eur": "210540.50",
        "unconverted_contracts": 0,
    }
    second = client.get(f"/api/v1/sites/leverage?limit=2&after={first['next']}").get_json()
    assert [(i["rank"], i["site"]["id"]) for i in second["items"]] == [(3, s2)]
    assert second["next"] is None

    page = client_for(coordinator).get("/sites/leverage").get_data(as_text=True)
    assert (
        page.index(f'href="/sites/{s1}"')
        < page.index(f'href="/sites/{s3}"')
        < page.index(f'href="/sites/{s2}"')
    )
    assert "€210,540.50" in page
    site_page = client_for(coordinator).get(f"/sites/{s3}").get_data(as_text=True)
    assert "NOK" in site_page and "500,000.00" in site_page
