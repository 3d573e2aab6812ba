"""`flask jobs run`: deadline reminders, overdue notices and escalations with a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from babel.dates import format_date
from babel.support import Translations
from flask import Flask
from sqlalchemy import select

from monitoring.accounts.models import Organisation, User
from monitoring.cases import operations
from monitoring.cases.jobs import JobsResult, run_notification_jobs
from monitoring.cases.models import ActionState, CaseState, CorrectiveAction
from monitoring.config import ROOT
from monitoring.core.db import db
from monitoring.notifications.models import MailState, Notification, NotificationKind
from tests.cases.helpers import CaseWorld
from tests.notifications.conftest import SmtpServer
from tests.notifications.helpers import make_action

# A day ahead of the real one, so the registry's contracts (from a year ago, open-ended) are in force.
DAY0 = date.today() + timedelta(days=10)


def moment(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


@contextmanager
def on(day: date) -> Iterator[None]:
    with time_machine.travel(moment(day), tick=False):
        yield


def run_jobs(app: Flask, day: date) -> JobsResult:
    with on(day), app.app_context():
        return run_notification_jobs()


def notifications_of(app: Flask, user: User, kind: NotificationKind) -> list[Notification]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(Notification)
                .where(Notification.user_id == user.id, Notification.kind == kind)
                .order_by(Notification.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.fixture
def requested(case_world: CaseWorld) -> tuple[int, date]:
    """A major finding's action requested on DAY0: its plan is due 14 days later."""
    with on(DAY0):
        case_id = case_world.case(severity="major")
        action_id = case_world.action(case_id)
    action = case_world.get(CorrectiveAction, action_id)
    assert action.plan_due_date == DAY0 + timedelta(days=14)
    return action_id, action.plan_due_date


def test_reminder_before_the_plan_deadline_once(
    app: Flask, case_world: CaseWorld, requested: tuple[int, date]
) -> None:
    action_id, due = requested
    days = app.config["DEADLINE_REMINDER_DAYS"]
    assert run_jobs(app, due - timedelta(days=days + 1)).reminders == 0
    assert notifications_of(app, case_world.supplier, NotificationKind.deadline_reminder) == []

    first = run_jobs(app, due - timedelta(days=days))
    again = run_jobs(app, due - timedelta(days=days))
    later = run_jobs(app, due)  # still the same deadline: not reminded again

    assert (first.reminders, again.reminders, later.reminders) == (1, 0, 0)
    (reminder,) = notifications_of(app, case_world.supplier, NotificationKind.deadline_reminder)
    assert reminder.action_id == action_id
    assert reminder.params["phase"] == "plan" and reminder.params["due_date"] == due.isoformat()
    assert reminder.dedupe_key == f"reminder:{action_id}:plan:{due.isoformat()}:{case_world.supplier.id}"
    # Only the supplier addressed is reminded, not the other supplier, buyers or monitors.
    for other in ("supplier_y", "affiliate", "monitor", "coordinator"):
        assert notifications_of(app, case_world.users[other], NotificationKind.deadline_reminder) == []


def test_overdue_notice_and_escalation_once(
    app: Flask, case_world: CaseWorld, requested: tuple[int, date]
) -> None:
    action_id, due = requested
    assert run_jobs(app, due).overdue == 0  # due today is not overdue yet

    first = run_jobs(app, due + timedelta(days=1))
    again = run_jobs(app, due + timedelta(days=2))

    assert (first.overdue, first.escalated) == (1, 1)
    assert (again.overdue, again.escalated) == (0, 0)
    (notice,) = notifications_of(app, case_world.supplier, NotificationKind.deadline_overdue)
    assert notice.action_id == action_id and notice.params["due_date"] == due.isoformat()
    assert notifications_of(app, case_world.supplier_y, NotificationKind.deadline_overdue) == []
    escalations = notifications_of(app, case_world.coordinator, NotificationKind.action_escalated)
    assert [n.action_id for n in escalations] == [action_id]
    assert case_world.get(CorrectiveAction, action_id).escalated_dt is not None
    assert notifications_of(app, case_world.supplier, NotificationKind.action_escalated) == []


def test_next_phase_has_its_own_reminder(
    app: Flask, case_world: CaseWorld, requested: tuple[int, date]
) -> None:
    action_id, due = requested
    days = app.config["DEADLINE_REMINDER_DAYS"]
    run_jobs(app, due - timedelta(days=days))
    with on(due - timedelta(days=1)):
        case_world.advance_action(action_id, ActionState.plan_submitted)
    action = case_world.get(CorrectiveAction, action_id)
    # The plan is in: its deadline no longer counts, so nothing is overdue after it.
    assert run_jobs(app, due + timedelta(days=1)).overdue == 0
    closure_reminder = run_jobs(app, action.closure_due_date - timedelta(days=days))
    assert closure_reminder.reminders == 1
    reminders = notifications_of(app, case_world.supplier, NotificationKind.deadline_reminder)
    assert [r.params["phase"] for r in reminders] == ["plan", "closure"]
    assert reminders[1].params["due_date"] == action.closure_due_date.isoformat()


