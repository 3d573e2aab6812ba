"""One step from a worker's retaliation alert to a priority GR-2 finding on a case, or a new case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from monitoring.cases.models import Case, CaseState, Finding, FindingReport, Severity
from monitoring.core.db import db
from monitoring.testimony.models_retaliation import AlertState, CheckInSeries
from tests.testimony.monitor_helpers import page_csrf
from tests.testimony.retaliation_helpers import alerts_of, answer, check_ins_of, file_web_report

DAY0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def on_day(day: float) -> time_machine.travel:
    return time_machine.travel(DAY0 + timedelta(days=day), tick=False)


def alert_for(case_world, site_id: int | None):
    """A web report about the site whose worker answers "yes" at the 14-day check-in."""
    with on_day(0):
        report_id, receipt = file_web_report(case_world.app, case_world.monitor, site_id=site_id)
    with on_day(14):
        answer(case_world.app.test_client(), receipt, "yes", "I was moved to the night shift")
    (alert,) = alerts_of(case_world.app, report_id)
    return report_id, alert.id


def test_a_yes_becomes_a_priority_gr2_finding_in_a_new_case(case_world, api_client):
    report_id, alert_id = alert_for(case_world, case_world.site)
    script = api_client(case_world.monitor)
    response = script.post(f"/api/v1/retaliation-alerts/{alert_id}/finding", json={})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["case_opened"] is True and body["standard"] == "GR-2" and body["severity"] == "priority"
    finding = case_world.get(Finding, body["finding_id"])
    assert finding.standard == "GR-2" and finding.severity is Severity.priority
    assert finding.case_id == body["case_id"]
    case = case_world.get(Case, body["case_id"])
    assert case.severity is Severity.priority and case.site_id == case_world.site
    with case_world.app.app_context():
        links = db.session.scalars(
            select(FindingReport.report_id).where(FindingReport.finding_id == finding.id)
        )
        assert list(links) == [report_id]
    alert = alerts_of(case_world.app, report_id)[0]
    assert alert.state is AlertState.finding_filed
    assert (alert.finding_id, alert.case_id) == (finding.id, case.id)
    # Once handled, the alert offers nothing more.
    assert script.post(f"/api/v1/retaliation-alerts/{alert_id}/finding", json={}).status_code == 404


def test_the_finding_joins_the_open_case_the_report_supports(case_world, client_for):
    report_id, alert_id = alert_for(case_world, case_world.site)
    earlier = case_world.finding(report_ids=[report_id])
    case_id = case_world.case(findings=[earlier])
    client = client_for(case_world.monitor)
    page = client.get(f"/testimony/retaliation-alerts/{alert_id}").get_data(as_text=True)
    response = client.post(
        f"/cases/retaliation-alerts/{alert_id}/finding",
        data={
            "summary": "A worker was moved to nights after speaking up.",
            "workers_affected": "1",
            "csrf_token": page_csrf(page),
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case_id}")
    case = case_world.get(Case, case_id)
    assert case.severity is Severity.priority  # was major: the priority clock applies now
    assert alerts_of(case_world.app, report_id)[0].case_id == case_id


def test_a_described_workplace_needs_its_site(case_world, client_for, api_client):
    _report_id, alert_id = alert_for(case_world, None)
    script = api_client(case_world.monitor)
    refused = script.post(f"/api/v1/retaliation-alerts/{alert_id}/finding", json={})
    assert refused.status_code == 422 and "site_id" in refused.get_json()["error"]["errors"]
    client = client_for(case_world.monitor)
    page = client.get(f"/testimony/retaliation-alerts/{alert_id}").get_data(as_text=True)
    response = client.post(
        f"/cases/retaliation-alerts/{alert_id}/finding",
        data={"summary": "", "workers_affected": "x", "csrf_token": page_csrf(page)},
    )
    assert response.status_code == 422
    done = script.post(f"/api/v1/retaliation-alerts/{alert_id}/finding", json={"site_id": case_world.site})
    assert done.status_code == 201


@pytest.mark.parametrize("role", ["coordinator", "admin", "affiliate", "supplier", "other_monitor"])
def test_nobody_else_files_from_the_alert(case_world, api_client, client_for, role):
    report_id, alert_id = alert_for(case_world, case_world.site)
    script = api_client(case_world.users[role])
    assert script.post(f"/api/v1/retaliation-alerts/{alert_id}/finding", json={}).status_code == 404
    client = client_for(case_world.users[role])
    assert client.post(f"/cases/retaliation-alerts/{alert_id}/finding", data={}).status_code in (400, 404)
    assert alerts_of(case_world.app, report_id)[0].state is AlertState.open


def test_closing_a_linked_case_plans_new_check_ins(case_world):
    with on_day(0):
        report_id, _receipt = file_web_report(case_world.app, case_world.monitor, site_id=case_world.site)
    case_id = case_world.case(findings=[case_world.finding(report_ids=[report_id])])
    case_world.advance_case(case_id, CaseState.closed)
    after = [c for c in check_ins_of(case_world.app, report_id) if c.series is CheckInSeries.case_closed]
    assert [c.days for c in after] == [14, 30, 90] and {c.case_id for c in after} == {case_id}
