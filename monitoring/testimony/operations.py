"""Operations on worker reports for monitors: intake, status, deadlines, replies, files, sharing.

They take the actor explicitly, validate, change state, flush and audit (metadata only: never
a word of identity or testimony); they never commit. Sealing and opening is done by
:mod:`monitoring.testimony.sealing`, which audits every opening.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, case, func, or_, select

from monitoring.accounts.models import (
    Organisation,
    User,
    UserRole,
)
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import TitledEnum, utcnow
from monitoring.supplychain.matching import country_codes, is_country_code
from monitoring.supplychain.models import Site
from monitoring.supplychain.queries import site_search
from monitoring.testimony import alerts, sealing
from monitoring.testimony.models import (
    Evidence,
    IssueCategory,
    ReportChannel,
    ReportGrant,
    ReportMessage,
    ReportStatus,
    RetaliationRisk,
    WorkerReport,
)
from monitoring.testimony.permissions import can_read_conversation, can_record_report

logger = logging.getLogger(__name__)

MAX_TESTIMONY_LENGTH = 20_000
MAX_IDENTITY_FIELD_LENGTH = 200
MAX_WORKPLACE_LENGTH = 1000
MAX_MESSAGE_LENGTH = 5000
MAX_FILENAME_LENGTH = 200
MAX_REASON_LENGTH = 200

# The languages testimony is commonly given in (catalog-style codes), for the intake form.
WORKER_LANGUAGES = (
    "en", "th", "my", "km", "lo", "vi", "ms", "id", "tl", "ne", "hi", "bn",
    "zh_Hans", "ko", "ja", "cs", "sk", "pl", "uk", "ro", "es", "pt", "ar", "ur",
)  # fmt: skip

# Channels a monitor records; ``web`` reports are filed by workers themselves at /report.
INTAKE_CHANNELS = tuple(channel for channel in ReportChannel if channel is not ReportChannel.web)


class Gender(TitledEnum):
    woman = "woman"
    man = "man"
    other = "other"
    undisclosed = "undisclosed"

    @staticmethod
    def __titles__() -> dict[Gender, str]:
        return {
            Gender.woman: _l("Woman"),
            Gender.man: _l("Man"),
            Gender.other: _l("Another gender"),
            Gender.undisclosed: _l("Prefers not to say"),
        }


class AgeBand(TitledEnum):
    under_16 = "under_16"
    age_16_17 = "16_17"
    age_18_24 = "18_24"
    age_25_34 = "25_34"
    age_35_44 = "35_44"
    age_45_54 = "45_54"
    age_55_plus = "55_plus"

    @staticmethod
    def __titles__() -> dict[AgeBand, str]:
        return {
            AgeBand.under_16: _l("Under 16"),
            AgeBand.age_16_17: _l("16 or 17"),
            AgeBand.age_18_24: _l("18 to 24"),
            AgeBand.age_25_34: _l("25 to 34"),
            AgeBand.age_35_44: _l("35 to 44"),
            AgeBand.age_45_54: _l("45 to 54"),
            AgeBand.age_55_plus: _l("55 or older"),
        }


class OpenReason(TitledEnum):
    """Why a monitor opens sealed content; recorded in the audit log with every opening."""

    investigation = "investigation"
    follow_up = "follow_up"
    finding = "finding"
    verification = "verification"
    other = "other"

    @staticmethod
    def __titles__() -> dict[OpenReason, str]:
        return {
            OpenReason.investigation: _l("Investigation"),
            OpenReason.follow_up: _l("Follow-up with the worker"),
            OpenReason.finding: _l("Preparing a finding"),
            OpenReason.verification: _l("Verification"),
            OpenReason.other: _l("Other (say why)"),
        }


# Which status a report may move to from which (acknowledging is the move out of ``received``).
TRANSITIONS: dict[ReportStatus, frozenset[ReportStatus]] = {
    ReportStatus.received: frozenset(
        {ReportStatus.acknowledged, ReportStatus.investigating, ReportStatus.closed}
    ),
    ReportStatus.acknowledged: frozenset({ReportStatus.investigating, ReportStatus.closed}),
    ReportStatus.investigating: frozenset({ReportStatus.closed}),
    ReportStatus.closed: frozenset({ReportStatus.investigating}),  # reopened
}


# --- small helpers shared by forms, schemas and pages ------------------------------------


def country_choices() -> list[tuple[str, str]]:
    """Every ISO 3166 alpha-2 country with its name in the user's language, sorted by name."""
    names = (get_locale() or Locale("en")).territories
    return sorted(((c, names.get(c, c)) for c in country_codes()), key=lambda item: item[1].casefold())


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return str((get_locale() or Locale("en")).territories.get(code, code))


