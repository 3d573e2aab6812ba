"""Each buyer's sites are stored, read back by key, and computed again when out of date.

Uses the hand-worked example of ``test_leverage``: buyer A's contracts in force reach S1, S2 and
S3 (S4's disclosure begins tomorrow); B's reach S1; C's S1, S2 and S3; D's S3.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.supplychain import buyer_reach, leverage, operations, queries
from monitoring.supplychain.models import (
    BuyerSite,
    BuyerSiteSnapshot,
    Contract,
    ContractProduct,
    Disclosure,
    Site,
)
from tests.supplychain.helpers import TODAY
from tests.supplychain.test_leverage import example  # noqa: F401 (a fixture)


def _read(app, affiliate_id, day=TODAY):
    """The buyer's sites as case visibility reads them, committed like a request; and how many
    statements stored them."""
    engine = db.state(app).engine
    stores = []

    def before(conn, cursor, statement, *args):
        if "INSERT INTO buyer_site_snapshot" in statement:
            stores.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        with app.app_context():
            sites = set(db.session.scalars(queries.buyer_sites(day, affiliate_id)))
            again = set(db.session.scalars(queries.buyer_sites(day, affiliate_id)))
            db.session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert again == sites
    return sites, len(stores)


def _live(app, affiliate_id):
    with app.app_context():
        linked = queries.links(TODAY, affiliate_id=affiliate_id)
        return set(db.session.scalars(select(linked.c.site_id)))


def _snapshots(app):
    with app.app_context():
        return set(db.session.scalars(select(BuyerSiteSnapshot.affiliate_id)))


def _change(app, change):
    with app.app_context():
        change()
        db.session.commit()


def test_each_buyers_sites_are_stored_once_and_read_back(app, example):  # noqa: F811
    s1, s2, s3, _s4 = example["sites"]
    orgs = example["orgs"]
    expected = {"A": {s1, s2, s3}, "B": {s1}, "C": {s1, s2, s3}, "D": {s3}}
    for name, affiliate in orgs.items():
        assert _read(app, affiliate) == (expected[name], 1)
        assert _live(app, affiliate) == expected[name]
    for affiliate in orgs.values():
        assert _read(app, affiliate)[1] == 0  # read back, not computed again
    with app.app_context():
        stored = db.session.scalars(select(BuyerSite.site_id).where(BuyerSite.affiliate_id == orgs["A"]))
        assert set(stored) == expected["A"]
    assert _snapshots(app) == set(orgs.values())


def test_every_kind_of_change_to_the_chains_is_seen_at_once(app, registry, example):  # noqa: F811
    s1, s2, s3, s4 = example["sites"]
    orgs, sup, contracts = example["orgs"], example["suppliers"], example["contracts"]
    a, d = orgs["A"], orgs["D"]
    with app.app_context():
        x_user = db.session.scalar(select(User.id).where(User.organisation_id == sup["X"]))

    def stored_then(change, a_sites, d_sites):
        _read(app, a), _read(app, d)
        assert _snapshots(app) >= {a, d}
        change()
        assert _snapshots(app) == set(), change
        assert _read(app, a) == (a_sites, 1) and _read(app, d) == (d_sites, 1)
        assert (_live(app, a), _live(app, d)) == (a_sites, d_sites)

    # A new contract of D's and a disclosure of its product (through the operations).
    product = registry.product("Example 5")
    stored_then(lambda: registry.contract(d, sup["X"], [product]), {s1, s2, s3}, {s3})
    stored_then(lambda: registry.disclose(x_user, product, s4, "final_assembly"), {s1, s2, s3}, {s3, s4})

    def withdraw():
        found = db.session.scalar(select(Disclosure).where(Disclosure.product_id == product))
        operations.withdraw_disclosure(db.session.get(User, x_user), found)

    stored_then(lambda: _change(app, withdraw), {s1, s2, s3}, {s3})

    def end_contract():  # A's contract cA2 (P3, made at S3) ends yesterday
        db.session.get(Contract, contracts["cA2"]).end_date = TODAY - timedelta(days=1)

    stored_then(lambda: _change(app, end_contract), {s1, s2}, {s3})

    def drop_product():  # A's cA1 no longer covers P2 (made at S2)
        found = db.session.scalars(
            select(ContractProduct).where(ContractProduct.contract_id == contracts["cA1"])
        ).all()
        db.session.delete(next(cp for cp in found if s2 in _made_at(cp.product_id)))

    stored_then(lambda: _change(app, drop_product), {s1}, {s3})

    def merge():  # S3 merged into S1: its disclosures move with it
        db.session.execute(update(Disclosure).where(Disclosure.site_id == s3).values(site_id=s1))
        site = db.session.get(Site, s3)
        site.merged_into_id, site.merged_dt = s1, utcnow()

    stored_then(lambda: _change(app, merge), {s1}, {s1})

    # Writes made with SQL are marked by hand (as the disclosure import does).
    stored_then(lambda: _change(app, lambda: leverage.invalidate(db.session)), {s1}, {s1})


def _made_at(product_id):
    return set(db.session.scalars(select(Disclosure.site_id).where(Disclosure.product_id == product_id)))


def test_a_change_elsewhere_keeps_the_stored_sites(app, registry, example):  # noqa: F811
    a = example["orgs"]["A"]
    _read(app, a)

    def rename():
        db.session.get(Site, example["sites"][0]).name = "Example site 1, renamed"

    _change(app, rename)
    assert _snapshots(app) == {a}
    registry.rate("NOK", "0.0850")
    assert _snapshots(app) == {a}
    assert _read(app, a)[1] == 0


def test_another_day_or_an_old_set_is_computed_again(app, example):  # noqa: F811
    a = example["orgs"]["A"]
    first, _ = _read(app, a)
    old = utcnow() - buyer_reach.DEFAULT_MAX_AGE_SECONDS * timedelta(seconds=1) - timedelta(minutes=1)
    for change in ({"computed_for": TODAY - timedelta(days=1)}, {"computed_dt": old}):
        _change(app, lambda change=change: db.session.execute(update(BuyerSiteSnapshot).values(**change)))
        assert _read(app, a) == (first, 1)
        assert _read(app, a) == (first, 0)
    # Tomorrow S4's disclosure begins: a read for another day computes that day's set.
    s4 = example["sites"][3]
    assert _read(app, a, TODAY + timedelta(days=1)) == (first | {s4}, 1)


def test_a_buyer_being_stored_by_another_request_is_walked_live(app, example, monkeypatch):  # noqa: F811
    a = example["orgs"]["A"]

    def conflict(today, affiliate_id):
        raise IntegrityError("INSERT INTO buyer_site", {}, Exception("duplicate key"))

    monkeypatch.setattr(buyer_reach, "refresh", conflict)
    assert _read(app, a) == (_live(app, a), 0)
    assert _snapshots(app) == set()


@pytest.mark.parametrize("rolled_back", [True, False])
def test_a_set_stored_by_a_request_that_failed_is_not_trusted(app, example, rolled_back):  # noqa: F811
    a = example["orgs"]["A"]
    with app.app_context():
        db.session.scalars(queries.buyer_sites(TODAY, a)).all()
        if rolled_back:
            db.session.rollback()
        else:
            db.session.commit()
        assert bool(db.session.scalar(select(BuyerSiteSnapshot.affiliate_id))) is not rolled_back
        assert set(db.session.scalars(queries.buyer_sites(TODAY, a))) == _live(app, a)


def _on_postgresql(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_a_set_is_not_stored_while_a_change_to_the_chains_is_being_committed(app, example):  # noqa: F811
    """A change flushed but not yet committed (it has deleted the snapshot rows): a reader
    waits for it, gives up after the lock wait and walks live, storing nothing it could not
    know to be current. (SQLite cannot have two writers at once.)"""
    if not _on_postgresql(app):
        pytest.skip("PostgreSQL only: SQLite's writers take turns")
    a = example["orgs"]["A"]
    with app.app_context():
        changing = db.engine.connect()
        changing.begin()
        changing.execute(buyer_reach.delete(buyer_reach.snapshot_table))  # what a change's flush runs
        try:
            assert _read(app, a) == (_live(app, a), 0)
        finally:
            changing.rollback()
            changing.close()
    assert _snapshots(app) == set()


def test_a_change_waits_for_a_set_being_stored(app, example):  # noqa: F811
    """A set being stored (not yet committed) holds back a change's delete of the snapshot rows
    until it commits, so the change then deletes it: a set walked before the change does not
    outlive it. Here the change gives up after a short wait instead of waiting for the end of
    the test's transaction."""
    if not _on_postgresql(app):
        pytest.skip("PostgreSQL only: SQLite's writers take turns")
    a = example["orgs"]["A"]
    with app.app_context():
        db.session.scalars(queries.buyer_sites(TODAY, a)).all()  # stored, not committed
        with db.engine.connect() as changing, changing.begin():
            changing.execute(text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                changing.execute(buyer_reach.delete(buyer_reach.snapshot_table))
