"""JSON API of sealed testimony (monitors, and coordinators for reports shared with them).

Every route answers 404 to administrators, affiliates and suppliers, and for a report of
another organisation. Lists and details carry metadata only; sealed content is in the answer
of ``POST /worker-reports/{id}/open`` (with a reason, audited) and nowhere else.

A refused opening answers 403 with a generic message (locked keys and missing access say so
and what to do); the audit entry of the attempt is committed first.

Which monitor organisation receives which country's reports (``/monitor-coverage``) is routing
metadata for administrators and coordinators; changes they ask for wait for the consent of the
organisation receiving the reports today (:mod:`.routing_api`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.core import uploads
from monitoring.core.api import operation_error, paginate, parse_args, route
from monitoring.core.auth import roles
from monitoring.core.db import db
from monitoring.core.errors import ApiError
from monitoring.core.operations import OperationError
from monitoring.core.pagination import Page
from monitoring.supplychain.models import Site
from monitoring.testimony import operations, routing, sealing
from monitoring.testimony.models import Evidence, MonitorCoverage, ReportGrant, WorkerReport
from monitoring.testimony.operations import IntakeData
from monitoring.testimony.permissions import (
    COVERAGE_ROLES,
    SEALED_ROLES,
    can_add_evidence,
    can_manage_coverage,
    can_manage_organisation_keys,
    can_manage_report,
    can_open_evidence,
    can_open_report,
    can_record_report,
    can_share_report,
    visible_evidence,
    visible_grants,
    visible_reports,
)
from monitoring.testimony.routing_api import CoverageChangeSchema
from monitoring.testimony.routing_api import answer as routing_answer
from monitoring.testimony.schemas import (
    CoverageView,
    CreateWorkerReportArgs,
    ListMonitorCoverageArgs,
    ListWorkerReportsArgs,
    MonitorCoverageSchema,
    OpenedWorkerReportSchema,
    OpenSealedArgs,
    RecoveryKeyUpgradeResultSchema,
    ReencryptReportsArgs,
    ReencryptReportsResultSchema,
    ReplyToWorkerArgs,
    ReportDetailView,
    ReportEvidenceSchema,
    ReportKeyVersionsSchema,
    ReportMessageSchema,
    ReportView,
    RewrapReportKeysArgs,
    RewrapReportKeysResultSchema,
    SetMonitorCoverageArgs,
    SetReportStatusArgs,
    ShareReportArgs,
    UpgradeRecoveryKeyArgs,
    UploadEvidenceArgs,
    WorkerReportDetailSchema,
    WorkerReportGrantSchema,
    WorkerReportSchema,
)
from monitoring.testimony.views import (
    download_response,
    load_report,
    member_report,
    report_detail,
    too_large_message,
    upload_limit,
)

logger = logging.getLogger(__name__)

TAG = "testimony"
IDENTITY_FIELDS = tuple(sealing.Identity.__dataclass_fields__)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _require(allowed: bool) -> None:
    if not allowed:
        abort(404)


def _refused(exc: sealing.SealedAccessError) -> ApiError:
    """Commit the audit entry of the failed opening; answer 403 without details."""
    db.session.commit()
    if exc.kind in ("locked", "no_access"):
        return ApiError(403, str(exc.message))
    return ApiError(403, _("The sealed content could not be opened. The attempt was recorded."))


def _manage(report_id: int, change: Callable[..., Any], *args: Any) -> ReportView:
    """Make one change to a report of the user's organisation; answer the report as it now is."""
    report = member_report(report_id, can_manage_report)
    change(_me(), report, *args)
    db.session.commit()
    return load_report(report_id)


# --- reports --------------------------------------------------------------------------------


