"""Which figures and remedies a user's reporting rests on.

Figures are computed only over what the user may see: an affiliate its contracts' cases, a
supplier the corrective actions addressed to it (and the cases holding them), a monitor its
organisation's cases and reports, a coordinator everything. Worker-report figures (clocks of the
reports, metadata only, never testimony) are for monitors and coordinators. What an affiliate or a
supplier sees is small-cell suppressed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ColumnElement, false, true

from monitoring.accounts.models import Organisation, User, UserRole
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


# The scope of a figure snapshot: whose view of the data it is (``network``: the coordinators').
NETWORK_SCOPE = "network"
SCOPE_ROLES = {
    NETWORK_SCOPE: UserRole.coordinator,
    "monitor": UserRole.monitor,
    "affiliate": UserRole.affiliate,
    "supplier": UserRole.supplier,
}


def figure_scope(user: User) -> tuple[str, int] | None:
    """The snapshot the user's figures are read from: the network's, or their organisation's."""
    if is_coordinator(user):
        return NETWORK_SCOPE, 0
    if (is_monitor(user) or is_affiliate(user) or is_supplier(user)) and user.organisation_id:
        return user.role.value, user.organisation_id
    return None


STAND_IN_APPROVED = datetime(2000, 1, 1, tzinfo=UTC)  # a stand-in monitor's membership is not pending


def scope_user(scope: str, organisation_id: int) -> User:
    """A stand-in member in good standing (never stored) whose figures are those of a snapshot's scope.

    Its organisation is a transient object too, so that no session ever adds the stand-in."""
    organisation = Organisation(id=organisation_id or None, is_active=True)
    return User(
        role=SCOPE_ROLES[scope],
        organisation_id=organisation_id or None,
        organisation=organisation,
        is_active=True,
        membership_approved_dt=STAND_IN_APPROVED,
    )


def sees_report_figures(user: User) -> bool:
    return is_coordinator(user) or is_monitor(user)


def suppresses_small_cells(user: User) -> bool:
    """Affiliates and suppliers see no figure resting on too few workers or reports."""
    return is_affiliate(user) or is_supplier(user)


def sees_queues(user: User) -> bool:
    """Plans awaiting a decision, verifications due, overdue actions and reports: staff."""
    return is_coordinator(user) or is_monitor(user)


def counts_whole_network(user: User) -> bool:
    """Whether the user's queues count the whole network (the coordinators'), not one
    organisation's cases."""
    return is_coordinator(user)


def sees_leverage(user: User) -> bool:
    """Cases ranked by the buyers' collective leverage: the coordinators'."""
    return is_coordinator(user)


def sees_portfolio(user: User) -> bool:
    return is_affiliate(user)


def can_record_interim_remedy(user: User, case: Case) -> bool:
    """The case's monitors record what workers received before the case closes."""
    return is_monitor(user) and user.organisation_id == case.monitor_organisation_id
