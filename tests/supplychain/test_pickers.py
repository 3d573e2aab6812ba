"""The disclosure form's product and site and the contract form's supplier are searches: the
pages stay small with thousands of sites, a chosen id still goes through, a forged one is refused."""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import func, insert, select

from monitoring.accounts.models import OrganisationKind
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.supplychain.models import Contract, Disclosure, DisclosurePart, Site, SiteKind, search_key
from monitoring.supplychain.pickers import PICKER_PAGE
from tests.conftest import post_form
from tests.supplychain.helpers import TODAY
from tests.supplychain.test_query_counts import counting

MANY = 5_000
MAX_PAGE = 200_000
NEEDLE = "Kowloon Precision Works"


def _text(response) -> str:
    return response.get_data(as_text=True)


def _radios(page: str, name: str) -> list[int]:
    return [int(v) for v in re.findall(rf'name="{name}" type="radio" value="(\d+)"', page)]


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def add_sites(app, n: int = MANY, disclosed_by=None, product: int | None = None) -> int:
    """``n`` sites in one Core insert, one of them named ``NEEDLE``; its id. With a supplier's
    user and a product, each site is disclosed for it (so the supplier sees them all)."""
    now = utcnow()
    names = [f"{NEEDLE} {i}" if i == n // 2 else f"Bulk Electronics Plant {i:05d}" for i in range(n)]
    rows = [
        {
            "name": name,
            "address": f"{i} Industrial Road",
            "city": "Penang",
            "country": "MY",
            "kind": SiteKind.component,
            "match_key": f"bulk {i}",
            "name_key": f"bulk {i}",
            "search_key": search_key(name),
            "created_dt": now,
            "updated_dt": now,
        }
        for i, name in enumerate(names)
    ]
    with app.app_context():
        db.session.execute(insert(Site), rows)
        ids = db.session.scalars(select(Site.id).where(Site.name.in_(names))).all()
        if disclosed_by is not None:
            disclosures = [
                {
                    "supplier_id": disclosed_by.organisation_id,
                    "product_id": product,
                    "site_id": site_id,
                    "part": DisclosurePart.battery,
                    "valid_from": TODAY,
                    "source": "",
                    "disclosed_dt": now,
                    "disclosed_by_id": disclosed_by.id,
                }
                for site_id in ids
            ]
            db.session.execute(insert(Disclosure), disclosures)
        db.session.commit()
        return db.session.scalar(select(Site.id).where(Site.name == names[n // 2]))


def _disclosure(world, site) -> dict:
    return {"product": world.products["P1"], "part": "battery", "site": site, "valid_from": TODAY.isoformat()}


def test_the_disclosure_form_stays_small_and_searches_sites(app, world, client_for):
    needle = add_sites(app, disclosed_by=world.users["X"], product=world.products["P1"])
    client = client_for(world.users["X"])
    with counting(app) as count:
        response = client.get("/disclosures/new")
    assert response.status_code == 200 and len(response.data) < MAX_PAGE and count[0] <= 12
    form = _text(response)
    assert _radios(form, "site") == [] and 'id="site-none"' in form
    assert _radios(form, "product") == [world.products["P1"]]
    found = _text(client.get("/disclosures/new?site_q=" + quote("precision works")))
    assert _radios(found, "site") == [needle]
    plants = _text(client.get("/disclosures/new?site_q=plant"))
    assert len(_radios(plants, "site")) == PICKER_PAGE and 'name="site_more"' in plants
    # A search sent from the filled-in form keeps what was entered and saves nothing.
    before = _count(app, Disclosure)
    data = {**_disclosure(world, ""), "site_q": "kowloon", "site_search": "1", "source": "List 2026"}
    searched = post_form(client, "/disclosures/new", data, form_page="/disclosures/new")
    page = _text(searched)
    assert searched.status_code == 200 and _count(app, Disclosure) == before
    assert _radios(page, "site") == [needle] and 'value="List 2026"' in page
    product = world.products["P1"]
    assert re.search(rf'checked id="product-0" name="product" type="radio" value="{product}"', page)


def test_a_chosen_site_is_disclosed_and_an_invisible_one_refused(app, world, client_for):
    unseen = add_sites(app)
    url = "/disclosures/new"
    own = world.sites["S1"]
    client = client_for(world.users["X"])
    assert _radios(_text(client.get("/disclosures/new?site_q=" + quote("site s1"))), "site") == [own]
    # The supplier searches only the sites it sees: not those it never disclosed.
    assert not _radios(_text(client.get("/disclosures/new?site_q=kowloon")), "site")
    chosen = _text(client.get(f"/disclosures/new?site={own}"))
    assert re.search(rf'checked id="site-0" name="site" type="radio" value="{own}"', chosen)
    before = _count(app, Disclosure)
    done = post_form(client, "/disclosures/new", _disclosure(world, own), form_page="/disclosures/new")
    assert done.status_code == 302 and _count(app, Disclosure) == before + 1
    for forged in (unseen, 999999999):
        refused = post_form(client, "/disclosures/new", _disclosure(world, forged), form_page=url)
        assert refused.status_code == 200 and 'id="site-error"' in _text(refused)
    assert _count(app, Disclosure) == before + 1


def test_the_contract_form_searches_its_suppliers(app, world, client_for, create_organisation):
    for n in range(PICKER_PAGE + 5):
        create_organisation(OrganisationKind.supplier, name=f"Bulk Components {n:03d}")
    client = client_for(world.users["A"])
    form = _text(client.get("/contracts/new"))
    assert len(_radios(form, "supplier")) == PICKER_PAGE and 'name="supplier_more"' in form
    found = _text(client.get("/contracts/new?supplier_q=" + quote("Org Y")))
    assert _radios(found, "supplier") == [world.orgs["Y"]]
    data = {
        "supplier": world.orgs["Y"],
        "reference": "PICK/1",
        "title": "Servers",
        "start_date": "2026-02-01",
        "currency": "EUR",
    }
    before = _count(app, Contract)
    searched = post_form(client, "/contracts/new", {**data, "supplier_q": "bulk", "supplier_search": "1"})
    assert searched.status_code == 200 and _count(app, Contract) == before
    assert _radios(_text(searched), "supplier")[0] == world.orgs["Y"] and 'value="PICK/1"' in _text(searched)
    forged = post_form(client, "/contracts/new", {**data, "supplier": world.orgs["A"]})
    assert 'id="supplier-error"' in _text(forged) and _count(app, Contract) == before
    created = post_form(client, "/contracts/new", data)
    assert created.status_code == 302 and _count(app, Contract) == before + 1


def test_only_suppliers_and_affiliates_reach_the_pickers(world, client_for):
    for who in ("coordinator", "monitor", "admin", "A"):
        assert client_for(world.users[who]).get("/disclosures/new?site_q=plant").status_code == 404
    for who in ("coordinator", "monitor", "admin", "X"):
        assert client_for(world.users[who]).get("/contracts/new?supplier_q=org").status_code == 404
