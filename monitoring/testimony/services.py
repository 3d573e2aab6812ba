"""What the pages and the API of testimony share: lookups (404), list queries, input, refusals.

A handler parses its input with the action's ``Args`` schema (:mod:`.schemas`; a page through
:func:`monitoring.core.forms.form_args`), loads its object here (missing or invisible: 404),
asks a ``can_*`` of :mod:`.permissions`, calls one operation and renders or dumps the result.
The request commits once (:mod:`monitoring.core.transactions`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import abort, current_app
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from marshmallow import Schema, ValidationError
from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import defer

from monitoring.accounts.models import Organisation, OrganisationKind, User
from monitoring.core.db import db
from monitoring.core.forms import show_messages
from monitoring.core.operations import OperationError
from monitoring.core.transactions import keep_failed_attempt
from monitoring.supplychain.models import Site
from monitoring.testimony import alerts, operations, routing, sealing, survey
from monitoring.testimony.models import (
    CoverageChange,
    CoverageChangeState,
    Evidence,
    MonitorCoverage,
    ReportGrant,
    ReportMessage,
    ReportReadMarker,
    ReportStatus,
    SurveyImport,
    WorkerReport,
)
from monitoring.testimony.operations import IntakeData
from monitoring.testimony.permissions import (
    can_see_coverage_change,
    reads_conversations,
    visible_audit_trail,
    visible_changes,
    visible_evidence,
    visible_grants,
    visible_reports,
    visible_survey_imports,
)
from monitoring.testimony.schemas import CoverageView, ReportDetailView, ReportView

logger = logging.getLogger(__name__)

T = TypeVar("T")

IDENTITY_FIELDS = tuple(sealing.Identity.__dataclass_fields__)

# The order of each list (the last column is unique), for the page and the API alike.
REPORT_ORDER = (WorkerReport.created_dt.desc(), WorkerReport.id.desc())
COVERAGE_ORDER = (MonitorCoverage.id,)
CHANGE_ORDER = (CoverageChange.id.desc(),)
AUDIT_ORDER = (routing.AuditEntry.id.desc(),)
SURVEY_ORDER = (SurveyImport.imported_dt.desc(), SurveyImport.id.desc())

# Room for the multipart envelope around an evidence file.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


def me() -> User:
    """The signed-in user."""
    user: User = current_user._get_current_object()
    return user


def require(allowed: bool) -> None:
    """Refuse like a missing page, so a refusal tells nothing."""
    if not allowed:
        abort(404)


def found(item: T | None) -> T:
    """The item, or 404."""
    if item is None:
        abort(404)
    return item


# --- input ----------------------------------------------------------------------------------


def load_args(schema: type[Schema], data: Mapping[str, Any], form: FlaskForm) -> dict[str, Any] | None:
    """Load a page's input through the action's ``Args`` schema; None (messages on the form) if invalid."""
    try:
        return dict(schema().load(data))
    except ValidationError as exc:
        show_messages(form, exc.normalized_messages())
        return None


def filter_args(schema: type[Schema], values: Mapping[str, Any]) -> dict[str, Any]:
    """A page's list filters through the list's ``Args`` schema; a filter that does not parse is left out."""
    data = {name: value for name, value in values.items() if value not in ("", None)}
    try:
        return dict(schema().load(data))
    except ValidationError as exc:
        bad = set(exc.normalized_messages()) if isinstance(exc.messages, dict) else set(data)
        return dict(schema().load({k: v for k, v in data.items() if k not in bad}))


# --- reports --------------------------------------------------------------------------------


def _with_flags(user: User, now: datetime | None = None) -> Select[Any]:
    """The reports the user may see, with their overdue flags and whether they hold unread messages."""
    unread = case((alerts.unread_messages(user), True), else_=False).label("unread_messages")
    return visible_reports(user).add_columns(*operations.deadline_columns(now), unread)


def list_reports(user: User, args: Mapping[str, Any]) -> Select[Any]:
    """The reports the user may see with their flags, filtered by ``ListWorkerReportsArgs``."""
    now = operations.current_time()
    query = _with_flags(user, now)
    for name in ("status", "channel", "site_id", "retaliation_risk"):
        if args.get(name) is not None:
            query = query.where(getattr(WorkerReport, name) == args[name])
    if args.get("country"):
        query = query.where(WorkerReport.country == args["country"].upper())
    if args.get("overdue") is True:
        query = query.where(operations.overdue(now))
    elif args.get("overdue") is False:
        query = query.where(~operations.overdue(now))
    if args.get("awaiting_acknowledgement") is not None:
        awaiting = operations.awaiting_acknowledgement()
        query = query.where(awaiting if args["awaiting_acknowledgement"] else ~awaiting)
    if args.get("unread") is not None:
        unread = alerts.unread_messages(user)
        query = query.where(unread if args["unread"] else ~unread)
    return query


# What a list page shows nothing of: the sealed fields and the keys (about 3 kB of a report's
# 3.5), loaded only if something reads them.
SEALED_COLUMNS = (
    WorkerReport.wrapped_key,
    WorkerReport.identity_sealed,
    WorkerReport.testimony_sealed,
    WorkerReport.workplace_sealed,
    WorkerReport.receipt_public_key,
)


def without_sealed(query: Select[Any]) -> Select[Any]:
    """A list query that leaves the sealed fields and keys unread (the report list page)."""
    return query.options(*(defer(column) for column in SEALED_COLUMNS))


def report_views(rows: Iterable[Any]) -> list[ReportView]:
    """Rows of :func:`list_reports` as report views."""
    return [ReportView(r, bool(a), bool(f), bool(u)) for r, a, f, u in rows]


def load_report(user: User, report_id: int) -> ReportView:
    """The report with its flags (computed in SQL), if the user may see it (else 404)."""
    row = found(db.session.execute(_with_flags(user).where(WorkerReport.id == report_id)).first())
    return ReportView(row[0], bool(row[1]), bool(row[2]), bool(row[3]))


@dataclass(frozen=True)
class HomeCounts:
    """What a monitor's start page counts of their organisation's reports."""

    awaiting_acknowledgement: int
    acknowledge_overdue: int
    feedback_overdue: int
    unread_messages: int = 0


def home_counts(user: User, now: datetime | None = None) -> HomeCounts:
    """Counts for a monitor's start page, in one query: only direct reports owe an acknowledgement.

    Each count is its own subquery whose conditions an index covers (the organisation, the
    deadline's "done" column IS NULL, the due date), so the page reads the reports that owe
    something rather than all of them; unread messages are looked for only in the reports a
    worker wrote in (the messages' index), not in every report.
    """
    now = now or operations.current_time()

    def count(condition: ColumnElement[bool]) -> Any:
        return visible_reports(user).where(condition).with_only_columns(func.count()).scalar_subquery()

    query = select(
        count(operations.awaiting_acknowledgement()),
        count(operations.acknowledge_overdue(now)),
        count(operations.feedback_overdue(now)),
        _count_unread(user),
    )
    row = db.session.execute(query).one()
    return HomeCounts(*(int(value) for value in row))


def _count_unread(user: User) -> Any:
    """How many reports the user sees hold a worker's message newer than their read marker
    (:func:`alerts.unread_messages`), found from the workers' messages rather than every report."""
    if not reads_conversations(user):
        return literal(0)
    marker = (
        select(ReportReadMarker.last_message_id)
        .where(ReportReadMarker.report_id == ReportMessage.report_id, ReportReadMarker.user_id == user.id)
        .correlate(ReportMessage)
        .scalar_subquery()
    )
    unread = (
        select(ReportMessage.report_id)
        .where(ReportMessage.from_worker.is_(True), ReportMessage.id > func.coalesce(marker, 0))
        .distinct()
        .subquery("unread")
    )
    return (
        visible_reports(user)
        .join(unread, unread.c.report_id == WorkerReport.id)
        .with_only_columns(func.count())
        .scalar_subquery()
    )


def member_report(user: User, report_id: int, check: Callable[[User, WorkerReport], bool]) -> WorkerReport:
    """The report, if the user may see it and ``check(user, report)`` allows (else 404)."""
    report = load_report(user, report_id).report
    require(check(user, report))
    return report


def report_detail(user: User, view: ReportView) -> ReportDetailView:
    """The report with the files and grants the user may see (none for a coordinator)."""
    evidence = list(db.session.scalars(visible_evidence(user, view.report).order_by(Evidence.id)))
    grants = list(db.session.scalars(visible_grants(user, view.report).order_by(ReportGrant.id)))
    return ReportDetailView(
        view.report,
        view.acknowledge_overdue,
        view.feedback_overdue,
        view.unread_messages,
        evidence=evidence,
        grants=grants,
    )


def load_evidence(user: User, report: WorkerReport, evidence_id: int) -> Evidence:
    return found(db.session.scalar(visible_evidence(user, report).where(Evidence.id == evidence_id)))


def load_grant(user: User, report: WorkerReport, grant_id: int) -> ReportGrant:
    return found(db.session.scalar(visible_grants(user, report).where(ReportGrant.id == grant_id)))


def next_statuses(report: WorkerReport) -> list[ReportStatus]:
    order = list(ReportStatus)
    return sorted(operations.TRANSITIONS[report.status], key=order.index)


def record_report(user: User, args: Mapping[str, Any]) -> WorkerReport:
    """Record a monitor's intake from ``CreateWorkerReportArgs``."""
    site = None
    if args.get("site_id") is not None:
        site = db.session.get(Site, args["site_id"])
        if site is None:
            raise OperationError(_l("There is no such workplace."), "site_id")
    data = IntakeData(
        site=site,
        country=args.get("country") if site is None else None,
        workplace=args["workplace"],
        channel=args["channel"],
        collected_date=args["collected_date"],
        language=args["language"],
        identity=sealing.Identity(**args["identity"]),
        testimony=args["testimony"],
        categories=args["categories"],
        consent_share_buyers=args["consent_share_buyers"],
        consent_share_supplier=args["consent_share_supplier"],
        consent_contact=args["consent_contact"],
        retaliation_risk=args["retaliation_risk"],
    )
    try:
        return operations.record_report(user, data)
    except OperationError as exc:
        # The operation names the site and the identity's fields as the form does.
        rename = {"site": "site_id", **{name: f"identity.{name}" for name in IDENTITY_FIELDS}}
        raise OperationError(exc.message, rename.get(exc.field or "", exc.field)) from exc


def intake_sites(query: str, chosen: str | None, no_site: str) -> list[Site]:
    """The sites the search found, plus the one chosen before (so a re-shown form keeps it)."""
    sites = operations.search_sites(query) if query else []
    if chosen and chosen != no_site and chosen.isdigit() and all(str(s.id) != chosen for s in sites):
        site = db.session.get(Site, int(chosen))
        if site is not None and site.merged_into_id is None:
            sites.append(site)
    return sites


def opening_reason(args: Mapping[str, Any]) -> str:
    """The audited reason of ``OpenSealedArgs``; OperationError if "other" lacks words."""
    return operations.reason_text(args["reason"], args.get("reason_text") or "")


def grantee(report: WorkerReport, user_id: int | None) -> User:
    """A coordinator the report may be shared with; OperationError (on ``user_id``) if not."""
    chosen = next((c for c in operations.shareable_coordinators(report) if c.id == user_id), None)
    if chosen is None:
        raise OperationError(
            _l("Reports can be shared only with active coordinators who cannot read it yet."), "user_id"
        )
    return chosen


def share_report(user: User, report: WorkerReport, user_id: int | None) -> ReportGrant:
    """Share the report with the coordinator ``user_id`` (refusals name ``user_id``)."""
    chosen = grantee(report, user_id)
    try:
        return operations.share_report(user, report, chosen)
    except OperationError as exc:
        raise OperationError(exc.message, "user_id" if exc.field == "user" else exc.field) from exc


def refusal_message(exc: sealing.SealedAccessError, *, page: bool = True) -> str:
    """Keep the audit entry of a failed opening; the explanation to show, without details."""
    keep_failed_attempt()
    if exc.kind in ("locked", "no_access", "erased"):
        return str(exc.message)
    if page:
        return _(
            "The sealed content could not be opened. The attempt was recorded. "
            "If this keeps happening, tell the people who run this system."
        )
    return _("The sealed content could not be opened. The attempt was recorded.")


# --- evidence files -------------------------------------------------------------------------


def size_text(size: int) -> str:
    return _("%(size)s MB", size=format_decimal(size / (1024 * 1024), format="#,##0.#"))


def upload_limit(*, multipart: bool = True) -> int:
    """The largest request body an evidence upload may have (a form adds its envelope)."""
    limit = int(current_app.config["EVIDENCE_MAX_BYTES"])
    return limit + UPLOAD_OVERHEAD_BYTES if multipart else limit


def too_large_message() -> str:
    return _(
        "The file is too large. Files may be at most %(size)s.",
        size=size_text(current_app.config["EVIDENCE_MAX_BYTES"]),
    )


# --- what a page says after key work (the API answers the results themselves) ------------


def version_list(versions: list[int]) -> str:
    return ", ".join(str(v) for v in versions) or _("none")


def rewrapped(result: operations.RewrapResult) -> tuple[str, str]:
    if result.to_rewrap:
        text = _(
            "%(done)d keys were re-sealed to the newest version; %(left)d are left. "
            "Continue to move the rest.",
            done=result.rewrapped,
            left=result.to_rewrap,
        )
        return text, "warning"
    text = _(
        "Everything is sealed to the newest version (%(done)d keys moved now). "
        "Older versions retired: %(versions)s.",
        done=result.rewrapped,
        versions=version_list(result.retired_versions),
    )
    return text, "success"


def reencrypted(result: operations.ReencryptResult) -> tuple[str, str]:
    if result.to_reencrypt:
        text = _(
            "%(done)d reports were re-encrypted under fresh keys; %(left)d are left. "
            "Continue to re-encrypt the rest.",
            done=result.reencrypted,
            left=result.to_reencrypt,
        )
        return text, "warning"
    text = _(
        "Every report is encrypted under keys made since the newest version (%(done)d "
        "re-encrypted now). Older versions retired: %(versions)s.",
        done=result.reencrypted,
        versions=version_list(result.retired_versions),
    )
    return text, "success"


def rotated(state: operations.KeyVersions) -> tuple[str, str]:
    text = _(
        "Version %(version)d of your organisation's key is ready; new reports are sealed to it. "
        "Re-wrap the older reports now.",
        version=state.current_version,
    )
    return text, "success"


# --- routing --------------------------------------------------------------------------------


def list_coverage() -> Select[tuple[MonitorCoverage]]:
    """The routing table, for the API's pages (in the order of :data:`COVERAGE_ORDER`)."""
    return select(MonitorCoverage)


def coverage_views(rows: Iterable[MonitorCoverage]) -> list[CoverageView]:
    """Routing rows with whether their organisation can receive (has a key)."""
    rows = list(rows)
    with_key = operations.organisations_with_key({c.organisation_id for c in rows})
    return [CoverageView(c, c.organisation_id in with_key) for c in rows]


def monitor_organisations() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrganisationKind.monitor, Organisation.is_active.is_(True))
            .order_by(func.lower(Organisation.name), Organisation.id)
        )
    )


