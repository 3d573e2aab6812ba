"""Who may see and do what with sealed worker testimony.

Reports are for the monitors of the organisation that receives them. A coordinator sees a
report only once a monitor of that organisation has shared it (a :class:`ReportGrant`), and
then may read it, nothing more. Administrators, affiliates and suppliers see none of it: every
testimony route answers them 404, as it does for a report of another organisation. So does
every route for a new monitor until a member of their organisation approves them.

Which monitor organisation receives reports for which country is routing metadata, managed by
administrators and coordinators; it reveals nothing about any report. A change of it needs the
consent of the organisation receiving the reports today (a member confirms, or nobody objects
during the wait); monitors of both organisations see it and may object.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, false, or_, select

from monitoring.accounts.models import Organisation, User
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.roles import UserRole, has_role, is_coordinator, is_monitor, same_organisation
from monitoring.testimony.models import (
    CoverageChange,
    CoverageChangeState,
    Evidence,
    ReportGrant,
    SurveyImport,
    WorkerReport,
)
from monitoring.testimony.models_retaliation import AlertState, RetaliationAlert

__all__ = ["is_coordinator", "is_monitor"]  # re-exported for the feature's callers

# The roles that may use any testimony route at all; others get 404 before anything is loaded.
SEALED_ROLES = (UserRole.monitor, UserRole.coordinator)
COVERAGE_ROLES = (UserRole.admin, UserRole.coordinator)


def is_member(user: User, report: WorkerReport) -> bool:
    """A monitor of the organisation the report is sealed to."""
    return is_monitor(user) and same_organisation(user, report.organisation_id)


def can_receive_grant(user: User) -> bool:
    """A report may be shared with (sealed to) an active coordinator only."""
    return is_coordinator(user)


def _granted(user: User) -> ColumnElement[bool]:
    return exists().where(ReportGrant.report_id == WorkerReport.id, ReportGrant.user_id == user.id)


def visible_reports(user: User) -> Select[Any]:
    """The reports a user may list and look up: their organisation's, or those shared with them."""
    query = select(WorkerReport)
    if is_monitor(user):
        return query.where(WorkerReport.organisation_id == user.organisation_id)
    if is_coordinator(user):
        return query.where(_granted(user))
    return query.where(false())


def visible_evidence(user: User, report: WorkerReport) -> Select[Any]:
    """A report's files (metadata) for the monitors of its organisation."""
    query = select(Evidence).where(Evidence.report_id == report.id)
    return query if is_member(user, report) else query.where(false())


def visible_grants(user: User, report: WorkerReport) -> Select[Any]:
    query = select(ReportGrant).where(ReportGrant.report_id == report.id)
    return query if is_member(user, report) else query.where(false())


# --- capabilities ---------------------------------------------------------------------------


def can_record_report(user: User) -> bool:
    """Record testimony collected by one's own organisation."""
    return is_monitor(user)


def can_open_report(user: User, report: WorkerReport) -> bool:
    """Try to open identity, testimony and workplace (the keys decide whether it works)."""
    if is_member(user, report):
        return True
    return is_coordinator(user) and has_grant(user, report)


def has_grant(user: User, report: WorkerReport) -> bool:
    condition = exists().where(ReportGrant.report_id == report.id, ReportGrant.user_id == user.id)
    return bool(db.session.scalar(select(condition)))


def can_manage_report(user: User, report: WorkerReport) -> bool:
    """Acknowledge, change the status, reply to the worker, add and read files, share."""
    return is_member(user, report)


can_read_conversation = can_manage_report


def reads_conversations(user: User) -> bool:
    """Monitors read their organisation's conversations with workers (and have read markers)."""
    return is_monitor(user)


can_add_evidence = can_manage_report
can_open_evidence = can_manage_report
can_share_report = can_manage_report


def can_manage_organisation_keys(user: User) -> bool:
    """Re-wrap the organisation's reports to its newest key version."""
    return is_monitor(user)


def can_manage_coverage(user: User) -> bool:
    """Ask for changes of who receives which country's reports, and withdraw them."""
    return has_role(user, *COVERAGE_ROLES)