def is_country(code: str | None) -> bool:
    return bool(code) and is_country_code(code or "")


def language_name(code: str | None) -> str:
    if not code:
        return ""
    try:
        name = Locale.parse(code).get_display_name(get_locale() or Locale("en"))
    except (ValueError, TypeError):
        return code
    return name or code


def language_choices() -> list[tuple[str, str]]:
    return sorted(((code, language_name(code)) for code in WORKER_LANGUAGES), key=lambda c: c[1].casefold())


def reason_text(reason: OpenReason, other: str = "") -> str:
    """The reason recorded in the audit log; ``other`` needs a few words of explanation."""
    other = " ".join((other or "").split())
    if reason is OpenReason.other:
        if not other:
            raise OperationError(_l("Say why you open the sealed content."), "reason_text")
        if len(other) > MAX_REASON_LENGTH:
            raise OperationError(_l("At most %(num)d characters.", num=MAX_REASON_LENGTH), "reason_text")
        return f"other: {other}"
    return reason.value


def safe_filename(name: str) -> str:
    """A file name without directories, control characters or quotes, of bounded length."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '"<>:|?*')
    name = " ".join(name.split()).strip(". ")
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:10] if dot and stem else ""
        name = name[: MAX_FILENAME_LENGTH - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    return name


def search_sites(query: str, *, limit: int = 20) -> list[Site]:
    """Registry sites whose name, an alternative name (in any script) or city contains the
    words of ``query`` (not merged ones)."""
    words = site_search(query, Site.city)
    if words is None:
        return []
    stmt = (
        select(Site)
        .where(Site.merged_into_id.is_(None), words)
        .order_by(func.lower(Site.name), Site.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


# --- intake ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeData:
    """What a monitor records from one worker; identity and testimony get sealed."""

    channel: ReportChannel
    collected_date: date
    language: str
    identity: sealing.Identity
    testimony: str
    categories: list[IssueCategory]
    consent_share_buyers: bool = False
    consent_share_supplier: bool = False
    consent_contact: bool = False
    retaliation_risk: RetaliationRisk | None = None
    site: Site | None = None
    country: str | None = None
    workplace: str = ""


def _clean_identity(identity: sealing.Identity) -> sealing.Identity:
    values = {}
    for name, value in identity.__dict__.items():
        value = " ".join((value or "").split())
        if len(value) > MAX_IDENTITY_FIELD_LENGTH:
            raise OperationError(_l("At most %(num)d characters.", num=MAX_IDENTITY_FIELD_LENGTH), name)
        values[name] = value
    if values["gender"] and values["gender"] not in {g.value for g in Gender}:
        raise OperationError(_l("This value is not valid."), "gender")
    if values["age_band"] and values["age_band"] not in {a.value for a in AgeBand}:
        raise OperationError(_l("This value is not valid."), "age_band")
    if values["nationality"]:
        values["nationality"] = values["nationality"].upper()
        if not is_country(values["nationality"]):
            raise OperationError(_l("Choose a country from the list."), "nationality")
    return sealing.Identity(**values)


def record_report(actor: User, data: IntakeData) -> WorkerReport:
    """Seal what a monitor collected to their own organisation's key; flush; audit metadata."""
    if not can_record_report(actor):
        raise OperationError(_l("Only monitors record testimony."))
    if data.channel not in INTAKE_CHANNELS:
        raise OperationError(_l("Web reports are filed by workers themselves at /report."), "channel")
    country = None
    if data.site is not None:
        if data.site.merged_into_id is not None:
            raise OperationError(_l("This workplace was merged into another: choose that one."), "site")
    else:
        country = (data.country or "").strip().upper() or None
        if country is None:
            raise OperationError(_l("Choose the workplace, or at least its country."), "country")
        if not is_country(country):
            raise OperationError(_l("Choose a country from the list."), "country")
    # The latest date anywhere on Earth: UTC+14.
    if data.collected_date > (utcnow() + timedelta(hours=14)).date():
        raise OperationError(_l("The date must not be in the future."), "collected_date")
    if data.language not in WORKER_LANGUAGES:
        raise OperationError(_l("Choose a language from the list."), "language")
    text = (data.testimony or "").strip()
    if not text:
        raise OperationError(_l("Write down what the worker said."), "testimony")
    if len(text) > MAX_TESTIMONY_LENGTH:
        raise OperationError(_l("At most %(num)d characters.", num=MAX_TESTIMONY_LENGTH), "testimony")
    workplace = (data.workplace or "").strip()
    if len(workplace) > MAX_WORKPLACE_LENGTH:
        raise OperationError(_l("At most %(num)d characters.", num=MAX_WORKPLACE_LENGTH), "workplace")
    return sealing.create_report(
        organisation=actor.organisation,
        site=data.site,
        country=country,
        channel=data.channel,
        collected_date=data.collected_date,
        language=data.language,
        consent_share_buyers=data.consent_share_buyers,
        consent_share_supplier=data.consent_share_supplier,
        consent_contact=data.consent_contact,
        retaliation_risk=data.retaliation_risk,
        identity=_clean_identity(data.identity),
        testimony=sealing.Testimony(text=text, categories=list(data.categories)),
        workplace=workplace,
        created_by=actor,
    )


