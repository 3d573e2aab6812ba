"""Send the outbox by e-mail over SMTP, from the jobs runner, after the changes committed.

Each e-mail is committed as sent as soon as the server accepted it, so a crash half-way resends
at most the one message in flight (with the same Message-ID, so mail clients can tell). A refused
e-mail records the error, waits longer before each new attempt and is given up after
``MAIL_MAX_ATTEMPTS``. The SMTP password comes from the configuration (the environment) only and
is never logged or stored.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from flask import current_app, has_request_context
from sqlalchemy import or_, select, update

from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.notifications.models import MailState, Notification
from monitoring.notifications.render import render_mail

logger = logging.getLogger(__name__)

# The first retry waits this long; each further one twice as long as the one before.
RETRY_BASE = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=12)
MAX_ERROR_LENGTH = 500


@dataclass
class DeliveryResult:
    sent: int = 0
    retrying: int = 0  # refused this time, to be tried again later
    failed: int = 0  # refused for the last allowed time
    skipped: int = 0  # no mail server configured, or the recipient's account is inactive
    deferred: int = 0  # not tried: the server could not be reached

    def summary(self) -> str:
        return (
            f"e-mail: {self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
            f"{self.skipped} skipped, {self.deferred} deferred"
        )


class ServerUnavailable(Exception):
    """The SMTP server cannot be reached or refuses the session: stop this run."""


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the given number of failed attempts (1, 2, ...)."""
    delay = RETRY_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, RETRY_MAX)


def _scrub(text: str) -> str:
    """An error text fit to store and log: no credentials, bounded length."""
    config = current_app.config
    for secret in (config.get("MAIL_PASSWORD"), config.get("MAIL_USERNAME")):
        if secret:
            text = text.replace(str(secret), "***")
    return text[:MAX_ERROR_LENGTH]


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{code} {_decode(msg)}" for code, msg in exc.recipients.values()]
        return _scrub(f"recipient refused: {'; '.join(parts)}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _scrub(f"{type(exc).__name__}: {exc.smtp_code} {_decode(exc.smtp_error)}")
    return _scrub(f"{type(exc).__name__}: {exc}")


def _decode(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def build_message(notification: Notification, now: datetime) -> EmailMessage:
    """The e-mail of one notification, in its recipient's language."""
    config = current_app.config
    mail = render_mail(notification)
    user = notification.user
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = formataddr((user.name, user.email))
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    # The same id every time this notification is sent, so a resent copy is recognisable.
    stamp = int(notification.created_dt.timestamp())
    message["Message-ID"] = f"<notification.{notification.id}.{stamp}@{_domain(config['MAIL_FROM'])}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(mail.text, charset="utf-8")
    message.add_alternative(mail.html, subtype="html", charset="utf-8")
    # After the parts exist: making the message multipart moves Content-* headers into its first part.
    message["Content-Language"] = mail.locale.replace("_", "-")
    return message


class _Connection:
    """One SMTP session for a run, opened on first use."""

    def __init__(self) -> None:
        self.smtp: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self.smtp is not None:
            return self.smtp
        config = current_app.config
        try:
            smtp = smtplib.SMTP(
                config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=float(config["MAIL_TIMEOUT_SECONDS"])
            )
            smtp.ehlo()
            if config["MAIL_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        except (OSError, smtplib.SMTPException) as exc:
            raise ServerUnavailable(describe_error(exc)) from exc
        self.smtp = smtp
        return smtp

    def close(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
        self.smtp = None


def _skip_everything() -> int:
    """No mail server: the notifications stay in the app only."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.mail_state == MailState.pending)
        .values(mail_state=MailState.skipped, next_attempt_dt=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _due_ids(now: datetime, limit: int) -> list[int]:
    query = (
        select(Notification.id)
        .where(
            Notification.mail_state == MailState.pending,
            or_(Notification.next_attempt_dt.is_(None), Notification.next_attempt_dt <= now),
        )
        .order_by(Notification.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def _claim(notification_id: int) -> Notification | None:
    """Lock one pending row for this run (another runner holding it: skip it)."""
    query = (
        select(Notification)
        .where(Notification.id == notification_id, Notification.mail_state == MailState.pending)
        .with_for_update(skip_locked=True, of=Notification)
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(query).first()


def _record_failure(notification: Notification, error: str, now: datetime, result: DeliveryResult) -> None:
    max_attempts = int(current_app.config["MAIL_MAX_ATTEMPTS"])
    notification.mail_attempts += 1
    notification.last_error = error
    if notification.mail_attempts >= max_attempts:
        notification.mail_state = MailState.failed
        notification.next_attempt_dt = None
        result.failed += 1
        logger.warning(
            "notification %s: e-mail given up after %s attempts: %s",
            notification.id,
            notification.mail_attempts,
            error,
        )
    else:
        notification.next_attempt_dt = now + retry_delay(notification.mail_attempts)
        result.retrying += 1
        logger.info("notification %s: e-mail refused, retrying later: %s", notification.id, error)


def deliver_pending(limit: int = 200, now: datetime | None = None) -> DeliveryResult:
    """Send up to ``limit`` pending e-mails that are due; commit each one's new state.

    Reads committed rows only: anything uncommitted in the session is rolled back first, so
    call it after committing. Never call it while answering a request.
    """
    if has_request_context():
        raise RuntimeError("e-mail is sent by the jobs runner, never while answering a request")
    db.session.rollback()
    result = DeliveryResult()
    if not current_app.config["MAIL_SERVER"]:
        result.skipped = _skip_everything()
        return result
    ids = _due_ids(now or utcnow(), limit)
    db.session.rollback()
    connection = _Connection()
    try:
        for position, notification_id in enumerate(ids):
            notification = _claim(notification_id)
            if notification is None:  # sent or claimed by another runner meanwhile
                db.session.rollback()
                continue
            moment = now or utcnow()
            user = notification.user
            if not user.is_active or not user.organisation.is_active:
                notification.mail_state = MailState.skipped
                notification.next_attempt_dt = None
                db.session.commit()
                result.skipped += 1
                continue
            try:
                message = build_message(notification, moment)
                connection.get().send_message(
                    message, from_addr=current_app.config["MAIL_FROM"], to_addrs=[user.email]
                )
            except ServerUnavailable as exc:
                _record_failure(notification, str(exc), moment, result)
                db.session.commit()
                result.deferred += len(ids) - position - 1
                logger.warning("mail server unavailable, %s e-mails left for the next run", result.deferred)
                break
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                _record_failure(notification, describe_error(exc), moment, result)
                db.session.commit()
                continue
            except (OSError, smtplib.SMTPException) as exc:
                # The session broke mid-message: count the attempt and stop this run.
                _record_failure(notification, describe_error(exc), moment, result)
                db.session.commit()
                result.deferred += len(ids) - position - 1
                logger.warning("mail session failed, %s e-mails left for the next run", result.deferred)
                break
            notification.mail_state = MailState.sent
            notification.mailed_dt = moment
            notification.mail_attempts += 1
            notification.next_attempt_dt = None
            notification.last_error = None
            db.session.commit()
            result.sent += 1
    finally:
        db.session.rollback()
        connection.close()
    if ids:
        logger.info(result.summary())
    return result