def load_coverage(coverage_id: int) -> MonitorCoverage:
    return found(db.session.get(MonitorCoverage, coverage_id))


def request_coverage(user: User, organisation_id: int | None, country: str | None) -> CoverageChange:
    """Ask that a country's reports (None: every other country) go to an organisation."""
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None:
        raise OperationError(_l("There is no such organisation."), "organisation_id")
    try:
        return routing.request_change(user, country=country, organisation=organisation)
    except OperationError as exc:
        field = "organisation_id" if exc.field == "organisation" else exc.field
        raise OperationError(exc.message, field) from exc


def load_change(user: User, change_id: int) -> CoverageChange:
    """The change, if the user may see it (else 404)."""
    change = found(db.session.get(CoverageChange, change_id))
    require(can_see_coverage_change(user, change))
    return change


def list_changes(user: User) -> Select[tuple[CoverageChange]]:
    return visible_changes(user)


def list_audit_trail(user: User) -> Select[Any]:
    return visible_audit_trail(user)


# --- survey imports -------------------------------------------------------------------------


def list_survey_imports(user: User) -> Select[tuple[SurveyImport]]:
    return visible_survey_imports(user)


def load_survey_import(user: User, import_id: int) -> SurveyImport:
    return found(db.session.scalar(visible_survey_imports(user).where(SurveyImport.id == import_id)))