# --- status and the Whistleblower Directive clocks ----------------------------------------


def set_status(
    actor: User, report: WorkerReport, status: ReportStatus, *, now: datetime | None = None
) -> None:
    """Move a report to another status; leaving ``received`` acknowledges it."""
    if status is report.status:
        return
    if status not in TRANSITIONS[report.status]:
        raise OperationError(
            _l(
                "A report that is “%(old)s” cannot become “%(new)s”.",
                old=report.status.title,
                new=status.title,
            ),
            "status",
        )
    old = report.status
    report.status = status
    if report.acknowledged_dt is None:
        report.acknowledged_dt = now or utcnow()
    db.session.flush()
    audit.record(
        "report.status",
        f"Report {report.id} changed from {old.value} to {status.value}",
        actor=actor,
        obj=report,
        data={"status": [old.value, status.value]},
    )


def acknowledge(actor: User, report: WorkerReport, *, now: datetime | None = None) -> None:
    if report.status is not ReportStatus.received:
        raise OperationError(_l("This report was acknowledged already."))
    set_status(actor, report, ReportStatus.acknowledged, now=now)


def record_feedback(actor: User, report: WorkerReport, *, now: datetime | None = None) -> None:
    """Note that the worker was told what is being done (stops the feedback clock)."""
    if report.feedback_dt is not None:
        raise OperationError(_l("Feedback to the worker is recorded already."))
    report.feedback_dt = now or utcnow()
    if report.status is ReportStatus.received:
        set_status(actor, report, ReportStatus.acknowledged, now=report.feedback_dt)
    db.session.flush()
    audit.record(
        "report.feedback",
        f"Recorded feedback to the worker on report {report.id}",
        actor=actor,
        obj=report,
        data={"feedback_dt": report.feedback_dt.isoformat()},
    )


def current_time() -> datetime:
    """The time deadlines are measured against (one place to stop the clock in tests)."""
    return utcnow()


def acknowledge_overdue(now: datetime) -> ColumnElement[bool]:
    """Not acknowledged, and the acknowledgement deadline has passed."""
    return and_(
        WorkerReport.acknowledge_due_dt.is_not(None),
        WorkerReport.acknowledged_dt.is_(None),
        WorkerReport.acknowledge_due_dt < now,
    )


def feedback_overdue(now: datetime) -> ColumnElement[bool]:
    """Still open, no feedback given, and the feedback deadline has passed."""
    return and_(
        WorkerReport.feedback_due_dt.is_not(None),
        WorkerReport.feedback_dt.is_(None),
        WorkerReport.status != ReportStatus.closed,
        WorkerReport.feedback_due_dt < now,
    )


def overdue(now: datetime) -> ColumnElement[bool]:
    return or_(acknowledge_overdue(now), feedback_overdue(now))


def deadline_columns(now: datetime | None = None) -> list[Any]:
    """The two overdue flags as labelled SQL columns, to add to a list query (now: the clock)."""
    now = now or current_time()
    return [
        case((acknowledge_overdue(now), True), else_=False).label("acknowledge_overdue"),
        case((feedback_overdue(now), True), else_=False).label("feedback_overdue"),
    ]


def awaiting_acknowledgement() -> ColumnElement[bool]:
    """A direct report (only those carry the clock) that nobody has acknowledged yet."""
    return and_(WorkerReport.acknowledge_due_dt.is_not(None), WorkerReport.acknowledged_dt.is_(None))


# --- opening sealed content -----------------------------------------------------------------


