"""Supplier disclosures from a CSV file: only for products of the supplier's contracts."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.supplychain.imports import ImportRefused, import_disclosures
from monitoring.supplychain.models import Disclosure, DisclosurePart, Site, SiteDuplicate, SiteKind
from tests.conftest import post_form
from tests.supplychain.helpers import count_rows

HEADER = [
    "brand",
    "model",
    "os_id",
    "name",
    "address",
    "city",
    "country_code",
    "kind",
    "part",
    "valid_from",
    "valid_to",
    "source",
]


def disclosure_csv(rows: list[dict[str, Any]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def row(**values: Any) -> dict[str, Any]:
    return {
        "brand": "Testbrand",
        "model": "P1 model",
        "part": "final_assembly",
        "valid_from": "2025-01-01",
        **values,
    }


def at_site(registry, site_id: int) -> dict[str, str]:
    """The columns naming an existing site by name, address and country."""
    site = registry.get(Site, site_id)
    return {"name": site.name, "address": site.address, "country_code": site.country}


def run(app, user: User, supplier_id: int, data: bytes):
    with app.app_context():
        result = import_disclosures(
            db.session.get(User, user.id), db.session.get(Organisation, supplier_id), io.BytesIO(data)
        )
        db.session.commit()
        return result


def refused(app, user: User, supplier_id: int, data: bytes) -> list[tuple[int, str | None]]:
    before = counts(app)
    with app.app_context():
        try:
            import_disclosures(
                db.session.get(User, user.id), db.session.get(Organisation, supplier_id), io.BytesIO(data)
            )
        except ImportRefused as exc:
            db.session.rollback()
            assert counts(app) == before
            return [(e.line, e.column) for e in exc.errors]
    pytest.fail("the file was accepted")


def counts(app) -> tuple[int, ...]:
    return tuple(count_rows(app, m) for m in (Disclosure, Site, SiteDuplicate, AuditEntry))


def disclosures_of(app, supplier_id: int) -> list[Disclosure]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(Disclosure).where(Disclosure.supplier_id == supplier_id).order_by(Disclosure.id)
            )
        )


def test_supplier_imports_disclosures_by_name_and_by_os_id(app, world, registry):
    x = world.users["X"]
    known = registry.site("Known Cells Co., Ltd.", os_id="CN2019303DDDDDD", kind=SiteKind.component)
    before = len(disclosures_of(app, world.orgs["X"]))
    data = disclosure_csv(
        [
            row(**at_site(registry, world.sites["S3"]), source="Supplier list 2025"),
            row(os_id="cn2019303dddddd", part="Battery", valid_to="2026-12-31"),
            row(
                name="Nanhai Cell Works Co., Ltd.",
                address="3 Shishan Road",
                city="Foshan",
                country_code="CN",
                part="printed circuit board",
            ),
        ]
    )
    result = run(app, x, world.orgs["X"], data)
    assert (result.rows, result.created, result.sites_created, result.unchanged) == (3, 3, 1, 0)
    made = disclosures_of(app, world.orgs["X"])[before:]
    assert [(d.site_id, d.part, d.product_id) for d in made[:2]] == [
        (world.sites["S3"], DisclosurePart.final_assembly, world.products["P1"]),
        (known, DisclosurePart.battery, world.products["P1"]),
    ]
    assert made[0].source == "Supplier list 2025" and made[0].disclosed_by_id == x.id
    assert (made[1].valid_from, made[1].valid_to) == (date(2025, 1, 1), date(2026, 12, 31))
    new_site = registry.get(Site, made[2].site_id)
    assert (new_site.name, new_site.city, new_site.kind) == (
        "Nanhai Cell Works Co., Ltd.",
        "Foshan",
        SiteKind.component,
    )
    assert made[2].part is DisclosurePart.printed_circuit_board
    # The same file again adds nothing.
    again = run(app, x, world.orgs["X"], data)
    assert (again.created, again.unchanged, again.sites_created) == (0, 3, 0)


def test_a_new_site_for_final_assembly_is_a_final_assembly_site_and_shared_by_rows(app, world):
    data = disclosure_csv(
        [
            row(name="Ayutthaya Assembly Co., Ltd.", address="88 Rojana Road", country_code="TH"),
            row(name="AYUTTHAYA ASSEMBLY CO LTD", address="88, Rojana Rd.", country_code="TH", part="casing"),
        ]
    )
    result = run(app, world.users["X"], world.orgs["X"], data)
    assert (result.created, result.sites_created) == (2, 1)
    first, second = disclosures_of(app, world.orgs["X"])[-2:]
    assert first.site_id == second.site_id
    assert first.site.kind is SiteKind.final_assembly


def test_a_new_site_with_a_known_name_is_proposed_as_a_duplicate(app, world, registry):
    s1 = registry.get(Site, world.sites["S1"])
    data = disclosure_csv([row(name=s1.name.upper(), address="1 Elsewhere Street", country_code="CN")])
    result = run(app, world.users["X"], world.orgs["X"], data)
    assert (result.sites_created, result.duplicates_proposed) == (1, 1)
    with app.app_context():
        (pair,) = db.session.scalars(select(SiteDuplicate)).all()
        assert pair.site_id == s1.id and pair.candidate.merged_into_id is None


def test_an_unknown_os_id_needs_the_site_details(app, world):
    data = disclosure_csv([row(os_id="CN2019303ZZZZZZ")])
    assert refused(app, world.users["X"], world.orgs["X"], data) == [(2, "os_id")]
    data = disclosure_csv(
        [row(os_id="CN2019303ZZZZZZ", name="New Place Ltd", address="5 Road", country_code="CN")]
    )
    result = run(app, world.users["X"], world.orgs["X"], data)
    assert result.sites_created == 1
    assert disclosures_of(app, world.orgs["X"])[-1].site.os_id == "CN2019303ZZZZZZ"


def test_products_outside_the_suppliers_contracts_are_refused(app, world, registry):
    site = at_site(registry, world.sites["S1"])
    data = disclosure_csv(
        [
            row(**site),
            row(**site, model="P2 model"),  # Y's product
            row(**site, model="P3 model"),  # in no contract
            row(**site, brand="Otherbrand", part="battery"),
        ]
    )
    assert refused(app, world.users["X"], world.orgs["X"], data) == [(3, "model"), (4, "model"), (5, "model")]


def test_bad_values_are_refused_line_by_line(app, world, registry):
    site = at_site(registry, world.sites["S1"])
    data = disclosure_csv(
        [
            row(**site, part="motherboard"),
            row(**site, valid_from="01/02/2025"),
            row(**site, valid_from="2025-02-01", valid_to="2025-01-01"),
            row(**{**site, "country_code": "XX"}),
            row(name="Only A Name Ltd"),
            row(**site, kind="factory"),
            row(**site, part=""),
        ]
    )
    assert refused(app, world.users["X"], world.orgs["X"], data) == [
        (2, "part"),
        (3, "valid_from"),
        (4, "valid_to"),
        (5, "country_code"),
        (6, "address"),
        (6, "country_code"),
        (7, "kind"),
        (8, "part"),
    ]


def test_repeated_rows_and_missing_columns_are_refused(app, world, registry):
    site = at_site(registry, world.sites["S1"])
    data = disclosure_csv([row(**site), row(**site, part="battery"), row(**site, model="p1  MODEL")])
    assert refused(app, world.users["X"], world.orgs["X"], data) == [(4, "model")]
    no_site = disclosure_csv([row()], header=["brand", "model", "part", "valid_from"])
    assert refused(app, world.users["X"], world.orgs["X"], no_site) == [(1, "os_id")]
    no_part = disclosure_csv([row(**site)], header=["brand", "model", "name", "valid_from"])
    assert refused(app, world.users["X"], world.orgs["X"], no_part) == [
        (1, "part"),
        (1, "address"),
        (1, "country_code"),
    ]


# --- pages and API --------------------------------------------------------------------------


def _upload(client, data: bytes, **fields):
    return post_form(
        client,
        "/imports/disclosures",
        {**fields, "file": (io.BytesIO(data), "disclosures.csv")},
        form_page="/imports/disclosures",
        content_type="multipart/form-data",
    )


def test_supplier_page_imports_for_its_own_organisation(app, world, registry, client_for):
    client = client_for(world.users["X"])
    page = client.get("/imports/disclosures").get_data(as_text=True)
    assert 'name="supplier"' not in page
    response = _upload(client, disclosure_csv([row(**at_site(registry, world.sites["S3"]))]))
    assert response.status_code == 200
    assert "Disclosures added" in response.get_data(as_text=True)
    assert disclosures_of(app, world.orgs["X"])[-1].site_id == world.sites["S3"]


def test_supplier_page_lists_problems_and_saves_nothing(app, world, registry, client_for):
    client = client_for(world.users["X"])
    before = counts(app)
    response = _upload(
        client, disclosure_csv([row(**at_site(registry, world.sites["S3"]), model="P2 model")])
    )
    assert response.status_code == 422
    assert "is not a product of any contract of" in response.get_data(as_text=True)
    assert counts(app) == before


def test_coordinator_imports_on_behalf_of_a_supplier(app, world, registry, client_for, api_client):
    coordinator = world.users["coordinator"]
    client = client_for(coordinator)
    page = client.get("/imports/disclosures").get_data(as_text=True)
    assert f'<option value="{world.orgs["X"]}">' in page
    data = disclosure_csv([row(**at_site(registry, world.sites["S3"]))])
    response = _upload(client, data)
    assert response.status_code == 422
    assert "Choose the supplier the disclosures are made for." in response.get_data(as_text=True)
    response = _upload(client, data, supplier=world.orgs["X"])
    assert response.status_code == 200
    made = disclosures_of(app, world.orgs["X"])[-1]
    assert (made.site_id, made.disclosed_by_id) == (world.sites["S3"], coordinator.id)
    # The API likewise needs the supplier.
    api = api_client(coordinator)
    data = disclosure_csv([row(**at_site(registry, world.sites["S2"]))])
    response = api.post(
        "/api/v1/imports/disclosures",
        data={"file": (io.BytesIO(data), "d.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["errors"]) == {"supplier_id"}
    response = api.post(
        "/api/v1/imports/disclosures",
        data={"file": (io.BytesIO(data), "d.csv"), "supplier_id": str(world.orgs["A"])},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422  # a buyer, not a supplier
    response = api.post(
        "/api/v1/imports/disclosures",
        data={"file": (io.BytesIO(data), "d.csv"), "supplier_id": str(world.orgs["X"])},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.get_json()["created"] == 1


def test_api_supplier_imports_and_gets_problems_by_line(app, world, registry, api_client):
    api = api_client(world.users["Y"])
    site = at_site(registry, world.sites["S1"])
    data = disclosure_csv([row(**site, model="P2 model"), row(**site)])  # P1 is X's, not Y's
    before = counts(app)
    response = api.post(
        "/api/v1/imports/disclosures",
        data={"file": (io.BytesIO(data), "d.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert list(response.get_json()["error"]["errors"]) == ["3.model"]
    assert counts(app) == before
    # Another supplier's organisation is invisible.
    response = api.post(
        "/api/v1/imports/disclosures",
        data={"file": (io.BytesIO(data), "d.csv"), "supplier_id": str(world.orgs["X"])},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    response = api.post(
        "/api/v1/imports/disclosures",
        data={
            "file": (io.BytesIO(disclosure_csv([row(**site, model="P2 model")])), "d.csv"),
            "supplier_id": str(world.orgs["Y"]),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "rows": 1,
        "created": 1,
        "unchanged": 0,
        "sites_created": 0,
        "duplicates_proposed": 0,
    }


@pytest.mark.parametrize("role", ["admin", "monitor", "affiliate"])
def test_other_roles_get_404(world, client_for, api_client, role):
    user = {"admin": world.users["admin"], "monitor": world.users["monitor"], "affiliate": world.users["A"]}[
        role
    ]
    assert client_for(user).get("/imports/disclosures").status_code == 404
    response = api_client(user).post(
        "/api/v1/imports/disclosures",
        data={"file": (io.BytesIO(disclosure_csv([row()])), "d.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404


def test_only_suppliers_and_coordinators_may_import_disclosures(app, world):
    from monitoring.supplychain.imports import can_import_disclosures

    with app.app_context():
        x_org = db.session.get(Organisation, world.orgs["X"])
        y_org = db.session.get(Organisation, world.orgs["Y"])
        a_org = db.session.get(Organisation, world.orgs["A"])
        assert can_import_disclosures(world.users["X"], x_org)
        assert not can_import_disclosures(world.users["X"], y_org)
        assert can_import_disclosures(world.users["coordinator"], y_org)
        assert not can_import_disclosures(world.users["coordinator"], a_org)
        for key in ("A", "monitor", "admin"):
            assert not can_import_disclosures(world.users[key], x_org)
    assert world.users["X"].role is UserRole.supplier