def users_by_id(ids: Iterable[int | None]) -> dict[int, User]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(wanted)))}


def survey_site(reference: str | None) -> Site | None:
    """The workplace of every row, by Open Supply Hub id or site number (None: not given)."""
    if not reference:
        return None
    site = survey.find_site(reference)
    if site is None:
        raise OperationError(_l("No site with this Open Supply Hub id or number."), "site_id")
    return site


def survey_site_by_id(site_id: int | None) -> Site | None:
    """The workplace of every row, by site id (the API)."""
    if site_id is None:
        return None
    site = db.session.get(Site, site_id)
    if site is None:
        raise OperationError(_l("No site with this id."), "site_id")
    return site


def survey_refusal(exc: survey.SurveyRefused) -> list[str]:
    """A refused file's problems, one line each, with their line and column."""
    lines = []
    for error in exc.errors:
        where = _("line %(line)s", line=error.line) if error.line is not None else ""
        if error.column:
            where = f"{where}, {error.column}" if where else error.column
        lines.append(f"{where}: {error.message}" if where else error.message)
    if exc.more:
        lines.append(_("… and %(num)d more problems.", num=exc.more))
    return lines


def change_answer(change: CoverageChange) -> tuple[CoverageChange, int]:
    """A requested change with its status: 202 while it waits, 200 once in force."""
    return change, 202 if change.state is CoverageChangeState.pending else 200


def change_requested(change: CoverageChange) -> tuple[str, str]:
    """What a page says of a requested routing change (message, category)."""
    if change.state is CoverageChangeState.pending:
        text = _(
            "The change waits until %(date)s for the consent of %(organisation)s: a member can "
            "confirm it sooner, and the monitors of both organisations were told and can object.",
            date=format_date(change.effective_dt),
            organisation=change.from_organisation.name if change.from_organisation else "",
        )
        return text, "warning"
    return _("The change is in force: nobody else received these reports."), "success"
