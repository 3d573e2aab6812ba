"""Chains of several tiers: a disclosure names the site its part goes to, and a site concerns the
buyers of every product made downstream of it (bounded in depth, safe against cycles, dates kept)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.supplychain import queries
from monitoring.supplychain.models import Disclosure, SiteKind
from tests.cases import conftest as cases_conftest
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form
from tests.supplychain.helpers import TODAY, YEAR_AGO, Registry, World

case_world = cases_conftest.case_world  # the remediation tests' world, as a fixture here


def _three_tiers(w: CaseWorld) -> tuple[int, int, int]:
    """A cell site supplies a pack site, which supplies the laptop's assembly site (w.site).

    Supplier Y discloses its own battery product at both upstream sites; only the assembly site
    makes the laptop of affiliate A's contract. Returns (cell site, pack site, cell disclosure).
    """
    r = w.registry
    pack = r.product("Pack 9", category="other")
    r.contract(w.orgs["affiliate_b"], w.orgs["supplier_y"], [pack])
    cells = r.site("Cell Works", kind=SiteKind.component)
    packs = r.site("Pack Assembly", kind=SiteKind.component)
    y = w.users["supplier_y"].id
    r.disclose(y, pack, packs, "battery", supplies=w.site)
    cell_disclosure = r.disclose(y, pack, cells, "battery", supplies=packs)
    return cells, packs, cell_disclosure


def _affiliates(app: Flask, site_id: int) -> set[int]:
    with app.app_context():
        return {a.organisation.id for a in queries.concerned_affiliates(site_id, TODAY)}


def test_three_tier_chain_concerns_every_buyer_of_the_final_product(
    app: Flask, case_world: CaseWorld, client_for: Callable[[User], FlaskClient]
) -> None:
    w = case_world
    cells, packs, _ = _three_tiers(w)
    assert _affiliates(app, cells) == {w.orgs["affiliate_a"], w.orgs["affiliate_b"]}
    assert _affiliates(app, packs) == {w.orgs["affiliate_a"], w.orgs["affiliate_b"]}
    with app.app_context():
        depths = {
            (row.site_id, row.product_id): row.depth
            for row in db.session.execute(select(queries.reach(TODAY, cells)))
        }
        assert depths[(cells, w.products["laptop"])] == 2
        reaching = queries.contracts_reaching_site(cells, TODAY, w.orgs["affiliate_a"])
        assert [c.id for c, _ in reaching] == [w.contracts["a"]]

    case_id = w.case(site_id=cells, findings=[w.finding(site_id=cells)])
    with w.session():
        told = set(
            db.session.scalars(
                select(Notification.user_id).where(
                    Notification.case_id == case_id, Notification.kind == NotificationKind.case_opened
                )
            )
        )
    assert w.users["affiliate"].id in told and w.users["affiliate_b"].id in told
    assert client_for(w.users["affiliate"]).get(f"/cases/{case_id}").status_code == 200


def test_the_buyer_of_the_final_product_sees_the_upstream_sites_pages(
    app: Flask, case_world: CaseWorld, client_for: Callable[[User], FlaskClient]
) -> None:
    w = case_world
    cells, packs, _ = _three_tiers(w)
    lonely = w.registry.site("Cells Elsewhere", kind=SiteKind.component)
    buyer = client_for(w.users["affiliate"])
    for site_id in (cells, packs):
        assert buyer.get(f"/sites/{site_id}").status_code == 200
        assert buyer.get(f"/sites/{site_id}/risk").status_code == 200
    assert buyer.get(f"/sites/{lonely}").status_code == 404


def test_without_the_chain_the_buyer_is_not_concerned(
    app: Flask, case_world: CaseWorld, client_for: Callable[[User], FlaskClient]
) -> None:
    w = case_world
    r = w.registry
    pack = r.product("Pack 10", category="other")
    r.contract(w.orgs["affiliate_b"], w.orgs["supplier_y"], [pack])
    cells = r.site("Lonely Cells", kind=SiteKind.component)
    # Ended yesterday: the link to the assembly site no longer holds.
    r.disclose(
        w.users["supplier_y"].id, pack, cells, "battery", supplies=w.site, valid_to=TODAY - timedelta(days=1)
    )
    r.disclose(w.users["supplier_y"].id, pack, cells, "battery", valid_from=TODAY - timedelta(days=1))
    assert _affiliates(app, cells) == {w.orgs["affiliate_b"]}
    case_id = w.case(site_id=cells, findings=[w.finding(site_id=cells)])
    assert client_for(w.users["affiliate"]).get(f"/cases/{case_id}").status_code == 404
    assert client_for(w.users["affiliate_b"]).get(f"/cases/{case_id}").status_code == 200


def test_cycles_of_direct_disclosures_end(app: Flask, registry: Registry, world: World) -> None:
    w = world
    x = w.users["X"].id
    p1 = w.products["P1"]
    # A line of sites, each supplying the next; the last makes P1 (affiliate A's contract).
    line = [registry.site(f"Line {i}", kind=SiteKind.component) for i in range(queries.MAX_TIERS + 2)]
    registry.disclose(x, p1, line[-1])
    for upstream, downstream in itertools.pairwise(line):
        registry.disclose(x, w.products["P1"], upstream, "other", supplies=downstream, valid_from=YEAR_AGO)
    # A cycle beside it: c1 ⇄ c2, and c2 supplies S1 (which makes P1).
    c1, c2 = registry.site("Cycle 1"), registry.site("Cycle 2")
    registry.disclose(x, p1, c1, "cable", supplies=c2)
    registry.disclose(x, p1, c2, "cable", supplies=c1)
    registry.disclose(x, p1, c2, "casing", supplies=w.sites["S1"])
    with app.app_context():
        every = db.session.execute(select(queries.reach(TODAY))).all()
        depth = {(row.site_id, row.product_id): row.depth for row in every}
        # Each disclosure here names P1 itself, so every site is at depth 0 for it.
        assert all(depth[(site, p1)] == 0 for site in line)
        assert depth[(c1, p1)] == depth[(c2, p1)] == 0
        assert queries.site_leverage(c1, TODAY).affiliates == 1


def test_depth_is_bounded_and_cycles_end(app: Flask, registry: Registry, world: World) -> None:
    """Upstream sites that disclose another product reach P1 through the chain, up to MAX_TIERS."""
    w = world
    y = w.users["Y"].id
    p2 = w.products["P2"]
    line = [registry.site(f"Deep {i}", kind=SiteKind.component) for i in range(queries.MAX_TIERS + 2)]
    registry.disclose(w.users["X"].id, w.products["P1"], line[-1])
    for upstream, downstream in itertools.pairwise(line):
        registry.disclose(y, p2, upstream, "other", supplies=downstream)
    # The cycle: c1 ⇄ c2, c2 supplies the first of the line.
    c1, c2 = registry.site("Loop 1"), registry.site("Loop 2")
    registry.disclose(y, p2, c1, "cable", supplies=c2)
    registry.disclose(y, p2, c2, "cable", supplies=c1)
    registry.disclose(y, p2, c2, "casing", supplies=line[-2])
    a = w.orgs["A"]
    with app.app_context():
        depth = {(r.site_id, r.product_id): r.depth for r in db.session.execute(select(queries.reach(TODAY)))}
        p1 = w.products["P1"]
        assert [depth.get((site, p1)) for site in line] == [None, 6, 5, 4, 3, 2, 1, 0]
        assert depth[(c2, p1)] == 2 and depth[(c1, p1)] == 3
        assert {x.organisation.id for x in queries.concerned_affiliates(line[1], TODAY)} >= {a}
        assert a not in {x.organisation.id for x in queries.concerned_affiliates(line[0], TODAY)}
        # The same, asked for one site.
        one = db.session.execute(select(queries.reach(TODAY, c1))).all()
        assert {(r.product_id, r.depth) for r in one} == {(p2, 0), (p1, 3)}


def test_a_site_cannot_supply_itself(registry: Registry, world: World) -> None:
    s1 = world.sites["S1"]
    with pytest.raises(OperationError) as exc:
        registry.disclose(world.users["X"].id, world.products["P1"], s1, supplies=s1)
    assert exc.value.field == "supplies_site_id"


def test_leverage_per_tier_weighs_spend_by_known_shares(app: Flask, registry: Registry, world: World) -> None:
    w = world
    battery = registry.site("Battery Site", kind=SiteKind.component)
    cells = registry.site("Cell Site", kind=SiteKind.component)
    registry.disclose(w.users["X"].id, w.products["P1"], battery, "battery", share="10")
    registry.disclose(w.users["Y"].id, w.products["P2"], cells, "battery", supplies=battery, share="50")
    with app.app_context():
        # The final assembly site: its disclosure has no share, so it is counted apart.
        assert queries.tier_leverage(w.sites["S1"], TODAY) == [
            queries.TierLeverage(
                1, contracts=1, spend_cents=100000, weighted_cents=0, unknown_share=1, unconverted_contracts=0
            )
        ]
        assert queries.site_leverage(w.sites["S1"], TODAY) == queries.Leverage(1, 1, 100000, 0)
        assert queries.tier_leverage(battery, TODAY) == [queries.TierLeverage(1, 1, 100000, 10000, 0, 0)]
        # Tier 1: B1 (its own product, 50 %); tier 2: A1 through the battery site (50 % of 10 %).
        assert queries.tier_leverage(cells, TODAY) == [
            queries.TierLeverage(1, 1, 100000, 50000, 0, 0),
            queries.TierLeverage(2, 1, 100000, 5000, 0, 0),
        ]
        # The total leverage counts each contract once, in full, as before.
        assert queries.site_leverage(cells, TODAY) == queries.Leverage(2, 2, 200000, 0)


def test_api_and_form_take_the_chain_and_the_share(
    app: Flask,
    registry: Registry,
    world: World,
    api_client: Callable[..., object],
    client_for: Callable[[User], FlaskClient],
) -> None:
    w = world
    pack_site = registry.site("Named Pack Site", os_id="CN2026000TIER01")
    body = {
        "product_id": w.products["P1"],
        "site_id": w.sites["S1"],
        "part": "battery",
        "valid_from": "2025-01-01",
        "supplies_os_id": "cn2026000tier01",
        "value_share": "7.5",
        "units_per_product": 2,
    }
    client = api_client(w.users["X"])
    created = client.post("/api/v1/disclosures", json=body)  # type: ignore[attr-defined]
    assert created.status_code == 201, created.get_json()
    made = created.get_json()
    assert (made["supplies_site"]["id"], made["value_share"], made["units_per_product"]) == (
        pack_site,
        "7.50",
        2,
    )
    # An unknown OS id, a share above 100 %, both ways of naming the next site: refused, named.
    for change, field in (
        ({"supplies_os_id": "CN2026000NOPE99"}, "supplies_os_id"),
        ({"value_share": "120"}, "value_share"),
        ({"supplies_site_id": w.sites["S1"]}, "supplies_site_id"),
    ):
        refused = client.post("/api/v1/disclosures", json={**body, **change})  # type: ignore[attr-defined]
        assert refused.status_code == 422, change
        assert field in refused.get_json()["error"]["errors"], refused.get_json()

    page = client_for(w.users["X"])
    form = {
        "product": w.products["P1"],
        "part": "display",
        "site": w.sites["S1"],
        "valid_from": "2025-02-01",
        "supplies_os_id": "CN2026000TIER01",
        "value_share": "12",
        "units_per_product": "1",
    }
    done = post_form(page, "/disclosures/new", form, form_page="/disclosures/new")
    assert done.status_code == 302, done.get_data(as_text=True)
    with app.app_context():
        latest = db.session.scalars(select(Disclosure).order_by(Disclosure.id.desc())).first()
        assert (
            latest is not None and latest.supplies_site_id == pack_site and str(latest.value_share) == "12.00"
        )
    listing = page.get("/disclosures").get_data(as_text=True)
    assert "Goes to: Named Pack Site" in listing
    bad = post_form(page, "/disclosures/new", {**form, "supplies_os_id": "CN2026000NOPE99"}, form_page="/")
    assert bad.status_code == 200 and "No site you can name has this id" in bad.get_data(as_text=True)


def test_a_buyers_sites_walked_up_from_its_products_are_its_links(
    app: Flask, registry: Registry, world: World
) -> None:
    """buyer_sites (walked up from the buyer's products, what case visibility uses) holds exactly
    the sites of links() for that buyer (walked down from every site), with the bound and a cycle."""
    w = world
    y = w.users["Y"].id
    p2 = w.products["P2"]
    line = [registry.site(f"Up {i}", kind=SiteKind.component) for i in range(queries.MAX_TIERS + 2)]
    registry.disclose(w.users["X"].id, w.products["P1"], line[-1])
    for upstream, downstream in itertools.pairwise(line):
        registry.disclose(y, p2, upstream, "other", supplies=downstream)
    c1, c2 = registry.site("Ring 1"), registry.site("Ring 2")
    registry.disclose(y, p2, c1, "cable", supplies=c2)
    registry.disclose(y, p2, c2, "cable", supplies=c1)
    registry.disclose(y, p2, c2, "casing", supplies=line[-2])
    with app.app_context():
        for affiliate in w.orgs.values():
            linked = queries.links(TODAY, affiliate_id=affiliate)
            expected = set(db.session.scalars(select(linked.c.site_id)))
            assert set(db.session.scalars(queries.buyer_sites(TODAY, affiliate))) == expected
        sites = set(db.session.scalars(queries.buyer_sites(TODAY, w.orgs["A"])))
        assert line[1] in sites and line[0] not in sites  # MAX_TIERS steps, no more
        assert {c1, c2} <= sites
