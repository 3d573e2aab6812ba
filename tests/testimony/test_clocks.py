"""The clocks of direct reports: reminders before they run out, escalation after, each once.

Only web and hotline reports carry the acknowledgement (7 days) and feedback (3 months) clocks.
``flask jobs run`` reminds the report's monitors 2 days before a clock runs out and escalates an
overdue one to every member and, as metadata only, to the coordinators. The monitor's start page
counts only the reports that really owe an acknowledgement.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from monitoring.accounts.models import User, UserRole
from monitoring.core.db import db
from monitoring.notifications import render
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.testimony import operations
from monitoring.testimony.jobs import run_clock_jobs
from monitoring.testimony.models import ReportChannel, ReportClockNotice, WorkerReport
from tests.testimony.monitor_helpers import make_anonymous_report, make_report

DAY0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KINDS = (
    NotificationKind.report_clock_reminder,
    NotificationKind.report_clock_overdue,
    NotificationKind.report_clock_escalated,
)


def at(day: int, hours: int = 0) -> time_machine.travel:
    return time_machine.travel(DAY0 + timedelta(days=day, hours=hours), tick=False)


@pytest.fixture
def people(app, monitor_with_keys, create_user) -> dict[str, User]:
    with app.app_context():
        organisation = db.session.get(User, monitor_with_keys.id).organisation
    return {
        "recorder": monitor_with_keys,
        "colleague": create_user(UserRole.monitor, organisation=organisation),
        "coordinator": create_user(UserRole.coordinator),
        "stranger": create_user(UserRole.monitor),
        "admin": create_user(UserRole.admin),
    }


@pytest.fixture
def reports(app, people) -> dict[str, int]:
    """Filed on day 0: a hotline call, a web report, an interview and a survey row."""
    recorder = people["recorder"]
    with at(0):
        return {
            "hotline": make_report(app, recorder, channel=ReportChannel.hotline),
            "web": make_anonymous_report(app, recorder)[0],
            "interview": make_report(app, recorder),
            "survey": make_report(app, recorder, channel=ReportChannel.survey),
        }


def run(app, day: int, hours: int = 0) -> list[Notification]:
    """Run the testimony step of ``flask jobs run`` on that day; the notifications it queued."""
    with app.app_context():
        before = db.session.scalar(select(func.max(Notification.id))) or 0
    with at(day, hours), app.app_context():
        run_clock_jobs()
        return list(
            db.session.scalars(select(Notification).where(Notification.id > before).order_by(Notification.id))
        )


def told(rows: list[Notification]) -> Counter[tuple[str, int, int | None, str]]:
    """(kind, recipient, report, clock) of each notification."""
    return Counter(
        (
            n.kind.value,
            n.user_id,
            n.params.get("report_id") or n.params.get("report_number"),
            n.params["clock"],
        )
        for n in rows
        if n.kind in KINDS
    )


def test_a_frozen_clock_shows_the_reminder_on_day_5_and_the_escalation_on_day_8_each_once(
    app, people, reports
):
    recorder, colleague, coordinator = people["recorder"].id, people["colleague"].id, people["coordinator"].id
    hotline, web = reports["hotline"], reports["web"]
    assert run(app, 4) == []
    day5 = told(run(app, 5))
    assert day5 == Counter(
        {
            ("report_clock_reminder", recorder, hotline, "acknowledge"): 1,  # who recorded the call
            ("report_clock_reminder", recorder, web, "acknowledge"): 1,  # nobody did: every member
            ("report_clock_reminder", colleague, web, "acknowledge"): 1,
        }
    )
    assert run(app, 5, hours=3) == [] and run(app, 6) == [] and run(app, 7) == []
    day8 = told(run(app, 8))
    assert day8 == Counter(
        {
            ("report_clock_overdue", recorder, hotline, "acknowledge"): 1,
            ("report_clock_overdue", colleague, hotline, "acknowledge"): 1,
            ("report_clock_overdue", recorder, web, "acknowledge"): 1,
            ("report_clock_overdue", colleague, web, "acknowledge"): 1,
            ("report_clock_escalated", coordinator, hotline, "acknowledge"): 1,
            ("report_clock_escalated", coordinator, web, "acknowledge"): 1,
        }
    )
    assert run(app, 9) == []
    # Interviews and survey rows carry no clock; nobody outside is told; what was sent is recorded.
    everyone = {key[2] for key in day5 + day8}
    assert reports["interview"] not in everyone and reports["survey"] not in everyone
    assert people["stranger"].id not in {key[1] for key in day5 + day8}
    assert people["admin"].id not in {key[1] for key in day5 + day8}
    with app.app_context():
        notices = db.session.scalars(select(ReportClockNotice).order_by(ReportClockNotice.id)).all()
        assert [(n.report_id, n.clock.value, n.stage.value, n.recipients) for n in notices] == [
            (hotline, "acknowledge", "reminder", 1),
            (web, "acknowledge", "reminder", 2),
            (hotline, "acknowledge", "escalation", 3),
            (web, "acknowledge", "escalation", 3),
        ]


def test_acknowledging_stops_the_clock_and_feedback_has_its_own(app, people, reports, api_client):
    run(app, 5)
    with at(6):
        script = api_client(people["recorder"])
        assert script.post(f"/api/v1/worker-reports/{reports['web']}/acknowledge").status_code == 200
    assert {key[2] for key in told(run(app, 8))} == {reports["hotline"]}
    # Feedback: due on day 90, reminded on day 88, escalated on day 91 (the report is still open).
    assert {(k[0], k[2], k[3]) for k in told(run(app, 88))} == {
        ("report_clock_reminder", reports["hotline"], "feedback"),
        ("report_clock_reminder", reports["web"], "feedback"),
    }
    with at(89), app.app_context():
        recorder = db.session.get(User, people["recorder"].id)
        operations.record_feedback(recorder, db.session.get(WorkerReport, reports["hotline"]))
        db.session.commit()
    assert {(k[0], k[2]) for k in told(run(app, 91))} == {
        ("report_clock_overdue", reports["web"]),
        ("report_clock_escalated", reports["web"]),
    }


def test_escalations_to_coordinators_carry_metadata_and_no_link_to_the_report(app, people, reports):
    rows = run(app, 8)
    escalated = [n for n in rows if n.kind is NotificationKind.report_clock_escalated]
    assert escalated and all("report_id" not in n.params for n in escalated)
    with app.test_request_context("/"):
        notification = db.session.get(Notification, escalated[0].id)
        mail = render.render_mail(notification)
        organisation = db.session.get(User, people["recorder"].id).organisation.name
    assert render.target_path(notification) == "/notifications/"
    assert organisation in mail.text and "/testimony/reports/" not in mail.text
    assert "Sunday" not in mail.text and "Somsri" not in mail.text  # nothing of the testimony or identity
    member_mail = next(n for n in rows if n.kind is NotificationKind.report_clock_overdue)
    with app.test_request_context("/"):
        text = render.render_mail(db.session.get(Notification, member_mail.id)).text
    assert f"/testimony/reports/{member_mail.params['report_id']}" in text
    assert "was to be acknowledged by March 9, 2026; this is overdue" in text


def test_flask_jobs_run_sends_the_reminders(app, people, reports):
    with at(5):
        result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "worker reports: 2 deadline reminders and escalations" in result.output
    with app.app_context():
        kinds = db.session.scalars(select(Notification.kind)).all()
    assert kinds.count(NotificationKind.report_clock_reminder) == 3


def test_the_start_page_counts_only_reports_that_owe_an_acknowledgement(
    app, people, reports, client_for, api_client
):
    with at(1):
        home = client_for(people["recorder"]).get("/").get_data(as_text=True)
        assert "2 reports await acknowledgement" in home  # the hotline call and the web report
        assert "awaiting_acknowledgement=y" in home
        page = client_for(people["recorder"]).get("/testimony/reports?awaiting_acknowledgement=y")
        page_ids = {int(i) for i in re.findall(r'<tr data-id="(\d+)"', page.get_data(as_text=True))}
        items = api_client(people["recorder"]).get("/api/v1/worker-reports?awaiting_acknowledgement=true")
        api_ids = {item["id"] for item in items.get_json()["items"]}
    assert page_ids == api_ids == {reports["hotline"], reports["web"]}
