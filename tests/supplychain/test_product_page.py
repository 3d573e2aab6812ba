"""A product's page lists its sites a page at a time and still says how many there are."""

from __future__ import annotations

import re


def _sites(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/sites/(\d+)">', page)]


def test_the_product_page_pages_its_sites_by_name(app, world, registry, client_for, monkeypatch):
    w = world
    product = w.products["P1"]
    x = w.users["X"].id
    # P1 is made at S1 (D1) and withdrawn from S4 (D3); two more current sites.
    for key in ("S2", "S3"):
        registry.disclose(x, product, w.sites[key], "battery")
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    client = client_for(w.users["coordinator"])
    first = client.get(f"/products/{product}").get_data(as_text=True)
    assert _sites(first) == [w.sites["S1"], w.sites["S2"]]
    assert "Made at 3 sites." in first
    found = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert found and f"/products/{product}?after=" in found.group(1)
    second = client.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _sites(second) == [w.sites["S3"]]
    assert "Made at 3 sites." in second and 'rel="next"' not in second
    # A buyer with a contract for it sees the same sites.
    buyer = client_for(w.users["A"]).get(f"/products/{product}").get_data(as_text=True)
    assert _sites(buyer) == [w.sites["S1"], w.sites["S2"]] and "Made at 3 sites." in buyer
