"""Words of notifications: every kind in every language, metadata only, escaped HTML."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select

from monitoring.accounts.models import User, UserRole
from monitoring.cases.models import CaseState, CorrectiveAction, Finding
from monitoring.config import LOCALES
from monitoring.core.db import db
from monitoring.notifications import render
from monitoring.notifications.models import Notification, NotificationKind
from tests.cases.helpers import CaseWorld
from tests.notifications.helpers import queue

PARAMS = {
    "reference": "C-2026-0042",
    "site": "Plant <b>&</b> Co",
    "supplier": "Acme Electronics",
    "phase": "closure",
    "due_date": "2026-03-05",
    "plan_due_date": "2026-03-05",
    "closure_due_date": "2026-09-01",
    "to_state": "remediation",
    "outcome": "resolved",
    "visibility": "parties",
}

# Kinds about an organisation rather than a case: their words are tested with their feature.
NOT_ABOUT_CASES = {
    NotificationKind.coverage_change,
    NotificationKind.membership_requested,
    # Worker reports and routes: tests/testimony/test_monitor_alerts, test_clocks, test_keyless_country.
    NotificationKind.report_received,
    NotificationKind.survey_imported,
    NotificationKind.worker_message,
    NotificationKind.report_clock_reminder,
    NotificationKind.report_clock_overdue,
    NotificationKind.report_clock_escalated,
    # Retaliation alerts: tests/testimony/test_retaliation_watch.py.
    NotificationKind.retaliation_alert,
    NotificationKind.retaliation_alert_overdue,
    NotificationKind.retaliation_alert_escalated,
    NotificationKind.coverage_without_key,
    # Imports: tests/jobs/test_facility_jobs.py.
    NotificationKind.import_finished,
    # Disclosure confirmations: tests/supplychain/test_disclosure_confirmation.py.
    NotificationKind.disclosure_confirmation_overdue,
    NotificationKind.disclosure_confirmation_escalated,
    # Circularity reports: tests/circularity/test_notifications.py.
    NotificationKind.circularity_report_submitted,
    NotificationKind.circularity_report_queried,
    NotificationKind.circularity_report_confirmed,
}
CASE_KINDS = [kind for kind in NotificationKind if kind not in NOT_ABOUT_CASES]


def _load(app: Flask, notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    assert notification is not None
    return notification


@pytest.mark.parametrize("locale", LOCALES)
def test_every_kind_renders_in_every_language(
    app: Flask, create_user: Callable[..., User], locale: str
) -> None:
    user = create_user(UserRole.monitor, locale=locale)
    ids = [queue(app, [user], kind, params=PARAMS)[0] for kind in CASE_KINDS]
    with app.app_context():
        for notification_id in ids:
            notification = _load(app, notification_id)
            mail = render.render_mail(notification)
            assert mail.locale == locale
            assert "C-2026-0042" in mail.subject and "C-2026-0042" in mail.text
            assert "\n" not in mail.subject
            with force_locale(locale):
                line = render.line(notification)
                assert notification.kind.title in mail.subject
            assert line in mail.text and "\n" not in line
            assert "Plant <b>&</b> Co" in line  # plain text keeps it as it is ...
            assert (
                "Plant &lt;b&gt;&amp;&lt;/b&gt; Co" in mail.html and "<b>&</b>" not in mail.html
            )  # ... HTML escapes
            assert "http://127.0.0.1:5000/notifications/" in mail.text


def test_kind_specific_details(app: Flask, create_user: Callable[..., User]) -> None:
    user = create_user(UserRole.supplier, locale="en")
    params = {**PARAMS, "site": "Plant"}
    with app.app_context():
        texts = {}
        for kind in CASE_KINDS:
            (notification_id,) = queue(app, [user], kind, params=params)
            texts[kind] = render.render_mail(_load(app, notification_id)).text
    assert "March 5, 2026" in texts[NotificationKind.action_requested]
    assert "September 1, 2026" in texts[NotificationKind.action_requested]
    assert "completed by March 5, 2026" in texts[NotificationKind.deadline_reminder]
    assert "overdue" in texts[NotificationKind.deadline_overdue]
    assert "Remediation" in texts[NotificationKind.case_state_changed]
    assert "Resolved" in texts[NotificationKind.case_closed]
    assert "Parties" in texts[NotificationKind.message_posted]
    assert "March 5, 2026" in texts[NotificationKind.action_escalated]


def test_plan_phase_wording_differs(app: Flask, create_user: Callable[..., User]) -> None:
    user = create_user(UserRole.supplier, locale="en")
    (plan,) = queue(app, [user], NotificationKind.deadline_reminder, params={**PARAMS, "phase": "plan"})
    (closure,) = queue(app, [user], NotificationKind.deadline_reminder, params=PARAMS)
    with app.app_context(), force_locale("en"):
        assert "plan" in render.line(_load(app, plan))
        assert render.line(_load(app, plan)) != render.line(_load(app, closure))


def test_missing_params_fall_back(app: Flask, create_user: Callable[..., User]) -> None:
    user = create_user(UserRole.coordinator)
    (notification_id,) = queue(app, [user], NotificationKind.case_opened)
    with app.app_context():
        mail = render.render_mail(_load(app, notification_id))
        assert render.MISSING in mail.text
        assert mail.subject == NotificationKind.case_opened.title


def test_mails_of_a_real_case_carry_metadata_only(
    app: Flask, case_world: CaseWorld, create_user: Callable[..., User]
) -> None:
    case_id = case_world.case(severity="major")
    case_world.action(case_id, request="Repay every recruitment fee to the 40 workers by May.")
    case_world.advance_case(case_id, CaseState.remediation)
    with app.app_context():
        notifications = list(db.session.scalars(select(Notification).where(Notification.case_id == case_id)))
        finding = db.session.scalars(select(Finding).where(Finding.case_id == case_id)).first()
        action = db.session.scalars(select(CorrectiveAction).where(CorrectiveAction.case_id == case_id)).one()
        secrets = [finding.summary, action.request]
        kinds = {n.kind for n in notifications}
        assert {NotificationKind.case_opened, NotificationKind.action_requested} <= kinds
        for notification in notifications:
            mail = render.render_mail(notification)
            for secret in secrets:
                assert secret not in mail.text and secret not in mail.html and secret not in mail.subject
            assert action.case.reference in mail.subject
        supplier_mail = next(
            render.render_mail(n)
            for n in notifications
            if n.user_id == case_world.supplier.id and n.kind is NotificationKind.action_requested
        )
        assert f"/actions/{action.id}" in supplier_mail.text
        assert action.supplier.name in supplier_mail.text
