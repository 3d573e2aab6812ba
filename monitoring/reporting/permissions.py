"""Which figures and remedies a user's reporting rests on.

Figures are computed only over what the user may see: an affiliate its contracts' cases, a
supplier the corrective actions addressed to it (and the cases holding them), a monitor its
organisation's cases and reports, a coordinator everything. Worker-report figures (clocks of the
reports, metadata only, never testimony) are for monitors and coordinators. What an affiliate or a
supplier sees is small-cell suppressed.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from monitoring.accounts.models import User, UserRole
from monitoring.cases.models import Case, CorrectiveAction
from monitoring.cases.permissions import visible_case_ids
from monitoring.core.roles import is_affiliate, is_coordinator, is_monitor, is_supplier
from monitoring.testimony.models import WorkerReport

# Who may open the dashboard and the figures at all; administrators get 404.
REPORTING_ROLES = (UserRole.coordinator, UserRole.monitor, UserRole.affiliate, UserRole.supplier)


def can_view_dashboard(user: User) -> bool:
    """Whether the user has a dashboard (the reporting roles; not administrators)."""
    return user.is_authenticated and user.role in REPORTING_ROLES


def case_scope(user: User) -> ColumnElement[bool]:
    """The cases the user's figures rest on, as a condition on Case."""
    if is_coordinator(user):
        return true()
    if is_monitor(user) or is_affiliate(user) or is_supplier(user):
        return Case.id.in_(visible_case_ids(user))
    return false()


def action_scope(user: User) -> ColumnElement[bool]:
    """The corrective actions the user's figures rest on, as a condition on CorrectiveAction."""
    if is_coordinator(user):
        return true()
    if is_supplier(user):
        return CorrectiveAction.supplier_id == user.organisation_id
    if is_monitor(user) or is_affiliate(user):
        return CorrectiveAction.case_id.in_(visible_case_ids(user))
    return false()


def report_scope(user: User) -> ColumnElement[bool]:
    """The worker reports whose clocks the user's figures count (metadata only)."""
    if is_coordinator(user):
        return true()
    if is_monitor(user):
        return WorkerReport.organisation_id == user.organisation_id
    return false()


def sees_report_figures(user: User) -> bool:
    return is_coordinator(user) or is_monitor(user)


def suppresses_small_cells(user: User) -> bool:
    """Affiliates and suppliers see no figure resting on too few workers or reports."""
    return is_affiliate(user) or is_supplier(user)


def sees_queues(user: User) -> bool:
    """Plans awaiting a decision, verifications due, overdue actions and reports: staff."""
    return is_coordinator(user) or is_monitor(user)


def sees_leverage(user: User) -> bool:
    """Cases ranked by the buyers' collective leverage: the coordinators'."""
    return is_coordinator(user)


def sees_portfolio(user: User) -> bool:
    return is_affiliate(user)


def can_record_interim_remedy(user: User, case: Case) -> bool:
    """The case's monitors record what workers received before the case closes."""
    return is_monitor(user) and user.organisation_id == case.monitor_organisation_id
