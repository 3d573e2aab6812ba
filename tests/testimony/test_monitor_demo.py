"""The demo data of sealed testimony: routing for both demo monitor organisations, sealed reports."""

from __future__ import annotations

from sqlalchemy import func, select

from monitoring.accounts import keys
from monitoring.core.db import db
from monitoring.demo import LOGINS, load_demo
from monitoring.testimony import sealing
from monitoring.testimony.demo import COVERAGE, FALLBACK, REPORTING_ORGANISATION
from monitoring.testimony.models import MonitorCoverage, WorkerReport
from tests.conftest import login


def test_demo_routes_countries_and_seals_reports(app) -> None:
    with app.app_context():
        result = load_demo()
        db.session.commit()
        assert result.created_testimony == sum(len(c) for c in COVERAGE.values()) + 1 + 3
        rows = db.session.scalars(select(MonitorCoverage)).all()
        routed = {row.country: row.organisation.name for row in rows}
        assert routed["TH"] == REPORTING_ORGANISATION and routed["MY"] == "Straits Labour Watch"
        assert routed[None] == FALLBACK
        reports = db.session.scalars(select(WorkerReport).order_by(WorkerReport.id)).all()
        assert len(reports) == 3
        assert all(r.organisation.name == REPORTING_ORGANISATION for r in reports)
        assert sum(1 for r in reports if r.acknowledge_due_dt is not None) == 1
        fallback = sealing.responsible_organisation(db.session, site=None, country="BR")
        assert keys.current_organisation_key(fallback) is not None
        # Idempotent.
        again = load_demo()
        db.session.commit()
        assert again.created_testimony == 0
        assert db.session.scalar(select(func.count(WorkerReport.id))) == 3


def test_the_demo_monitor_opens_a_demo_report(app) -> None:
    with app.app_context():
        load_demo()
        db.session.commit()
        report_id = db.session.scalar(select(func.min(WorkerReport.id)))
    monitor = next(x for x in LOGINS if x.role.value == "monitor")
    client = app.test_client()
    assert login(client, monitor.email, monitor.password).status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "1 report awaits acknowledgement" in home  # the hotline call; interviews owe none
    assert "Overdue: 1 not acknowledged in time" in home
    url = f"/testimony/reports/{report_id}"
    from tests.conftest import post_form

    page = post_form(client, f"{url}/open", {"reason": "investigation"}, form_page=url).get_data(as_text=True)
    assert "Ko Zaw (fictional)" in page and "recruitment fee" in page