def test_a_changed_deadline_is_reminded_again(
    app: Flask, case_world: CaseWorld, requested: tuple[int, date]
) -> None:
    action_id, due = requested
    days = app.config["DEADLINE_REMINDER_DAYS"]
    run_jobs(app, due - timedelta(days=days))
    new_due = due + timedelta(days=7)
    with on(due - timedelta(days=days)), app.app_context():
        action = db.session.get(CorrectiveAction, action_id)
        operations.change_deadlines(
            db.session.get(User, case_world.coordinator.id),
            action,
            new_due,
            action.closure_due_date,
            "The supplier asked for a week more.",
        )
        db.session.commit()
    assert run_jobs(app, new_due - timedelta(days=days)).reminders == 1
    reminders = notifications_of(app, case_world.supplier, NotificationKind.deadline_reminder)
    assert [r.params["due_date"] for r in reminders] == [due.isoformat(), new_due.isoformat()]


def test_no_reminders_without_a_deadline_in_force_or_in_closed_cases(
    app: Flask, case_world: CaseWorld
) -> None:
    due = DAY0 + timedelta(days=2)
    for state, case_state in (
        (ActionState.implemented, CaseState.verification),
        (ActionState.verified, CaseState.verification),
        (ActionState.requested, CaseState.closed),
    ):
        make_action(
            app,
            site_id=case_world.site,
            monitor_org_id=case_world.orgs["monitors"],
            supplier_id=case_world.orgs["supplier_x"],
            plan_due=due,
            closure_due=due,
            state=state,
            case_state=case_state,
        )
    result = run_jobs(app, DAY0)
    later = run_jobs(app, due + timedelta(days=5))
    assert (result.reminders, later.overdue, later.escalated) == (0, 0, 0)


def test_inactive_supplier_users_are_not_reminded(
    app: Flask, case_world: CaseWorld, requested: tuple[int, date]
) -> None:
    _action_id, due = requested
    with app.app_context():
        db.session.get(Organisation, case_world.orgs["supplier_x"]).is_active = False
        db.session.commit()
    assert run_jobs(app, due - timedelta(days=1)).reminders == 0


PLAN_DUE = "The corrective-action plan of %(supplier)s in case %(reference)s (%(site)s) is due on %(date)s."


@pytest.mark.parametrize("locale", ["sv", "cs"])
def test_reminder_mail_arrives_in_the_suppliers_language(
    app: Flask, case_world: CaseWorld, requested: tuple[int, date], smtp_server: SmtpServer, locale: str
) -> None:
    """A Swedish or a Czech supplier reads its reminder in its own language, words and dates."""
    _action_id, due = requested
    with app.app_context():
        db.session.get(User, case_world.supplier.id).locale = locale
        db.session.commit()
    result = run_jobs(app, due - timedelta(days=1))
    assert result.reminders == 1 and result.delivery.sent >= 1
    (row,) = notifications_of(app, case_world.supplier, NotificationKind.deadline_reminder)
    assert row.mail_state is MailState.sent
    (reminder,) = [m for m in smtp_server.messages if m["Message-ID"].startswith(f"<notification.{row.id}.")]
    assert reminder["To"].addresses[0].addr_spec == case_world.supplier.email
    assert reminder["Content-Language"] == locale
    body = reminder.get_body(("plain",)).get_content()
    assert format_date(due, "long", locale=locale) in body
    # The sentence comes from the locale's own catalog: its words up to the first placeholder.
    translated = Translations.load(str(ROOT / "translations"), [locale]).gettext(PLAN_DUE)
    assert translated != PLAN_DUE
    assert translated.split("%(")[0].strip() in body
    assert f"http://127.0.0.1:5000/actions/{row.action_id}" in body


def test_flask_jobs_run_reports_the_notification_jobs(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "deadline reminders" in result.output and "overdue notices" in result.output


def test_a_backlog_is_handled_in_batches_of_its_own_transaction(
    app: Flask, case_world: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitoring.cases import jobs

    monkeypatch.setattr(jobs, "BATCH", 2)
    commits: list[int] = []
    real_commit = db.session.commit

    def counting_commit() -> None:
        commits.append(1)
        real_commit()

    with on(DAY0):
        action_ids = [case_world.action(case_world.case(severity="major")) for _ in range(5)]
    overdue_day = DAY0 + timedelta(days=15)  # every plan (due after 14 days) is overdue
    with on(overdue_day), app.app_context():
        monkeypatch.setattr(db.session, "commit", counting_commit)
        result = run_notification_jobs(deliver=False)
    assert (result.overdue, result.escalated) == (5, 5)
    # 5 actions in batches of 2: commits within the notices and after each escalation batch.
    assert len(commits) >= 2 + 3
    with app.app_context():
        escalated = db.session.scalars(
            select(CorrectiveAction.escalated_dt).where(CorrectiveAction.id.in_(action_ids))
        ).all()
    assert all(dt is not None for dt in escalated)
    assert run_jobs(app, overdue_day).escalated == 0