@route(
    "/worker-reports",
    summary=_l("Worker reports"),
    description=_l(
        "Metadata only, newest first: reports received by your organisation, or shared with you. "
        "Overdue flags follow the acknowledgement and feedback deadlines."
    ),
    args=ListWorkerReportsArgs,
    response=WorkerReportSchema,
    paginated=True,
    tag=TAG,
)
@roles(*SEALED_ROLES)
def list_worker_reports(args: dict[str, Any]) -> Page:
    now = operations.current_time()
    query = visible_reports(_me()).add_columns(*operations.deadline_columns(now))
    for name in ("status", "channel", "site_id"):
        if name in args:
            query = query.where(getattr(WorkerReport, name) == args[name])
    if "country" in args:
        query = query.where(WorkerReport.country == args["country"].upper())
    if args.get("overdue") is True:
        query = query.where(operations.overdue(now))
    elif args.get("overdue") is False:
        query = query.where(~operations.overdue(now))
    page = paginate(
        query,
        [WorkerReport.created_dt.desc(), WorkerReport.id.desc()],
        args.get("after"),
        args.get("limit"),
    )
    page.items = [ReportView(r, bool(a), bool(f)) for r, a, f in page.items]
    return page


@route(
    "/worker-reports",
    method="POST",
    summary=_l("Record a worker's testimony"),
    description=_l(
        "Identity, testimony and workplace are sealed to your organisation's key; the answer "
        "holds metadata only."
    ),
    args=CreateWorkerReportArgs,
    response=WorkerReportSchema,
    status=201,
    tag=TAG,
)
@roles(UserRole.monitor)
def create_worker_report(args: dict[str, Any]) -> Any:
    user = _me()
    _require(can_record_report(user))
    site = None
    if args.get("site_id") is not None:
        site = db.session.get(Site, args["site_id"])
        if site is None:
            message = _("There is no such workplace.")
            raise ApiError(422, message, {"site_id": [message]})
    identity = args["identity"]
    data = IntakeData(
        site=site,
        country=args.get("country") if site is None else None,
        workplace=args["workplace"],
        channel=args["channel"],
        collected_date=args["collected_date"],
        language=args["language"],
        identity=sealing.Identity(**identity),
        testimony=args["testimony"],
        categories=args["categories"],
        consent_share_buyers=args["consent_share_buyers"],
        consent_share_supplier=args["consent_share_supplier"],
        consent_contact=args["consent_contact"],
        retaliation_risk=args["retaliation_risk"],
    )
    try:
        report = operations.record_report(user, data)
    except OperationError as exc:
        rename = {"site": "site_id", **{name: f"identity.{name}" for name in IDENTITY_FIELDS}}
        raise operation_error(exc, rename=rename) from exc
    db.session.commit()
    return ReportView(report, False, False), 201


@route(
    "/worker-reports/<int:report_id>",
    summary=_l("A worker report"),
    description=_l("Metadata only; files and grants are listed for the monitors of the organisation."),
    response=WorkerReportDetailSchema,
    tag=TAG,
)
@roles(*SEALED_ROLES)
def get_worker_report(report_id: int) -> ReportDetailView:
    return report_detail(load_report(report_id))


@route(
    "/worker-reports/<int:report_id>/open",
    method="POST",
    summary=_l("Open a report's sealed content"),
    description=_l(
        "Decrypts identity, testimony, workplace and (for monitors) the conversation with your "
        "unlocked keys. Every opening is recorded in the audit log with its reason. "
        "403 when your keys are locked, you hold no key for it, or the content does not open."
    ),
    args=OpenSealedArgs,
    response=OpenedWorkerReportSchema,
    tag=TAG,
)
@roles(*SEALED_ROLES)
def open_worker_report(report_id: int, args: dict[str, Any]) -> operations.OpenedContent:
    user = _me()
    report = load_report(report_id).report
    _require(can_open_report(user, report))
    reason = operations.reason_text(args["reason"], args["reason_text"])
    try:
        opened = operations.open_report(user, report, reason)
    except sealing.SealedAccessError as exc:
        raise _refused(exc) from exc
    db.session.commit()
    return opened


