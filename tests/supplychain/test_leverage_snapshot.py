"""The leverage ranking is stored, read back a page at a time, and recomputed when out of date.

Uses the hand-worked example of ``test_leverage``: S1 (3 buyers, 210,540.50 EUR), S3 (3,
73,440.00, one contract in NOK without a rate), S2 (2, 123,440.50); S4 not ranked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event, select, update

from monitoring.accounts.models import User, UserRole
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.supplychain import leverage, queries
from monitoring.supplychain.models import LeverageSnapshot, Site, SiteLeverage
from tests.supplychain.helpers import TODAY
from tests.supplychain.test_leverage import example  # noqa: F401 (a fixture)


def _stored(app):
    with app.app_context():
        snapshot = db.session.get(LeverageSnapshot, leverage.SNAPSHOT_ID)
        rows = db.session.execute(
            select(SiteLeverage.rank, SiteLeverage.site_id, SiteLeverage.spend_cents).order_by(
                SiteLeverage.rank, SiteLeverage.site_id
            )
        ).all()
        return (snapshot.computed_dt if snapshot else None), [tuple(r) for r in rows]


def _ranking(client):
    body = client.get("/api/v1/sites/leverage").get_json()
    return [(i["rank"], i["site"]["id"], i["leverage"]["spend_eur"]) for i in body["items"]], body["items"]


def _inserts(app, client, url):
    """How many statements a GET of ``url`` runs that store the ranking."""
    engine = db.state(app).engine
    seen = []

    def before(conn, cursor, statement, *args):
        if "INSERT INTO leverage_snapshot" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(seen)


def test_the_ranking_is_stored_once_and_read_back(app, example, api_client, client_for, create_user):  # noqa: F811
    s1, s2, s3, _s4 = example["sites"]
    coordinator = create_user(UserRole.coordinator)
    client = api_client(coordinator)
    assert _stored(app) == (None, [])
    ranking, items = _ranking(client)
    assert ranking == [(1, s1, "210540.50"), (2, s3, "73440.00"), (3, s2, "123440.50")]
    as_of, rows = _stored(app)
    assert rows == [(1, s1, 21054050), (2, s3, 7344000), (3, s2, 12344050)]
    assert {datetime.fromisoformat(i["as_of"]) for i in items} == {as_of}
    with app.app_context():
        query, keys = queries.leverage_ranking(TODAY)
        live = [(r.rank, r.site.id) for r in queries.ranked(db.session.execute(query.order_by(*keys)).all())]
    assert live == [(rank, site) for rank, site, _ in ranking]
    # Read back, not computed again, on the API and on the page, which says as of when.
    assert _inserts(app, client, "/api/v1/sites/leverage") == 0
    page_client = client_for(coordinator)
    assert _inserts(app, page_client, "/sites/leverage") == 0
    page = page_client.get("/sites/leverage").get_data(as_text=True)
    assert 'id="leverage-as-of"' in page and as_of.strftime("%Y-%m-%d %H:%M") in page
    assert _stored(app)[0] == as_of
    with app.app_context():
        assert leverage.refresh_if_stale(TODAY) is False


def test_a_change_to_rates_contracts_or_disclosures_is_ranked_at_once(
    app,
    registry,
    example,  # noqa: F811
    api_client,
    create_user,
):
    s1, s2, s3, s4 = example["sites"]
    client = api_client(create_user(UserRole.coordinator))
    _ranking(client)
    registry.rate("NOK", "0.0850")  # S3's contract in NOK: 500,000 x 0.085 = 42,500 more
    assert _stored(app)[0] is None
    assert _ranking(client)[0] == [(1, s1, "210540.50"), (2, s3, "115940.00"), (3, s2, "123440.50")]
    orgs, sup = example["orgs"], example["suppliers"]
    product = registry.product("Example 4")
    registry.contract(orgs["A"], sup["X"], [product], spend="999999.00")
    assert _stored(app)[0] is None
    _ranking(client)
    # A disclosure places the new product at S4: A's new contract now reaches it.
    with app.app_context():
        x_user = db.session.scalar(select(User.id).where(User.organisation_id == sup["X"]))
    registry.disclose(x_user, product, s4, "final_assembly")
    assert _stored(app)[0] is None
    assert _ranking(client)[0][-1] == (4, s4, "999999.00")


def test_another_day_or_an_old_ranking_is_computed_again(app, example, api_client, create_user):  # noqa: F811
    client = api_client(create_user(UserRole.coordinator))
    first = _ranking(client)[0]
    for change in (
        {"computed_for": TODAY - timedelta(days=1)},
        {
            "computed_dt": utcnow()
            - leverage.DEFAULT_MAX_AGE_SECONDS * timedelta(seconds=1)
            - timedelta(minutes=1)
        },
    ):
        with app.app_context():
            db.session.execute(update(LeverageSnapshot).values(**change))
            db.session.commit()
            assert leverage.refresh_if_stale(TODAY) is True
            assert leverage.refresh_if_stale(TODAY) is False
            db.session.execute(update(LeverageSnapshot).values(**change))
            db.session.commit()
        assert _inserts(app, client, "/api/v1/sites/leverage") == 1
        assert _inserts(app, client, "/api/v1/sites/leverage") == 0
        assert _ranking(client)[0] == first


def test_a_merge_makes_it_out_of_date_but_a_new_name_does_not(app, example, api_client, create_user):  # noqa: F811
    s1, s2, s3, _s4 = example["sites"]
    client = api_client(create_user(UserRole.coordinator))
    _ranking(client)
    with app.app_context():
        site = db.session.get(Site, s2)
        site.name = "Example site 2, renamed"
        db.session.commit()
    assert _stored(app)[0] is not None
    with app.app_context():
        site = db.session.get(Site, s2)
        site.merged_into_id, site.merged_dt = s1, utcnow()
        db.session.commit()
    assert _stored(app)[0] is None
    assert [(rank, site) for rank, site, _ in _ranking(client)[0]] == [(1, s1), (2, s3)]


def test_the_jobs_worker_stores_an_out_of_date_ranking(app, registry, example, api_client, create_user):  # noqa: F811
    """After a change to the supply chains the worker recomputes the ranking, so that the next
    reader is not the one who waits for it; a ranking in date is left alone."""
    s1, s2, s3, _s4 = example["sites"]
    worker = ["jobs", "worker", "--once"]
    result = app.test_cli_runner().invoke(args=worker)
    assert result.exit_code == 0, result.output
    assert "refreshed the leverage ranking" in result.output
    as_of, rows = _stored(app)
    assert as_of is not None and [site for _rank, site, _spend in rows] == [s1, s3, s2]
    again = app.test_cli_runner().invoke(args=worker)
    assert "leverage" not in again.output and _stored(app)[0] == as_of
    registry.rate("NOK", "0.0850")
    assert _stored(app)[0] is None
    app.test_cli_runner().invoke(args=worker)
    assert _stored(app)[1] == [(1, s1, 21054050), (2, s3, 11594000), (3, s2, 12344050)]
    client = api_client(create_user(UserRole.coordinator))
    assert _inserts(app, client, "/api/v1/sites/leverage") == 0  # read back, not computed again