def can_confirm_coverage_change(user: User, change: CoverageChange) -> bool:
    """A member of the organisation receiving the reports today agrees to hand them on."""
    return (
        change.state is CoverageChangeState.pending
        and change.from_organisation_id is not None
        and is_monitor(user)  # approved members only: a newcomer decides nothing
        and user.organisation_id == change.from_organisation_id
    )


def can_object_coverage_change(user: User, change: CoverageChange) -> bool:
    """Any monitor of the organisation giving or getting the reports may stop a waiting change."""
    return (
        change.state is CoverageChangeState.pending
        and is_monitor(user)
        and user.organisation_id in (change.from_organisation_id, change.to_organisation_id)
    )


def can_see_coverage_change(user: User, change: CoverageChange) -> bool:
    if can_manage_coverage(user):
        return True
    return is_monitor(user) and user.organisation_id in (
        change.from_organisation_id,
        change.to_organisation_id,
    )


def can_read_organisation_audit(user: User) -> bool:
    """Monitors read who opened their organisation's reports and how its routing changed."""
    return is_monitor(user)


def can_import_survey(user: User, organisation: Organisation) -> bool:
    """Monitors import surveys for their own organisation only."""
    return is_monitor(user) and same_organisation(user, organisation.id)


def visible_survey_imports(user: User) -> Select[Any]:
    """The survey imports a user may see: those of their own monitor organisation."""
    query = select(SurveyImport)
    if not is_monitor(user):
        return query.where(false())
    return query.where(SurveyImport.organisation_id == user.organisation_id)


def visible_changes(user: User) -> Select[Any]:
    """All changes for administrators and coordinators; those touching their organisation for monitors."""
    query = select(CoverageChange)
    if can_manage_coverage(user):
        return query
    if is_monitor(user):
        org_id = user.organisation_id
        return query.where(
            or_(CoverageChange.from_organisation_id == org_id, CoverageChange.to_organisation_id == org_id)
        )
    return query.where(false())


# Audit entries about a report (its opening, grants, messages, files) name it by these types.
REPORT_OBJECT_TYPES = (WorkerReport.__tablename__, "WorkerReport")
CHANGE_OBJECT_TYPE = CoverageChange.__tablename__


def visible_audit_trail(user: User) -> Select[Any]:
    """Audit entries about the user's organisation's reports (every opening, failed or not, every
    grant and message) and about changes of who receives reports that touch it (monitors only)."""
    if not is_monitor(user):
        return select(AuditEntry).where(false())
    org_id = user.organisation_id
    reports = select(cast(WorkerReport.id, String)).where(WorkerReport.organisation_id == org_id)
    changes = select(cast(CoverageChange.id, String)).where(
        or_(CoverageChange.from_organisation_id == org_id, CoverageChange.to_organisation_id == org_id)
    )
    return select(AuditEntry).where(
        or_(
            and_(AuditEntry.object_type.in_(REPORT_OBJECT_TYPES), AuditEntry.object_id.in_(reports)),
            and_(AuditEntry.object_type == CHANGE_OBJECT_TYPE, AuditEntry.object_id.in_(changes)),
        )
    )


# --- retaliation watch ----------------------------------------------------------------------


def visible_retaliation_alerts(user: User) -> Select[Any]:
    """Retaliation alerts of the reports the user's monitor organisation receives.

    Coordinators are told of an escalated alert as metadata only and see none of them here.
    """
    query = select(RetaliationAlert).join(WorkerReport, WorkerReport.id == RetaliationAlert.report_id)
    if is_monitor(user):
        return query.where(WorkerReport.organisation_id == user.organisation_id)
    return query.where(false())


def can_handle_retaliation_alert(user: User, alert: RetaliationAlert) -> bool:
    """File a finding from an open alert, or mark it handled: the report's monitors."""
    return alert.state is AlertState.open and is_member(user, alert.report)


def can_set_retaliation_risk(user: User, report: WorkerReport) -> bool:
    """Change a report's retaliation risk after intake: the report's monitors."""
    return is_member(user, report)