@dataclass(frozen=True)
class OpenedContent:
    report: WorkerReport
    content: sealing.OpenedReport
    messages: list[sealing.OpenedMessage] | None  # None: the reader may not see the conversation


def open_report(actor: User, report: WorkerReport, reason: str) -> OpenedContent:
    """Decrypt a report (and, for its monitors, the conversation); sealing audits each opening.

    The monitor has then seen the conversation: its messages are read for them.
    """
    content = sealing.open_report(actor, report, reason=reason)
    messages = None
    if can_read_conversation(actor, report):
        messages = sealing.read_messages(actor, report, reason=reason)
        alerts.mark_conversation_read(actor, report)
    return OpenedContent(report=report, content=content, messages=messages)


def open_evidence(actor: User, evidence: Evidence, reason: str) -> tuple[str, Iterator[bytes]]:
    """The file's safe download name and its decrypted content (audited by sealing)."""
    name, chunks = sealing.open_evidence(actor, evidence, reason=reason)
    return download_name(name, evidence), chunks


def download_name(name: str, evidence: Evidence) -> str:
    """The sealed name made safe, ending with the extension of the type the content has."""
    name = safe_filename(name) or f"evidence-{evidence.id}"
    extension = sealing.ALLOWED_TYPES.get(evidence.content_type, "")
    extensions = {extension, ".jpeg"} if extension == ".jpg" else {extension}
    if extension and not any(name.lower().endswith(ext) for ext in extensions):
        name += extension
    return name


# --- the conversation and files -------------------------------------------------------------


def reply_to_worker(actor: User, report: WorkerReport, body: str, *, feedback: bool = False) -> ReportMessage:
    """Send the worker a message, readable with their receipt; optionally it is the feedback."""
    if report.receipt_public_key is None:
        raise OperationError(
            _l(
                "This worker has no receipt, so they cannot read replies here. "
                "Contact them in the way they agreed to."
            ),
            "body",
        )
    if len(body.strip()) > MAX_MESSAGE_LENGTH:
        raise OperationError(_l("At most %(num)d characters.", num=MAX_MESSAGE_LENGTH), "body")
    message = sealing.add_message(report, body=body, author=actor)
    if report.status is ReportStatus.received:
        set_status(actor, report, ReportStatus.acknowledged)
    if feedback and report.feedback_dt is None:
        record_feedback(actor, report)
    return message


def add_evidence(actor: User, report: WorkerReport, stream: IO[bytes], filename: str) -> Evidence:
    """Seal a file to the report; its type is checked against its content by sealing."""
    name = safe_filename(filename)
    if not name:
        raise OperationError(_l("Choose a file."), "file")
    return sealing.add_evidence(report, stream=stream, filename=name, uploaded_by=actor)


# --- sharing with coordinators --------------------------------------------------------------


def shareable_coordinators(report: WorkerReport) -> list[User]:
    """Active coordinators with a key who do not hold a grant for the report yet."""
    granted = select(ReportGrant.user_id).where(ReportGrant.report_id == report.id)
    return list(
        db.session.scalars(
            select(User)
            .join(Organisation)
            .where(
                User.role == UserRole.coordinator,
                User.is_active.is_(True),
                Organisation.is_active.is_(True),
                User.public_key.is_not(None),
                User.id.not_in(granted),
            )
            .order_by(func.lower(User.name), User.id)
        )
    )


def share_report(actor: User, report: WorkerReport, grantee: User) -> ReportGrant:
    return sealing.grant_report(actor, report, grantee)


def stop_sharing(actor: User, grant: ReportGrant) -> None:
    sealing.revoke_report_grant(actor, grant)


# Old import paths keep working: the key versions and the anonymous reports live in their own modules.
from monitoring.testimony.operations_coverage import (  # noqa: E402
    coverage_rows,
    organisations_with_key,
    remove_coverage,
    set_coverage,
)
from monitoring.testimony.operations_keys import (  # noqa: E402
    KeyVersions,
    RecoveryUpgradeResult,
    ReencryptResult,
    RewrapResult,
    key_versions,
    reencrypt_reports,
    rewrap_versions,
    rotate_key,
    upgrade_recovery_key,
)

__all__ = [
    "KeyVersions",
    "RecoveryUpgradeResult",
    "ReencryptResult",
    "RewrapResult",
    "coverage_rows",
    "key_versions",
    "organisations_with_key",
    "reencrypt_reports",
    "remove_coverage",
    "rewrap_versions",
    "rotate_key",
    "set_coverage",
    "upgrade_recovery_key",
]
