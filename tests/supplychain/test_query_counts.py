"""Lists and pages run the same number of SQL queries with 5 rows as with 50."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from flask import Flask
from sqlalchemy import event

from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.core.db import db
from monitoring.supplychain import operations
from monitoring.supplychain.models import ClauseKind, DisclosurePart, ProductCategory, Site, SiteKind
from tests.supplychain.helpers import YEAR_AGO

HTML = {
    "coordinator": ["/sites", "/sites/leverage", "/products", "/contracts", "/disclosures", "/sites/{hub}"],
    "affiliate": ["/my-supply-chain", "/sites", "/contracts", "/products", "/sites/{hub}"],
    "supplier": ["/disclosures", "/sites", "/contracts"],
}
API = [
    "/api/v1/sites",
    "/api/v1/sites/leverage",
    "/api/v1/products",
    "/api/v1/contracts",
    "/api/v1/disclosures",
    "/api/v1/sites/{hub}/concerned",
]


@contextmanager
def counting(app: Flask) -> Iterator[list[int]]:
    """Count SELECTs but the web session's: its writes and reloads depend on the clock and on
    what the session holds, not on the data listed."""
    engine = db.state(app).engine
    count = [0]

    def before(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM web_session" not in statement:
            count[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", before)


def grow(app: Flask, affiliate: User, supplier: User, hub: int, start: int, stop: int) -> None:
    """Add rows start..stop-1: a site, a product, a contract covering it (with two clauses)
    and two disclosures (at the row's site and at the hub)."""
    with app.app_context():
        actor = db.session.get(User, supplier.id)
        hub_site = db.session.get(Site, hub)
        for n in range(start, stop):
            site = operations.create_site(
                None, operations.SiteData(f"Plant {n:03d}", "MY", SiteKind.component, f"Lot {n}", "Penang")
            )
            product = operations.create_product(None, "Scale", f"Model {n:03d}", ProductCategory.laptop)
            contract = operations.create_contract(
                None,
                operations.ContractData(
                    supplier=db.session.get(Organisation, supplier.organisation_id),
                    reference=f"SCALE-{n:03d}",
                    title="Laptops",
                    start_date=YEAR_AGO,
                    annual_spend=Decimal(1000 + n),
                    currency="SEK" if n % 2 else "EUR",
                    clauses=[
                        operations.ClauseData(ClauseKind.labour_standards, "ILO."),
                        operations.ClauseData(ClauseKind.monitoring, "Monitoring."),
                    ],
                ),
                affiliate=db.session.get(Organisation, affiliate.organisation_id),
            )
            operations.add_contract_product(None, contract, product, 10)
            operations.create_disclosure(actor, product, site, DisclosurePart.final_assembly, YEAR_AGO)
            operations.create_disclosure(actor, product, hub_site, DisclosurePart.battery, YEAR_AGO)
        db.session.commit()


def test_pages_and_api_lists_run_a_bounded_number_of_queries(
    app, registry, create_user, create_organisation, client_for, api_client
):
    affiliate = create_user(UserRole.affiliate)
    supplier = create_user(UserRole.supplier)
    coordinator = create_user(
        UserRole.coordinator, organisation=create_organisation(OrganisationKind.operator)
    )
    users = {"coordinator": coordinator, "affiliate": affiliate, "supplier": supplier}
    hub = registry.site("Hub Assembly", country="MX")
    registry.rate("SEK", "0.0871")
    clients = {role: client_for(user) for role, user in users.items()}
    api = api_client(coordinator)

    def measure() -> dict[str, int]:
        counts = {}
        for role, urls in HTML.items():
            for url in urls:
                url = url.format(hub=hub)
                with counting(app) as count:
                    assert clients[role].get(url).status_code == 200, (role, url)
                counts[f"{role} {url}"] = count[0]
        for url in API:
            url = url.format(hub=hub)
            with counting(app) as count:
                response = api.get(url)
                assert response.status_code == 200, url
            counts[url] = count[0]
        return counts

    grow(app, affiliate, supplier, hub, 0, 5)
    small = measure()
    grow(app, affiliate, supplier, hub, 5, 50)
    large = measure()
    assert large == small
    # The data did grow into the pages.
    assert "Plant 040" in clients["coordinator"].get("/sites").get_data(as_text=True)
    assert "SCALE-049" in clients["affiliate"].get("/my-supply-chain").get_data(as_text=True)
