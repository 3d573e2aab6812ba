"""JSON API of sealed testimony (monitors, and coordinators for reports shared with them).

Every route answers 404 to administrators, affiliates and suppliers, and for a report of
another organisation. Lists and details carry metadata only; sealed content is in the answer
of ``POST /worker-reports/{id}/open`` (with a reason, audited) and nowhere else.

A refused opening answers 403 with a generic message (locked keys and missing access say so
and what to do); the audit entry of the attempt is kept. Queries, lookups and input rules are
those of the pages (:mod:`.services`). Which monitor organisation receives which country's
reports (``/monitor-coverage``) is routing metadata for administrators and coordinators;
changes they ask for wait for consent (:mod:`.routing_api`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import User, UserRole
from monitoring.core import uploads
from monitoring.core.api import paginate, parse_args, route
from monitoring.core.auth import roles
from monitoring.core.errors import ApiError
from monitoring.core.pagination import Page
from monitoring.testimony import jobs, operations, routing, sealing
from monitoring.testimony import services as s
from monitoring.testimony.models import Evidence
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
)
from monitoring.testimony.schemas import (
    CoverageChangeSchema,
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
from monitoring.testimony.views import download_response

logger = logging.getLogger(__name__)

TAG = "testimony"


def _refused(exc: sealing.SealedAccessError) -> ApiError:
    """Keep the audit entry of the failed opening; answer 403 without details."""
    return ApiError(403, s.refusal_message(exc, page=False))


def _manage(report_id: int, change: Callable[..., Any], *args: Any) -> ReportView:
    """Make one change to a report of the user's organisation; answer the report as it now is."""
    report = s.member_report(s.me(), report_id, can_manage_report)
    change(s.me(), report, *args)
    return s.load_report(s.me(), report_id)


def _keys_manager() -> User:
    s.require(can_manage_organisation_keys(s.me()))
    return s.me()


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
    page = paginate(s.list_reports(s.me(), args), s.REPORT_ORDER, args.get("after"), args.get("limit"))
    page.items = s.report_views(page.items)
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
    s.require(can_record_report(s.me()))
    return ReportView(s.record_report(s.me(), args), False, False), 201


@route(
    "/worker-reports/<int:report_id>",
    summary=_l("A worker report"),
    description=_l("Metadata only; files and grants are listed for the monitors of the organisation."),
    response=WorkerReportDetailSchema,
    tag=TAG,
)
@roles(*SEALED_ROLES)
def get_worker_report(report_id: int) -> ReportDetailView:
    return s.report_detail(s.me(), s.load_report(s.me(), report_id))


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
    report = s.load_report(s.me(), report_id).report
    s.require(can_open_report(s.me(), report))
    try:
        return operations.open_report(s.me(), report, s.opening_reason(args))
    except sealing.SealedAccessError as exc:
        raise _refused(exc) from exc


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
    report = s.member_report(s.me(), report_id, can_manage_report)
    return operations.reply_to_worker(s.me(), report, args["body"], feedback=args["feedback"]), 201


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
    raw_body="application/octet-stream",
    query=UploadEvidenceArgs,
)
@roles(UserRole.monitor)
def upload_worker_report_evidence(report_id: int) -> Evidence:
    """The file is the request body (any content type); its name is the ``filename`` parameter."""
    report = s.member_report(s.me(), report_id, can_add_evidence)
    limit = s.upload_limit(multipart=False)
    # One byte more than allowed: a body without a declared length that is cut off at the
    # maximum would otherwise pass as a complete file; sealing refuses anything over the limit.
    if not uploads.accept_body(limit, cut_off=limit + 1):
        raise ApiError(413, s.too_large_message())
    args = parse_args(UploadEvidenceArgs, request.args.to_dict(flat=True))
    return operations.add_evidence(s.me(), report, request.stream, args["filename"])


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
    report = s.member_report(s.me(), report_id, can_open_evidence)
    evidence = s.load_evidence(s.me(), report, evidence_id)
    try:
        name, chunks = operations.open_evidence(s.me(), evidence, s.opening_reason(args))
    except sealing.SealedAccessError as exc:
        raise _refused(exc) from exc
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
    report = s.member_report(s.me(), report_id, can_share_report)
    try:
        return s.share_report(s.me(), report, args["user_id"]), 201
    except sealing.SealedAccessError as exc:
        raise _refused(exc) from exc


@route(
    "/worker-reports/<int:report_id>/grants/<int:grant_id>",
    method="DELETE",
    summary=_l("Stop sharing a report with a coordinator"),
    status=204,
    tag=TAG,
)
@roles(UserRole.monitor)
def revoke_worker_report_grant(report_id: int, grant_id: int) -> Any:
    report = s.member_report(s.me(), report_id, can_share_report)
    operations.stop_sharing(s.me(), s.load_grant(s.me(), report, grant_id))
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
    return operations.key_versions(_keys_manager().organisation)


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
    try:
        return jobs.rewrap_organisation_keys(_keys_manager(), **args)
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
    try:
        return jobs.reencrypt_organisation_reports(_keys_manager(), **args)
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
    try:
        return operations.rotate_key(_keys_manager())
    except sealing.SealedAccessError as exc:
        raise _refused(exc) from exc


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
    return operations.upgrade_recovery_key(_keys_manager(), args["recovery_code"])


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
    s.require(can_manage_coverage(s.me()))
    page = paginate(s.list_coverage(), s.COVERAGE_ORDER, args.get("after"), args.get("limit"))
    page.items = s.coverage_views(page.items)
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
    also=(202,),
)
@roles(*COVERAGE_ROLES)
def set_monitor_coverage(args: dict[str, Any]) -> Any:
    s.require(can_manage_coverage(s.me()))
    return s.change_answer(s.request_coverage(s.me(), args["organisation_id"], args["country"]))


@route(
    "/monitor-coverage/<int:coverage_id>",
    method="DELETE",
    summary=_l("Ask to stop routing a country's reports by its own route"),
    description=_l("Waits for consent like any change (202), unless nobody else would receive them (200)."),
    response=CoverageChangeSchema,
    tag=TAG,
    also=(202,),
)
@roles(*COVERAGE_ROLES)
def remove_monitor_coverage(coverage_id: int) -> Any:
    s.require(can_manage_coverage(s.me()))
    coverage = s.load_coverage(coverage_id)
    return s.change_answer(routing.request_change(s.me(), country=coverage.country, organisation=None))
