"""``flask demo load``: one login per role, idempotent, refused in production."""

from __future__ import annotations

from sqlalchemy import func, select

from monitoring.accounts.models import ROLE_ORGANISATION_KIND, Organisation, OrganisationKind, User, UserRole
from monitoring.accounts.operations import MIN_PASSWORD_LENGTH, check_password
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.demo import LOGINS, ORGANISATIONS, load_demo
from tests.conftest import login


def _counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count(Organisation.id))) or 0,
        db.session.scalar(select(func.count(User.id))) or 0,
        db.session.scalar(select(func.count(AuditEntry.id))) or 0,
    )


def test_demo_covers_every_kind_and_role() -> None:
    kinds = [org.kind for org in ORGANISATIONS]
    assert kinds.count(OrganisationKind.operator) == 1
    assert kinds.count(OrganisationKind.monitor) == 2
    assert kinds.count(OrganisationKind.affiliate) == 3
    assert kinds.count(OrganisationKind.supplier) == 3
    assert [x.role for x in LOGINS] == list(UserRole)
    assert all(len(x.password) >= MIN_PASSWORD_LENGTH for x in LOGINS)


def test_load_creates_one_user_per_role(app) -> None:
    with app.app_context():
        result = load_demo()
        db.session.commit()
        assert len(result.created_organisations) == len(ORGANISATIONS)
        assert len(result.created_users) == len(LOGINS)
        for demo in LOGINS:
            user = db.session.scalar(select(User).where(User.email == demo.email))
            assert user is not None
            assert user.role is demo.role
            assert user.organisation.name == demo.organisation
            assert user.organisation.kind is ROLE_ORGANISATION_KIND[demo.role]
            assert not user.must_change_password
            assert check_password(user, demo.password)


def test_load_twice_changes_nothing(app) -> None:
    with app.app_context():
        load_demo()
        db.session.commit()
        before = _counts()
        result = load_demo()
        db.session.commit()
        assert not result.changed
        assert _counts() == before


def test_load_keeps_what_was_changed_since(app) -> None:
    with app.app_context():
        load_demo()
        user = db.session.scalar(select(User).where(User.email == LOGINS[2].email))
        user.name = "Renamed Monitor"
        db.session.commit()
        load_demo()
        db.session.commit()
        db.session.refresh(user)
        assert user.name == "Renamed Monitor"


def test_cli_prints_the_logins_and_is_idempotent(app) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "5 users created" in first.output
    for demo in LOGINS:
        assert demo.email in first.output
        assert demo.password in first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "nothing changed" in second.output


def test_demo_users_can_log_in(app) -> None:
    with app.app_context():
        load_demo()
        db.session.commit()
    for demo in LOGINS:
        client = app.test_client()
        response = login(client, demo.email, demo.password)
        assert response.status_code == 302, demo.email
        assert demo.name in client.get("/").get_data(as_text=True)


def test_refused_in_production(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "ENV", "production")
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "production" in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == LOGINS[0].email)) is None


# --- the supply-chain registry ------------------------------------------------------------------


def _registry_counts() -> dict[str, int]:
    from monitoring.supplychain.models import (
        Contract,
        ContractProduct,
        CurrencyRate,
        Disclosure,
        Product,
        Site,
    )

    models = (Site, Product, Contract, ContractProduct, CurrencyRate, Disclosure)
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def test_demo_registry_is_complete_and_loads_once(app) -> None:
    from datetime import date

    from monitoring.supplychain import queries
    from monitoring.supplychain.demo import CONTRACTS, DISCLOSURES, OTHER_NAMES, PRODUCTS, RATES, SITES
    from monitoring.supplychain.models import Contract, Product, ProductCategory, Site

    with app.app_context():
        result = load_demo()
        db.session.commit()
        counts = _registry_counts()
        assert counts["Site"] == len(SITES)
        assert counts["Product"] == len(PRODUCTS)
        assert counts["Contract"] == len(CONTRACTS)
        assert counts["Disclosure"] == len(DISCLOSURES)
        names = sum(len(other) for other in OTHER_NAMES.values())  # the sites' names in other scripts
        expected = len(SITES) + len(PRODUCTS) + len(CONTRACTS) + len(DISCLOSURES) + len(RATES) + names
        assert result.created_supplychain == expected
        assert set(db.session.scalars(select(Site.country))) == {"CN", "TH", "MY", "CZ", "MX"}
        assert set(db.session.scalars(select(Product.category))) == set(ProductCategory)
        assert set(db.session.scalars(select(Contract.currency))) == {"EUR", "SEK", "GBP"}
        query, keys = queries.leverage_ranking(date.today())
        ranking = queries.ranked(db.session.execute(query.order_by(*keys)).all())
        assert ranking[0].leverage.affiliates == 3
        assert {r.leverage.affiliates for r in ranking} >= {1, 2, 3}
        assert all(r.leverage.unconverted_contracts == 0 for r in ranking)

        again = load_demo()
        db.session.commit()
        assert again.created_supplychain == 0
        assert not again.changed
        assert _registry_counts() == counts


def test_demo_logins_see_their_supply_chain(app) -> None:
    from tests.conftest import login

    with app.app_context():
        load_demo()
        db.session.commit()
    logins = {x.role: x for x in LOGINS}
    affiliate = app.test_client()
    login(affiliate, logins[UserRole.affiliate].email, logins[UserRole.affiliate].password)
    page = affiliate.get("/my-supply-chain").get_data(as_text=True)
    assert "NH-2024-117" in page and "Aurora 14 G3" in page and "Chongqing" in page
    assert "VRC/TIC/2024/08" not in page  # another buyer's contract
    supplier = app.test_client()
    login(supplier, logins[UserRole.supplier].email, logins[UserRole.supplier].password)
    assert "Rackline R740" in supplier.get("/disclosures").get_data(as_text=True)
