"""Builders for registry tests: organisations, users, sites, products, contracts, disclosures.

Each builder runs in its own application context and commits (a savepoint of the test's
transaction), and returns ids, so no test holds an app context while it uses a client.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask

from monitoring.accounts.models import Organisation, User
from monitoring.core.db import db
from monitoring.supplychain import operations
from monitoring.supplychain.models import (
    ClauseKind,
    DisclosurePart,
    Product,
    ProductCategory,
    Site,
    SiteKind,
)

TODAY = date.today()
YEAR_AGO = TODAY - timedelta(days=365)
_counter = itertools.count(1)


@dataclass
class Registry:
    """Builds registry rows through the operations (so they are validated and audited)."""

    app: Flask

    @contextmanager
    def session(self) -> Iterator[Any]:
        with self.app.app_context():
            yield db.session
            db.session.commit()

    def site(self, name: str | None = None, country: str = "CN", **kwargs: Any) -> int:
        n = next(_counter)
        data = operations.SiteData(
            name=name or f"Factory {n}",
            country=country,
            kind=kwargs.pop("kind", SiteKind.final_assembly),
            address=kwargs.pop("address", f"{n} Industrial Road"),
            city=kwargs.pop("city", "Shenzhen"),
            **kwargs,
        )
        with self.session():
            return operations.create_site(None, data).id

    def product(self, model: str | None = None, brand: str = "Testbrand", category: str = "laptop") -> int:
        with self.session():
            return operations.create_product(
                None, brand, model or f"Model {next(_counter)}", ProductCategory(category)
            ).id

    def contract(
        self,
        affiliate_id: int,
        supplier_id: int,
        products: list[int] = (),  # type: ignore[assignment]
        *,
        spend: str | None = "1000.00",
        currency: str = "EUR",
        start: date = YEAR_AGO,
        end: date | None = None,
        reference: str | None = None,
    ) -> int:
        with self.session() as session:
            contract = operations.create_contract(
                None,
                operations.ContractData(
                    supplier=session.get(Organisation, supplier_id),
                    reference=reference or f"REF-{next(_counter)}",
                    title="Laptops",
                    start_date=start,
                    end_date=end,
                    annual_spend=Decimal(spend) if spend is not None else None,
                    currency=currency,
                    clauses=[
                        operations.ClauseData(ClauseKind.labour_standards, "ILO core conventions apply.")
                    ],
                ),
                affiliate=session.get(Organisation, affiliate_id),
            )
            for product_id in products:
                operations.add_contract_product(None, contract, session.get(Product, product_id))
            return contract.id

    def disclose(
        self,
        supplier_user_id: int,
        product_id: int,
        site_id: int,
        part: str = "final_assembly",
        *,
        valid_from: date = YEAR_AGO,
        valid_to: date | None = None,
        withdrawn: bool = False,
        supplies: int | None = None,
        share: str | None = None,
        units: int | None = None,
    ) -> int:
        with self.session() as session:
            actor = session.get(User, supplier_user_id)
            chain = operations.ChainData(
                supplies_site=session.get(Site, supplies) if supplies is not None else None,
                value_share=Decimal(share) if share is not None else None,
                units_per_product=units,
            )
            disclosure = operations.create_disclosure(
                actor,
                session.get(Product, product_id),
                session.get(Site, site_id),
                DisclosurePart(part),
                valid_from,
                valid_to,
                chain=chain,
            )
            if withdrawn:
                operations.withdraw_disclosure(actor, disclosure)
            return disclosure.id

    def rate(self, currency: str, eur_per_unit: str) -> None:
        with self.session():
            operations.set_currency_rate(None, currency, Decimal(eur_per_unit))

    def get(self, model: Any, ident: Any) -> Any:
        with self.app.app_context():
            obj = db.session.get(model, ident)
            db.session.expunge(obj) if obj is not None else None
            return obj


@dataclass
class World:
    """Two buyers, two suppliers and what each may see.

    Buyer A has contract A1 with supplier X covering P1; buyer B has contract B1 with supplier Y
    covering P2; P3 is in no contract. X discloses P1 at S1 (current) and at S4 (withdrawn);
    Y discloses P2 at S2. S3 has no disclosure.
    """

    users: dict[str, User] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)
    sites: dict[str, int] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)
    contracts: dict[str, int] = field(default_factory=dict)
    disclosures: dict[str, int] = field(default_factory=dict)


# What each role of the world sees (keys of World.sites etc.); readers see everything.
EVERYTHING = {
    "contracts": {"A1", "B1"},
    "products": {"P1", "P2", "P3"},
    "sites": {"S1", "S2", "S3", "S4"},
    "disclosures": {"D1", "D2", "D3"},
}
SEES = {
    "coordinator": EVERYTHING,
    "monitor": EVERYTHING,
    "A": {"contracts": {"A1"}, "products": {"P1"}, "sites": {"S1"}, "disclosures": {"D1"}},
    "B": {"contracts": {"B1"}, "products": {"P2"}, "sites": {"S2"}, "disclosures": {"D2"}},
    "X": {"contracts": {"A1"}, "products": {"P1"}, "sites": {"S1", "S4"}, "disclosures": {"D1", "D3"}},
    "Y": {"contracts": {"B1"}, "products": {"P2"}, "sites": {"S2"}, "disclosures": {"D2"}},
    "admin": {"contracts": set(), "products": set(), "sites": set(), "disclosures": set()},
}


def count_rows(app: Flask, model: Any) -> int:
    from sqlalchemy import func, select

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0
