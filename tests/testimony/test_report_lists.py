"""Report lists: metadata only, a bounded number of queries, keyset pages."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from monitoring.accounts.models import User
from monitoring.core.db import db
from monitoring.supplychain.models import Site
from monitoring.testimony import operations
from monitoring.testimony.models import ReportChannel
from tests.testimony.monitor_helpers import add_file, intake_data, make_report, make_site


@contextmanager
def counted(app):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.state(app).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _queries(app, client, url) -> int:
    client.get(url)  # warm up (session load, caches)
    with counted(app) as statements:
        response = client.get(url)
        assert response.status_code == 200
    return len(statements)


def test_lists_run_the_same_number_of_queries_for_more_reports(
    app, client_for, api_client, monitor_with_keys
):
    make_report(app, monitor_with_keys)
    client, script = client_for(monitor_with_keys), api_client(monitor_with_keys)
    few = (_queries(app, client, "/testimony/reports"), _queries(app, script, "/api/v1/worker-reports"))
    site_id = make_site(app, "Bounded Queries Factory", "Rayong", "TH")
    for n in range(8):
        report_id = make_report(
            app,
            monitor_with_keys,
            channel=ReportChannel.hotline if n % 2 else ReportChannel.survey,
            country="KH",
        )
        add_file(app, report_id)
    with app.app_context():
        site = db.session.get(Site, site_id)
        operations.record_report(db.session.get(User, monitor_with_keys.id), intake_data(site=site))
        db.session.commit()
    many = (_queries(app, client, "/testimony/reports"), _queries(app, script, "/api/v1/worker-reports"))
    assert many == few


def test_lists_page_with_a_cursor(app, api_client, client_for, monitor_with_keys):
    ids = [make_report(app, monitor_with_keys) for _ in range(5)]
    script = api_client(monitor_with_keys)
    first = script.get("/api/v1/worker-reports?limit=2").get_json()
    second = script.get(f"/api/v1/worker-reports?limit=2&after={first['next']}").get_json()
    third = script.get(f"/api/v1/worker-reports?limit=2&after={second['next']}").get_json()
    seen = [i["id"] for page in (first, second, third) for i in page["items"]]
    assert seen == sorted(ids, reverse=True) and third["next"] is None
    assert script.get("/api/v1/worker-reports?after=garbage").status_code == 422
    page = client_for(monitor_with_keys).get("/testimony/reports").get_data(as_text=True)
    assert all(f"/testimony/reports/{i}" in page for i in ids)
    assert "Somsri" not in page
