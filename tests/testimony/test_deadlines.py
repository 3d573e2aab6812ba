"""Whistleblower Directive clocks: acknowledge within 7 days, feedback within 3 months; overdue in SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring.testimony import operations, sealing
from monitoring.testimony.models import ReportChannel, ReportStatus
from tests.conftest import post_form
from tests.testimony.monitor_helpers import get_report, make_anonymous_report, make_report

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """Set the time seen by sealing (deadlines set) and by operations (deadlines checked)."""

    def set_time(moment: datetime) -> None:
        monkeypatch.setattr(sealing, "utcnow", lambda: moment)
        monkeypatch.setattr(operations, "utcnow", lambda: moment)

    set_time(T0)
    return set_time


@pytest.fixture
def reports(app, clock, monitor_with_keys):
    """A hotline report and a web report (clocks running) and an interview (no clocks), at T0."""
    hotline = make_report(app, monitor_with_keys, channel=ReportChannel.hotline)
    web, _receipt = make_anonymous_report(app, monitor_with_keys)
    interview = make_report(app, monitor_with_keys)
    return {"hotline": hotline, "web": web, "interview": interview}


def _overdue_ids(script) -> set[int]:
    return {item["id"] for item in script.get("/api/v1/worker-reports?overdue=true").get_json()["items"]}


def test_deadlines_are_set_for_direct_reports_only(app, reports):
    hotline = get_report(app, reports["hotline"])
    assert hotline.acknowledge_due_dt == T0 + timedelta(days=7)
    assert hotline.feedback_due_dt == T0 + timedelta(days=90)
    assert get_report(app, reports["web"]).acknowledge_due_dt == T0 + timedelta(days=7)
    interview = get_report(app, reports["interview"])
    assert interview.acknowledge_due_dt is None and interview.feedback_due_dt is None


def test_overdue_follows_the_clock(app, clock, api_client, client_for, monitor_with_keys, reports):
    script = api_client(monitor_with_keys)
    clock(T0 + timedelta(days=6, hours=23))
    assert _overdue_ids(script) == set()
    clock(T0 + timedelta(days=7, minutes=1))
    assert _overdue_ids(script) == {reports["hotline"], reports["web"]}
    items = {i["id"]: i for i in script.get("/api/v1/worker-reports").get_json()["items"]}
    assert items[reports["hotline"]]["acknowledge_overdue"] is True
    assert items[reports["interview"]]["acknowledge_overdue"] is False
    not_overdue = script.get("/api/v1/worker-reports?overdue=false").get_json()["items"]
    assert [i["id"] for i in not_overdue] == [reports["interview"]]

    client = client_for(monitor_with_keys)
    page = client.get("/testimony/reports?overdue=y").get_data(as_text=True)
    assert f"/testimony/reports/{reports['hotline']}" in page
    assert f"/testimony/reports/{reports['interview']}" not in page
    assert "overdue" in page
    home = client.get("/").get_data(as_text=True)
    assert "2 reports await acknowledgement" in home  # the interview owes none
    assert "Overdue: 2 not acknowledged in time, 0 without feedback in time" in home

    # Acknowledging stops the first clock; the feedback clock runs on.
    assert script.post(f"/api/v1/worker-reports/{reports['hotline']}/acknowledge").status_code == 200
    assert _overdue_ids(script) == {reports["web"]}
    clock(T0 + timedelta(days=91))
    assert _overdue_ids(script) == {reports["hotline"], reports["web"]}
    body = script.get(f"/api/v1/worker-reports/{reports['hotline']}").get_json()
    assert (body["acknowledge_overdue"], body["feedback_overdue"]) == (False, True)
    assert "Overdue: 1 not acknowledged in time, 2 without feedback in time" in client.get("/").get_data(
        as_text=True
    )

    # Feedback given (outside the system) stops it; a closed report is not overdue either.
    response = post_form(
        client, f"/testimony/reports/{reports['hotline']}/feedback", {}, form_page="/testimony/reports"
    )
    assert response.status_code == 302
    assert get_report(app, reports["hotline"]).feedback_dt == T0 + timedelta(days=91)
    script.post(f"/api/v1/worker-reports/{reports['web']}/status", json={"status": "closed"})
    assert _overdue_ids(script) == set()
    web = get_report(app, reports["web"])
    assert web.status is ReportStatus.closed and web.acknowledged_dt == T0 + timedelta(days=91)


def test_a_reply_marked_as_feedback_stops_the_clock(app, clock, api_client, monitor_with_keys, reports):
    script = api_client(monitor_with_keys)
    clock(T0 + timedelta(days=2))
    response = script.post(
        f"/api/v1/worker-reports/{reports['web']}/messages",
        json={"body": "We visited the site", "feedback": True},
    )
    assert response.status_code == 201
    web = get_report(app, reports["web"])
    assert web.status is ReportStatus.acknowledged
    assert web.acknowledged_dt == web.feedback_dt == T0 + timedelta(days=2)
    # Replying needs a receipt: a monitor's own interview has none.
    refused = script.post(f"/api/v1/worker-reports/{reports['interview']}/messages", json={"body": "Hello"})
    assert refused.status_code == 422
    assert "receipt" in refused.get_json()["error"]["message"]


def test_status_changes_follow_the_transitions(app, api_client, client_for, monitor_with_keys, reports):
    script = api_client(monitor_with_keys)
    report_id = reports["interview"]
    url = f"/api/v1/worker-reports/{report_id}"
    assert (
        script.post(f"{url}/status", json={"status": "investigating"}).get_json()["status"] == "investigating"
    )
    refused = script.post(f"{url}/status", json={"status": "acknowledged"})
    assert refused.status_code == 422 and "status" in refused.get_json()["error"]["errors"]
    assert script.post(f"{url}/acknowledge").status_code == 422
    assert script.post(f"{url}/status", json={"status": "closed"}).get_json()["status"] == "closed"
    assert script.post(f"{url}/status", json={"status": "investigating"}).status_code == 200  # reopened
    client = client_for(monitor_with_keys)
    page = client.get(f"/testimony/reports/{report_id}").get_data(as_text=True)
    response = post_form(
        client,
        f"/testimony/reports/{report_id}/status",
        {"status": "received"},
        form_page=f"/testimony/reports/{report_id}",
    )
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert "Acknowledge receipt" not in page
    assert get_report(app, report_id).status is ReportStatus.investigating
