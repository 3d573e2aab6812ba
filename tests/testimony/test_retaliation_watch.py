"""Retaliation watch: check-ins on the worker's follow-up page, alerts, escalation, risk after intake."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from monitoring.accounts.models import UserRole
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.notifications.render import render_mail
from monitoring.testimony import operations_retaliation
from monitoring.testimony.jobs import run_retaliation_jobs
from monitoring.testimony.models import ReportMessage, RetaliationRisk, WorkerReport
from monitoring.testimony.models_retaliation import AlertSource, AlertState, CheckInAnswer, CheckInSeries
from tests.testimony.monitor_helpers import make_report, page_csrf
from tests.testimony.retaliation_helpers import (
    ASKED,
    alerts_of,
    answer,
    check_ins_of,
    file_web_report,
    flag,
    follow_up,
    shown_check_in,
)

DAY0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
COMMENT = "CANARY-retaliation-comment: my hours were cut after I reported"


def on_day(day: float) -> time_machine.travel:
    return time_machine.travel(DAY0 + timedelta(days=day), tick=False)


def notifications(app, kind: NotificationKind) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))


@pytest.fixture
def filed(app, monitor_with_keys):
    with on_day(0):
        return file_web_report(app, monitor_with_keys)


# --- check-ins on schedule ------------------------------------------------------------------


def test_check_ins_appear_on_the_configured_days(app, filed):
    report_id, receipt = filed
    client = app.test_client()
    planned = check_ins_of(app, report_id)
    assert [c.days for c in planned] == [14, 30, 90]
    assert {c.series for c in planned} == {CheckInSeries.report_filed}
    with on_day(13.9):
        page = follow_up(client, receipt)
        assert ASKED not in page and shown_check_in(page) is None
        assert "Tell the monitors I am being punished" in page  # the flag is there at any time
    with on_day(14):
        page = follow_up(client, receipt)
        assert ASKED in page and shown_check_in(page) == planned[0].id
        response = answer(client, receipt, "no")
        assert response.status_code == 200
        assert "Your answer was sent to the monitors" in response.get_data(as_text=True)
        assert shown_check_in(follow_up(client, receipt)) is None  # answered: gone
    with on_day(29):
        assert shown_check_in(follow_up(client, receipt)) is None
    with on_day(30):
        assert shown_check_in(follow_up(client, receipt)) == planned[1].id
    with on_day(95):  # the 30-day one was never answered: the newest due one is asked
        assert shown_check_in(follow_up(client, receipt)) == planned[2].id
    answered = check_ins_of(app, report_id)
    assert answered[0].answer is CheckInAnswer.no and answered[1].answer is None
    assert alerts_of(app, report_id) == []  # a "no" raises nothing


def test_a_new_series_follows_a_case_closure(app, filed):
    report_id, receipt = filed
    with on_day(100), app.app_context():
        assert operations_retaliation.schedule_after_closure([report_id], 77, DAY0 + timedelta(days=100)) == 3
        # The same closure again plans nothing twice.
        assert operations_retaliation.schedule_after_closure([report_id], 77, DAY0 + timedelta(days=100)) == 0
        db.session.commit()
    client = app.test_client()
    first = [c for c in check_ins_of(app, report_id) if c.series is CheckInSeries.report_filed]
    with on_day(113):  # until the new series begins, the first series' last check-in is asked
        assert shown_check_in(follow_up(client, receipt)) == first[-1].id
    after = [c for c in check_ins_of(app, report_id) if c.series is CheckInSeries.case_closed]
    assert [c.days for c in after] == [14, 30, 90] and {c.case_id for c in after} == {77}
    with on_day(114):
        assert shown_check_in(follow_up(client, receipt)) == after[0].id


def test_interviews_have_no_check_ins(app, monitor_with_keys):
    report_id = make_report(app, monitor_with_keys)
    with app.app_context():
        report = db.session.get(WorkerReport, report_id)
        made = operations_retaliation.schedule_check_ins(report, CheckInSeries.report_filed, DAY0)
    assert made == []


def test_check_in_days_are_configurable(app, monitor_with_keys):
    app.config["RETALIATION_CHECKIN_DAYS"] = "7, 60"
    try:
        with on_day(0):
            report_id, _receipt = file_web_report(app, monitor_with_keys)
    finally:
        app.config["RETALIATION_CHECKIN_DAYS"] = "14,30,90"
    assert [c.days for c in check_ins_of(app, report_id)] == [7, 60]


def test_a_bad_check_in_setting_is_refused_at_start_up():
    from monitoring.config import ConfigError, retaliation_checkin_days

    assert retaliation_checkin_days("90, 14,30") == (14, 30, 90)
    for bad in ("two weeks", "0,14", "14,-3"):
        with pytest.raises(ConfigError):
            retaliation_checkin_days(bad)


# --- a "yes" raises an alert ----------------------------------------------------------------


def test_yes_alerts_the_monitors_with_metadata_only(app, filed, monitor_with_keys, create_user):
    report_id, receipt = filed
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    client = app.test_client()
    with on_day(14):
        response = answer(client, receipt, "yes", COMMENT)
    assert response.status_code == 200
    assert "The monitors were told" in response.get_data(as_text=True)
    (alert,) = alerts_of(app, report_id)
    assert alert.source is AlertSource.check_in and alert.state is AlertState.open
    assert alert.check_in_id == check_ins_of(app, report_id)[0].id and alert.message_id is not None
    told = notifications(app, NotificationKind.retaliation_alert)
    assert {n.user_id for n in told} == {monitor_with_keys.id, colleague.id}
    with app.app_context():
        # The comment is sealed like any worker reply, and no notification or e-mail carries it.
        message = db.session.get(ReportMessage, alert.message_id)
        assert message.from_worker and COMMENT.encode() not in message.body_sealed
        note = db.session.get(Notification, told[0].id)
        assert note.params == {"alert_id": alert.id, "report_number": report_id, "country": "TH"}
        mail = render_mail(note)
        assert "CANARY" not in mail.text + mail.html + mail.subject
        assert f"/testimony/retaliation-alerts/{alert.id}" in mail.text
        assert f"report {report_id}" in mail.text
    # The worker reads their own comment back in the conversation.
    assert COMMENT in follow_up(client, receipt)


def test_a_flag_raises_one_alert_while_it_is_open(app, filed):
    report_id, receipt = filed
    client = app.test_client()
    with on_day(1):
        assert flag(client, receipt).status_code == 200
        assert flag(client, receipt, "again: they moved me to nights").status_code == 200
    (alert,) = alerts_of(app, report_id)
    assert alert.source is AlertSource.flag and alert.message_id is None
    assert len(notifications(app, NotificationKind.retaliation_alert)) == 1
    assert len(notifications(app, NotificationKind.worker_message)) == 1  # the second flag's comment


def test_bad_worker_input_is_explained(app, filed):
    report_id, receipt = filed
    client = app.test_client()
    with on_day(14):
        page = follow_up(client, receipt)
        check_in = shown_check_in(page)
        data = {"receipt": receipt, "check_in": str(check_in), "csrf_token": page_csrf(page)}
        response = client.post("/report/follow-up/check-in?lang=en", data=data)  # no answer
        assert response.status_code == 422
        assert "Please choose an answer." in response.get_data(as_text=True)
        # A check-in that is not the one asked now.
        response = client.post(
            "/report/follow-up/check-in?lang=en", data={**data, "answer": "yes", "check_in": "999999"}
        )
        assert response.status_code == 422
        assert "no longer open" in response.get_data(as_text=True)
        response = client.post(
            "/report/follow-up/check-in?lang=en", data={**data, "answer": "yes", "comment": "x" * 10001}
        )
        assert response.status_code == 422
        # A wrong receipt finds nothing.
        response = client.post("/report/follow-up/retaliation?lang=en", data={**data, "receipt": "1" * 20})
        assert "No report was found" in response.get_data(as_text=True)
    assert alerts_of(app, report_id) == []


# --- escalation -----------------------------------------------------------------------------


def test_an_unhandled_alert_is_escalated_once(app, filed, monitor_with_keys, coordinator):
    _report_id, receipt = filed
    with on_day(1):
        flag(app.test_client(), receipt)
    with on_day(3.9), app.app_context():
        assert run_retaliation_jobs().startswith("retaliation watch: 0 ")
    with on_day(4), app.app_context():
        assert run_retaliation_jobs().startswith("retaliation watch: 1 ")
    with on_day(5), app.app_context():
        assert run_retaliation_jobs().startswith("retaliation watch: 0 ")
    assert [n.user_id for n in notifications(app, NotificationKind.retaliation_alert_overdue)] == [
        monitor_with_keys.id
    ]
    escalated = notifications(app, NotificationKind.retaliation_alert_escalated)
    assert coordinator.id in {n.user_id for n in escalated}
    assert all("alert_id" not in n.params for n in escalated)  # no link to what is not theirs


def test_a_handled_alert_is_not_escalated(app, filed, monitor_with_keys, api_client):
    report_id, receipt = filed
    with on_day(1):
        flag(app.test_client(), receipt)
    (alert,) = alerts_of(app, report_id)
    script = api_client(monitor_with_keys)
    response = script.post(f"/api/v1/retaliation-alerts/{alert.id}/handle")
    assert response.status_code == 200 and response.get_json()["state"] == "handled"
    assert script.post(f"/api/v1/retaliation-alerts/{alert.id}/handle").status_code == 404
    with on_day(10), app.app_context():
        assert run_retaliation_jobs().startswith("retaliation watch: 0 ")


# --- the monitors' pages and API, and who sees what -----------------------------------------


def test_monitors_see_and_handle_alerts_on_pages_and_api(
    app, filed, monitor_with_keys, client_for, api_client
):
    report_id, receipt = filed
    with on_day(1):
        flag(app.test_client(), receipt, COMMENT)
    (alert,) = alerts_of(app, report_id)
    client = client_for(monitor_with_keys)
    # The main menu leads a monitor to the alerts from every page.
    assert 'href="/testimony/retaliation-alerts"' in client.get("/").get_data(as_text=True)
    listing = client.get("/testimony/retaliation-alerts").get_data(as_text=True)
    assert f"/testimony/retaliation-alerts/{alert.id}" in listing
    assert 'href="/testimony/retaliation-alerts" aria-current="page"' in listing
    handled = client.get("/testimony/retaliation-alerts?state=handled").get_data(as_text=True)
    assert "No alerts match." in handled
    page = client.get(f"/testimony/retaliation-alerts/{alert.id}").get_data(as_text=True)
    assert "File the retaliation finding" in page and COMMENT not in page
    report_page = client.get(f"/testimony/reports/{report_id}").get_data(as_text=True)
    assert f'data-alert-id="{alert.id}"' in report_page and "Retaliation watch" in report_page
    script = api_client(monitor_with_keys)
    body = script.get("/api/v1/retaliation-alerts?state=open").get_json()
    assert [item["id"] for item in body["items"]] == [alert.id]
    assert body["items"][0]["comment"] is True and COMMENT not in str(body)
    check_ins = script.get(f"/api/v1/worker-reports/{report_id}/check-ins").get_json()
    assert [c["days"] for c in check_ins] == [14, 30, 90]
    response = client.post(
        f"/testimony/retaliation-alerts/{alert.id}/handle", data={"csrf_token": page_csrf(page)}
    )
    assert response.status_code == 302
    assert alerts_of(app, report_id)[0].state is AlertState.handled
    assert script.get("/api/v1/retaliation-alerts?state=open").get_json()["items"] == []


@pytest.mark.parametrize("role", ["coordinator", "admin", "affiliate", "supplier", "other_monitor"])
def test_no_one_else_sees_alerts(app, filed, role, create_user, client_for, api_client):
    report_id, receipt = filed
    with on_day(1):
        flag(app.test_client(), receipt)
    (alert,) = alerts_of(app, report_id)
    user = create_user(UserRole.monitor) if role == "other_monitor" else create_user(UserRole(role))
    script = api_client(user)
    assert script.get(f"/api/v1/retaliation-alerts/{alert.id}").status_code == 404
    assert script.post(f"/api/v1/retaliation-alerts/{alert.id}/handle").status_code == 404
    assert script.get(f"/api/v1/worker-reports/{report_id}/check-ins").status_code == 404
    risk = {"retaliation_risk": "high"}
    assert script.post(f"/api/v1/worker-reports/{report_id}/retaliation-risk", json=risk).status_code == 404
    listing = script.get("/api/v1/retaliation-alerts")
    assert listing.status_code == 404 or listing.get_json()["items"] == []
    client = client_for(user)
    assert client.get(f"/testimony/retaliation-alerts/{alert.id}").status_code == 404
    menu_link = 'href="/testimony/retaliation-alerts"' in client.get("/").get_data(as_text=True)
    assert menu_link is (role == "other_monitor")  # a monitor's menu leads to its own alerts only
    assert alerts_of(app, report_id)[0].state is AlertState.open


# --- retaliation risk after intake ----------------------------------------------------------


def test_risk_changes_after_intake_audited_on_page_and_api(app, monitor_with_keys, client_for, api_client):
    report_id = make_report(app, monitor_with_keys)  # intake said "medium"
    script = api_client(monitor_with_keys)
    response = script.post(
        f"/api/v1/worker-reports/{report_id}/retaliation-risk", json={"retaliation_risk": "high"}
    )
    assert response.status_code == 200 and response.get_json()["retaliation_risk"] == "high"
    client = client_for(monitor_with_keys)
    page = client.get(f"/testimony/reports/{report_id}").get_data(as_text=True)
    response = client.post(
        f"/testimony/reports/{report_id}/retaliation-risk",
        data={"retaliation_risk": "low", "csrf_token": page_csrf(page)},
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(WorkerReport, report_id).retaliation_risk is RetaliationRisk.low
        entries = list(
            db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "report.retaliation_risk")
                .order_by(AuditEntry.id)
            )
        )
    assert [e.data_dict["retaliation_risk"] for e in entries][-2:] == [["medium", "high"], ["high", "low"]]
    # Bad input: a clear error, nothing changed.
    bad = script.post(
        f"/api/v1/worker-reports/{report_id}/retaliation-risk", json={"retaliation_risk": "huge"}
    )
    assert bad.status_code == 422 and "retaliation_risk" in bad.get_json()["error"]["errors"]
    response = client.post(
        f"/testimony/reports/{report_id}/retaliation-risk",
        data={"retaliation_risk": "huge", "csrf_token": page_csrf(page)},
    )
    assert response.status_code == 422
    # Null: not assessed.
    cleared = script.post(
        f"/api/v1/worker-reports/{report_id}/retaliation-risk", json={"retaliation_risk": None}
    )
    assert cleared.status_code == 200 and cleared.get_json()["retaliation_risk"] is None


def test_the_report_list_filters_by_risk_on_page_and_api(app, monitor_with_keys, client_for, api_client):
    ids = {
        risk: make_report(app, monitor_with_keys, retaliation_risk=risk)
        for risk in (RetaliationRisk.low, RetaliationRisk.high)
    }
    script = api_client(monitor_with_keys)
    client = client_for(monitor_with_keys)
    for risk, report_id in ids.items():
        api_ids = {
            i["id"]
            for i in script.get(f"/api/v1/worker-reports?retaliation_risk={risk.value}&limit=200").get_json()[
                "items"
            ]
        }
        page = client.get(f"/testimony/reports?retaliation_risk={risk.value}").get_data(as_text=True)
        page_ids = {int(x) for x in re.findall(r'<tr data-id="(\d+)"', page)}
        assert report_id in api_ids and api_ids == page_ids
        other = ids[RetaliationRisk.high if risk is RetaliationRisk.low else RetaliationRisk.low]
        assert other not in api_ids
    assert script.get("/api/v1/worker-reports?retaliation_risk=huge").status_code == 422