@route(
    "/worker-reports/<int:report_id>/acknowledge",
    method="POST",
    summary=_l("Acknowledge a report"),
    response=WorkerReportSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def acknowledge_worker_report(report_id: int) -> ReportView:
    return _manage(report_id, operations.acknowledge)


@route(
    "/worker-reports/<int:report_id>/status",
    method="POST",
    summary=_l("Change a report's status"),
    args=SetReportStatusArgs,
    response=WorkerReportSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def set_worker_report_status(report_id: int, args: dict[str, Any]) -> ReportView:
    return _manage(report_id, operations.set_status, args["status"])


@route(
    "/worker-reports/<int:report_id>/feedback",
    method="POST",
    summary=_l("Record that the worker was given feedback"),
    description=_l("Stops the feedback deadline, e.g. after feedback given by telephone."),
    response=WorkerReportSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def record_worker_report_feedback(report_id: int) -> ReportView:
    return _manage(report_id, operations.record_feedback)


@route(
    "/worker-reports/<int:report_id>/messages",
    method="POST",
    summary=_l("Reply to the worker"),
    description=_l(
        "Sealed to your organisation and to the worker's receipt; only anonymous reports have one."
    ),
    args=ReplyToWorkerArgs,
    response=ReportMessageSchema,
    status=201,
    tag=TAG,
)
@roles(UserRole.monitor)
def reply_to_worker(report_id: int, args: dict[str, Any]) -> Any:
    report = member_report(report_id, can_manage_report)
    message = operations.reply_to_worker(_me(), report, args["body"], feedback=args["feedback"])
    db.session.commit()
    return message, 201


# --- evidence -------------------------------------------------------------------------------


@route(
    "/worker-reports/<int:report_id>/evidence",
    method="POST",
    summary=_l("Add a file to a report"),
    description=_l(
        "Send the file itself as the request body (e.g. Content-Type: application/octet-stream) "
        "and its name in the query parameter `filename`. The type is recognised from the "
        "content (PDF, JPEG, PNG, WebP, MP3, Ogg, WAV, AMR, MP4); the size limit is checked "
        "before the body is read (413). Name and content are sealed."
    ),
    response=ReportEvidenceSchema,
    status=201,
    tag=TAG,
    raw_body=True,
)
@roles(UserRole.monitor)
def upload_worker_report_evidence(report_id: int) -> Evidence:
    """The file is the request body (any content type); its name is the ``filename`` parameter."""
    report = member_report(report_id, can_add_evidence)
    limit = upload_limit(multipart=False)
    # One byte more than allowed: a body without a declared length that is cut off at the
    # maximum would otherwise pass as a complete file; sealing refuses anything over the limit.
    if not uploads.accept_body(limit, cut_off=limit + 1):
        raise ApiError(413, too_large_message())
    args = parse_args(UploadEvidenceArgs, request.args.to_dict(flat=True))
    evidence = operations.add_evidence(_me(), report, request.stream, args["filename"])
    db.session.commit()
    return evidence


@route(
    "/worker-reports/<int:report_id>/evidence/<int:evidence_id>/download",
    method="POST",
    summary=_l("Download a report's file"),
    description=_l(
        "Decrypts the file (audited with the reason) and sends it as an attachment. "
        "403 when your keys are locked or you hold no key for it."
    ),
    args=OpenSealedArgs,
    tag=TAG,
)
@roles(UserRole.monitor)
def download_worker_report_evidence(report_id: int, evidence_id: int, args: dict[str, Any]) -> Any:
    user = _me()
    report = member_report(report_id, can_open_evidence)
    evidence = db.session.scalar(visible_evidence(user, report).where(Evidence.id == evidence_id))
    if evidence is None:
        abort(404)
    reason = operations.reason_text(args["reason"], args["reason_text"])
    try:
        name, chunks = operations.open_evidence(user, evidence, reason)
    except sealing.SealedAccessError as exc:
        raise _refused(exc) from exc
    db.session.commit()
    return download_response(evidence, name, chunks)


# --- sharing with coordinators --------------------------------------------------------------


@route(
    "/worker-reports/<int:report_id>/grants",
    method="POST",
    summary=_l("Share a report with a coordinator"),
    description=_l("Seals the report's key to the coordinator's key; needs your unlocked keys."),
    args=ShareReportArgs,
    response=WorkerReportGrantSchema,
    status=201,
    tag=TAG,
)
@roles(UserRole.monitor)
def share_worker_report(report_id: int, args: dict[str, Any]) -> Any:
    user = _me()
    report = member_report(report_id, can_share_report)
    grantee = next((c for c in operations.shareable_coordinators(report) if c.id == args["user_id"]), None)
    if grantee is None:
        message = _("Reports can be shared only with active coordinators who cannot read it yet.")
        raise ApiError(422, message, {"user_id": [message]})
    try:
        grant = operations.share_report(user, report, grantee)
    except sealing.SealedAccessError as exc:
        raise _refused(exc) from exc
    except OperationError as exc:
        raise operation_error(exc, rename={"user": "user_id"}) from exc
    db.session.commit()
    return grant, 201


@route(
    "/worker-reports/<int:report_id>/grants/<int:grant_id>",
    method="DELETE",
    summary=_l("Stop sharing a report with a coordinator"),
    status=204,
    tag=TAG,
)
@roles(UserRole.monitor)
def revoke_worker_report_grant(report_id: int, grant_id: int) -> Any:
    user = _me()
    report = member_report(report_id, can_share_report)
    grant = db.session.scalar(visible_grants(user, report).where(ReportGrant.id == grant_id))
    if grant is None:
        abort(404)
    operations.stop_sharing(user, grant)
    db.session.commit()
    return None, 204


# --- organisation key versions --------------------------------------------------------------


@route(
    "/worker-report-keys",
    summary=_l("Your organisation's key versions"),
    description=_l(
        "What each version still seals; after a rotation, older versions are re-wrapped and retired."
    ),
    response=ReportKeyVersionsSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def worker_report_key_versions() -> operations.KeyVersions:
    user = _me()
    _require(can_manage_organisation_keys(user))
    return operations.key_versions(user.organisation)


@route(
    "/worker-report-keys/rewrap",
    method="POST",
    summary=_l("Re-wrap older reports to the newest key version"),
    description=_l(
        "Re-seals report, message and file keys from older versions to the newest, in batches "
        "that are each committed; call again while `to_rewrap` is above 0. A version nothing "
        "refers to any more is retired."
    ),
    args=RewrapReportKeysArgs,
    response=RewrapReportKeysResultSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def rewrap_worker_report_keys(args: dict[str, Any]) -> operations.RewrapResult:
    user = _me()
    _require(can_manage_organisation_keys(user))
    try:
        return operations.rewrap_versions(
            user, batch_size=args["batch_size"], max_batches=args["max_batches"], end_batch=db.session.commit
        )
    except sealing.SealedAccessError as exc:
        raise _refused(exc) from exc


@route(
    "/worker-report-keys/reencrypt",
    method="POST",
    summary=_l("Re-encrypt older reports under fresh keys"),
    description=_l(
        "After a member left: gives each report whose data key is older than the newest version a "
        "fresh data key, and its messages and files fresh keys, so that a copy of an older "
        "version's key opens nothing any more. Works in batches that are each committed; call "
        "again while `to_reencrypt` is above 0."
    ),
    args=ReencryptReportsArgs,
    response=ReencryptReportsResultSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def reencrypt_worker_reports(args: dict[str, Any]) -> operations.ReencryptResult:
    user = _me()
    _require(can_manage_organisation_keys(user))
    try:
        return operations.reencrypt_reports(
            user, batch_size=args["batch_size"], max_batches=args["max_batches"], end_batch=db.session.commit
        )
    except sealing.SealedAccessError as exc:
        raise _refused(exc) from exc


@route(
    "/worker-report-keys/rotate",
    method="POST",
    summary=_l("Make a new version of your organisation's key"),
    description=_l(
        "A new post-quantum (ML-KEM-768 + X25519) version, granted to every member who holds the "
        "key; new reports are sealed to it. Needs your unlocked access to the newest version."
    ),
    response=ReportKeyVersionsSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def rotate_worker_report_key() -> operations.KeyVersions:
    user = _me()
    _require(can_manage_organisation_keys(user))
    try:
        state = operations.rotate_key(user)
    except sealing.SealedAccessError as exc:
        raise _refused(exc) from exc
    except OperationError as exc:
        raise operation_error(exc) from exc
    db.session.commit()
    return state


@route(
    "/worker-report-keys/recovery-key",
    method="POST",
    summary=_l("Seal your organisation's key to a post-quantum recovery key"),
    description=_l(
        "Versions made before December 2026 are sealed to an X25519 recovery key. With the "
        "recovery code, every version in use is sealed to a post-quantum recovery key derived from "
        "the same code instead; the code stays the same."
    ),
    args=UpgradeRecoveryKeyArgs,
    response=RecoveryKeyUpgradeResultSchema,
    tag=TAG,
)
@roles(UserRole.monitor)
def upgrade_recovery_key(args: dict[str, Any]) -> operations.RecoveryUpgradeResult:
    user = _me()
    _require(can_manage_organisation_keys(user))
    try:
        result = operations.upgrade_recovery_key(user, args["recovery_code"])
    except OperationError as exc:
        raise operation_error(exc) from exc
    db.session.commit()
    return result


# --- routing --------------------------------------------------------------------------------


@route(
    "/monitor-coverage",
    summary=_l("Which monitoring organisation receives reports for which country"),
    args=ListMonitorCoverageArgs,
    response=MonitorCoverageSchema,
    paginated=True,
    tag=TAG,
)
@roles(*COVERAGE_ROLES)
def list_monitor_coverage(args: dict[str, Any]) -> Page:
    _require(can_manage_coverage(_me()))
    page = paginate(select(MonitorCoverage), [MonitorCoverage.id], args.get("after"), args.get("limit"))
    with_key = operations.organisations_with_key({c.organisation_id for c in page.items})
    page.items = [CoverageView(c, c.organisation_id in with_key) for c in page.items]
    return page


@route(
    "/monitor-coverage",
    method="POST",
    summary=_l("Ask that a country's reports go to a monitoring organisation"),
    description=_l(
        "`country` null asks for the fallback for every country nobody covers. The change waits "
        "(202) until a member of the organisation receiving these reports today confirms it, or until "
        "the wait is over without an objection; it is in force at once (200) only if nobody receives "
        "these reports today or the same organisation keeps them."
    ),
    args=SetMonitorCoverageArgs,
    response=CoverageChangeSchema,
    tag=TAG,
)
@roles(*COVERAGE_ROLES)
def set_monitor_coverage(args: dict[str, Any]) -> Any:
    user = _me()
    _require(can_manage_coverage(user))
    organisation = db.session.get(Organisation, args["organisation_id"])
    if organisation is None:
        message = _("There is no such organisation.")
        raise ApiError(422, message, {"organisation_id": [message]})
    try:
        change = routing.request_change(user, country=args["country"], organisation=organisation)
    except OperationError as exc:
        raise operation_error(exc, rename={"organisation": "organisation_id"}) from exc
    db.session.commit()
    return routing_answer(change)


@route(
    "/monitor-coverage/<int:coverage_id>",
    method="DELETE",
    summary=_l("Ask to stop routing a country's reports by its own route"),
    description=_l("Waits for consent like any change (202), unless nobody else would receive them (200)."),
    response=CoverageChangeSchema,
    tag=TAG,
)
@roles(*COVERAGE_ROLES)
def remove_monitor_coverage(coverage_id: int) -> Any:
    user = _me()
    _require(can_manage_coverage(user))
    coverage = db.session.get(MonitorCoverage, coverage_id)
    if coverage is None:
        abort(404)
    try:
        change = routing.request_change(user, country=coverage.country, organisation=None)
    except OperationError as exc:
        raise operation_error(exc) from exc
    db.session.commit()
    return routing_answer(change)
