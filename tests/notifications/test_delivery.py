"""E-mail delivery over a real local SMTP server: language, headers, retries, give-up, skipping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select

from monitoring.accounts.models import User, UserRole
from monitoring.core.db import db
from monitoring.notifications import outbox
from monitoring.notifications.delivery import deliver_pending, retry_delay
from monitoring.notifications.models import MailState, Notification, NotificationKind
from tests.notifications.conftest import SmtpServer
from tests.notifications.helpers import queue

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PARAMS = {
    "reference": "C-2026-0042",
    "site": "Assembly Plant Shenzhen",
    "supplier": "Acme Electronics",
    "phase": "plan",
    "due_date": "2026-03-05",
}


def _rows(app: Flask, ids: list[int]) -> list[Notification]:
    with app.app_context():
        rows = list(
            db.session.scalars(select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id))
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def _deliver(app: Flask, now: datetime = NOW, **kwargs: object):  # type: ignore[no-untyped-def]
    with app.app_context():
        return deliver_pending(now=now, **kwargs)  # type: ignore[arg-type]


def test_emails_arrive_in_the_recipients_language(
    app: Flask, smtp_server: SmtpServer, create_user: Callable[..., User]
) -> None:
    users = {locale: create_user(UserRole.supplier, locale=locale) for locale in ("en", "sv", "th")}
    ids = queue(app, list(users.values()), NotificationKind.deadline_reminder, params=PARAMS)

    result = _deliver(app)

    assert (result.sent, result.retrying, result.failed, result.skipped) == (3, 0, 0, 0)
    by_recipient = {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages}
    assert set(by_recipient) == {u.email for u in users.values()}
    # The date in the body is written the way each language writes dates.
    expected_dates = {"en": "March 5, 2026", "sv": "5 mars 2026", "th": "5 มีนาคม ค.ศ. 2026"}
    for locale, user in users.items():
        message = by_recipient[user.email]
        assert message["Content-Language"] == locale
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["From"] == "monitoring@example.org"
        assert message["Message-ID"].startswith("<notification.") and message["Message-ID"].endswith(
            "@example.org>"
        )
        assert message["Date"] is not None
        assert "C-2026-0042" in message["Subject"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert expected_dates[locale] in text and expected_dates[locale] in html
        assert "Acme Electronics" in text and "C-2026-0042" in text
        assert f'lang="{locale}"' in html
        assert message.get_body(("plain",)).get_content_charset() == "utf-8"
        # The subject carries the kind's title as the catalog of that language has it.
        with app.app_context(), force_locale(locale):
            title = NotificationKind.deadline_reminder.title
        assert title in message["Subject"]
    with app.app_context(), force_locale("en"):
        english = NotificationKind.deadline_reminder.title
    for locale in ("sv", "th"):
        with app.app_context(), force_locale(locale):
            translated = NotificationKind.deadline_reminder.title
        if translated != english:  # once the catalogs hold it, the subject is not English
            assert english not in by_recipient[users[locale].email]["Subject"]
    for row in _rows(app, ids):
        assert row.mail_state is MailState.sent
        assert row.mailed_dt == NOW and row.mail_attempts == 1 and row.last_error is None


def test_links_point_at_the_base_url(
    app: Flask, smtp_server: SmtpServer, create_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "BASE_URL", "https://monitoring.example.org/")
    user = create_user(UserRole.coordinator)
    queue(app, [user], NotificationKind.message_posted, params={"reference": "C-2026-0001", "site": "Plant"})
    _deliver(app)
    (message,) = smtp_server.messages
    text = message.get_body(("plain",)).get_content()
    assert "https://monitoring.example.org/notifications/" in text
    assert "monitoring.example.org//" not in text


def test_unknown_locale_falls_back_to_the_default(
    app: Flask, smtp_server: SmtpServer, create_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", "es")
    user = create_user(UserRole.supplier, locale=None)
    queue(app, [user], NotificationKind.deadline_overdue, params=PARAMS)
    _deliver(app)
    (message,) = smtp_server.messages
    assert message["Content-Language"] == "es"
    assert "5 de marzo de 2026" in message.get_body(("plain",)).get_content()


def test_each_message_is_committed_as_it_is_accepted(
    app: Flask, smtp_server: SmtpServer, create_user: Callable[..., User]
) -> None:
    user = create_user(UserRole.monitor)
    ids = [queue(app, [user], NotificationKind.case_opened, params=PARAMS)[0] for _ in range(3)]
    smtp_server.collector.reply, smtp_server.collector.refuse_after = "451 4.3.0 Try again later", 1

    result = _deliver(app)

    assert (result.sent, result.retrying, result.failed) == (1, 2, 0)
    first, second, third = _rows(app, ids)
    assert first.mail_state is MailState.sent and first.mailed_dt == NOW
    for row in (second, third):
        assert row.mail_state is MailState.pending and row.mail_attempts == 1
        assert row.next_attempt_dt == NOW + retry_delay(1)
        assert row.last_error is not None and "451" in row.last_error

    # Not due yet: nothing is tried before the back-off has passed.
    smtp_server.collector.reply = None
    assert _deliver(app, NOW + timedelta(minutes=1)).sent == 0
    assert len(smtp_server.messages) == 1
    result = _deliver(app, NOW + retry_delay(1))
    assert result.sent == 2 and len(smtp_server.messages) == 3
    assert {r.mail_state for r in _rows(app, ids)} == {MailState.sent}
    # Sent rows are never sent again.
    assert _deliver(app, NOW + timedelta(days=1)).sent == 0 and len(smtp_server.messages) == 3


def test_refused_mail_backs_off_and_is_given_up(
    app: Flask, smtp_server: SmtpServer, create_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    user = create_user(UserRole.monitor)
    (notification_id,) = queue(app, [user], NotificationKind.case_opened, params=PARAMS)
    smtp_server.collector.reply = "550 5.7.1 Relaying denied"

    moment = NOW
    delays = []
    for attempt in (1, 2):
        result = _deliver(app, moment)
        assert result.retrying == 1
        (row,) = _rows(app, [notification_id])
        assert row.mail_attempts == attempt and row.mail_state is MailState.pending
        assert row.next_attempt_dt is not None
        delays.append(row.next_attempt_dt - moment)
        moment = row.next_attempt_dt
    assert delays[1] == 2 * delays[0] > timedelta(0)

    result = _deliver(app, moment)
    assert result.failed == 1
    (row,) = _rows(app, [notification_id])
    assert row.mail_state is MailState.failed and row.mail_attempts == 3
    assert row.next_attempt_dt is None and row.mailed_dt is None
    assert row.last_error is not None and "550" in row.last_error
    assert smtp_server.messages == []
    assert _deliver(app, moment + timedelta(days=1)).failed == 0  # given up for good


def test_unreachable_server_counts_one_attempt_and_defers_the_rest(
    app: Flask, create_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.notifications.conftest import free_port

    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "mailer")
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "s3cret-pa55word")
    user = create_user(UserRole.monitor)
    ids = [queue(app, [user], NotificationKind.case_opened, params=PARAMS)[0] for _ in range(3)]

    result = _deliver(app)

    assert (result.sent, result.retrying, result.deferred) == (0, 1, 2)
    first, *rest = _rows(app, ids)
    assert first.mail_attempts == 1 and first.last_error
    assert "s3cret-pa55word" not in first.last_error
    assert all(r.mail_attempts == 0 and r.mail_state is MailState.pending for r in rest)


def test_no_mail_server_marks_everything_skipped(
    app: Flask, create_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    user = create_user(UserRole.coordinator)
    ids = queue(app, [user], NotificationKind.case_opened, params=PARAMS)
    result = _deliver(app)
    assert result.skipped == 1 and result.sent == 0
    (row,) = _rows(app, ids)
    assert row.mail_state is MailState.skipped and row.mailed_dt is None and row.read_dt is None


def test_inactive_recipient_is_skipped(
    app: Flask, smtp_server: SmtpServer, create_user: Callable[..., User]
) -> None:
    active, leaver = create_user(UserRole.monitor), create_user(UserRole.monitor)
    ids = queue(app, [active, leaver], NotificationKind.case_opened, params=PARAMS)
    with app.app_context():
        db.session.get(User, leaver.id).is_active = False
        db.session.commit()
    result = _deliver(app)
    assert (result.sent, result.skipped) == (1, 1)
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.messages] == [active.email]
    states = {r.user_id: r.mail_state for r in _rows(app, ids)}
    assert states == {active.id: MailState.sent, leaver.id: MailState.skipped}


def test_only_committed_notifications_are_sent(
    app: Flask, smtp_server: SmtpServer, create_user: Callable[..., User]
) -> None:
    user = create_user(UserRole.monitor)
    with app.app_context():
        outbox.notify([db.session.get(User, user.id)], NotificationKind.case_opened, params=PARAMS)
        # The change that queued it never commits: deliver_pending starts from committed rows.
        result = deliver_pending(now=NOW)
        assert result.sent == 0
    assert smtp_server.messages == []
    with app.app_context():
        assert outbox.unread_count(db.session.get(User, user.id)) == 0


def test_never_sent_while_answering_a_request(app: Flask) -> None:
    with app.test_request_context("/"), pytest.raises(RuntimeError):
        deliver_pending()
