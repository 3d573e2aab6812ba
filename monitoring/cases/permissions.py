"""Who may see and do what with findings, cases, corrective actions and the dialogue.

Coordinators see every case and finding (never the links to worker reports). Monitors see the
cases their organisation works and their organisation's findings with the report links. An
affiliate sees the cases whose site one of its contracts reaches today, their findings,
actions and the ``buyers`` and ``parties`` dialogue. A supplier sees only the corrective
actions addressed to its organisation, the cases holding them and the ``parties`` dialogue
addressed to it; of a finding only the standard and the severity. Administrators see none of
it. Everything a user may not see answers 404.

The ``can_*`` functions answer for the role and the relation to the object; the state an
object is in is checked by the operations (see :mod:`monitoring.cases.workflow`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true

from monitoring.accounts.models import User, UserRole
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseEvent,
    CaseFile,
    CaseMessage,
    CorrectiveAction,
    Finding,
    Visibility,
)
from monitoring.core.db import db
from monitoring.core.roles import is_affiliate as is_affiliate  # re-exported for the operations
from monitoring.core.roles import is_coordinator as is_coordinator
from monitoring.core.roles import is_monitor as is_monitor
from monitoring.core.roles import is_staff as is_staff
from monitoring.core.roles import is_supplier as is_supplier
from monitoring.core.types import utcnow
from monitoring.supplychain.queries import buyer_sites
from monitoring.testimony.models_retaliation import RetaliationAlert
from monitoring.testimony.permissions import can_handle_retaliation_alert

# The roles that may use any cases route at all; admins get 404 before anything is loaded.
CASE_ROLES = (UserRole.coordinator, UserRole.monitor, UserRole.affiliate, UserRole.supplier)
# Aggregates shown to affiliates and suppliers hide worker counts below this.
SMALL_CELL = 5


def is_case_monitor(user: User, case: Case) -> bool:
    """A monitor of the organisation that works the case."""
    return is_monitor(user) and user.organisation_id == case.monitor_organisation_id


def is_action_supplier(user: User, action: CorrectiveAction) -> bool:
    """A user of the supplier organisation the action is addressed to."""
    return is_supplier(user) and user.organisation_id == action.supplier_id


def reads_whole_case(user: User, case: Case) -> bool:
    """Coordinators and the case's monitors: every message and event, internal ones too."""
    return is_coordinator(user) or is_case_monitor(user, case)


def _today(today: date | None) -> date:
    return today or utcnow().date()


# --- scoping queries --------------------------------------------------------------------------


def _affiliate_sites(user: User, today: date | None) -> Select[int]:
    return buyer_sites(_today(today), user.organisation_id)


def _supplier_case_ids(user: User) -> Select[int]:
    return select(CorrectiveAction.case_id).where(CorrectiveAction.supplier_id == user.organisation_id)


def _case_clause(user: User, today: date | None = None) -> ColumnElement[bool]:
    """Which cases the user sees, as a condition on Case."""
    if is_coordinator(user):
        return true()
    if is_monitor(user):
        return Case.monitor_organisation_id == user.organisation_id
    if is_affiliate(user):
        return Case.site_id.in_(_affiliate_sites(user, today))
    if is_supplier(user):
        return Case.id.in_(_supplier_case_ids(user))
    return false()


def visible_cases(user: User, today: date | None = None) -> Select[Case]:
    return select(Case).where(_case_clause(user, today))


def visible_case_clause(user: User, today: date | None = None) -> ColumnElement[bool]:
    """Which cases the user sees, as a condition on ``Case`` (for a query of its columns)."""
    return _case_clause(user, today)


def visible_case_ids(user: User, today: date | None = None) -> Select[int]:
    return select(Case.id).where(_case_clause(user, today))


def visible_findings(user: User) -> Select[Finding]:
    """Findings a user may list and look up (summaries are a separate question)."""
    query = select(Finding)
    if is_coordinator(user):
        return query
    if is_monitor(user):
        case_ids = select(Case.id).where(Case.monitor_organisation_id == user.organisation_id)
        return query.where(
            or_(Finding.organisation_id == user.organisation_id, Finding.case_id.in_(case_ids))
        )
    if is_affiliate(user):
        return query.where(Finding.case_id.in_(visible_case_ids(user)))
    if is_supplier(user):
        addressed = select(CorrectiveAction.finding_id).where(
            CorrectiveAction.supplier_id == user.organisation_id
        )
        return query.where(Finding.id.in_(addressed))
    return query.where(false())


def visible_actions(user: User) -> Select[CorrectiveAction]:
    query = select(CorrectiveAction)
    if is_coordinator(user):
        return query
    if is_supplier(user):
        return query.where(CorrectiveAction.supplier_id == user.organisation_id)
    if is_monitor(user) or is_affiliate(user):
        return query.where(CorrectiveAction.case_id.in_(visible_case_ids(user)))
    return query.where(false())


def _dialogue_clause(
    user: User, case: Case, model: type[CaseMessage] | type[CaseEvent]
) -> ColumnElement[bool]:
    """Which messages (or events) of a case the user reads."""
    if reads_whole_case(user, case):
        return true()
    in_visible_case = model.case_id.in_(visible_case_ids(user))
    if is_affiliate(user):
        return and_(in_visible_case, model.visibility.in_([Visibility.buyers, Visibility.parties]))
    if is_supplier(user):
        return and_(
            in_visible_case,
            model.visibility == Visibility.parties,
            model.supplier_id == user.organisation_id,
        )
    return false()


def visible_messages(user: User, case: Case) -> Select[CaseMessage]:
    """The case's messages the user reads, oldest first."""
    return (
        select(CaseMessage)
        .where(CaseMessage.case_id == case.id, _dialogue_clause(user, case, CaseMessage))
        .order_by(CaseMessage.created_dt, CaseMessage.id)
    )


def visible_events(user: User, case: Case) -> Select[CaseEvent]:
    """The case's timeline events the user reads, oldest first."""
    return (
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, _dialogue_clause(user, case, CaseEvent))
        .order_by(CaseEvent.created_dt, CaseEvent.id)
    )


def reads_visibility(user: User, case: Case, visibility: Visibility, supplier_id: int | None) -> bool:
    """Whether the user reads a message or event of this visibility (for one loaded row).

    The case itself must already be known to be visible to the user.
    """
    if reads_whole_case(user, case):
        return True
    if is_affiliate(user):
        return visibility in (Visibility.buyers, Visibility.parties)
    if is_supplier(user):
        return visibility is Visibility.parties and supplier_id == user.organisation_id
    return False


# --- findings ---------------------------------------------------------------------------------


def can_see_report_links(user: User, finding: Finding) -> bool:
    """Only monitors of the organisation that filed the finding see its worker reports.

    Not a new monitor before a member approved them: they see nothing of the reports.
    """
    return is_monitor(user) and user.organisation_id == finding.organisation_id


def can_see_finding_summary(user: User, finding: Finding) -> bool:
    """Everyone who sees the finding except suppliers (they get the standard and severity)."""
    if is_coordinator(user) or is_affiliate(user):
        return True
    if is_monitor(user):
        return user.organisation_id == finding.organisation_id or (
            finding.case is not None and is_case_monitor(user, finding.case)
        )
    return False


def shown_workers(user: User, count: int | None) -> int | None:
    """The number of workers affected as this user may see it: None when suppressed."""
    if count is None:
        return None
    if (is_affiliate(user) or is_supplier(user)) and count < SMALL_CELL:
        return None
    return count


def can_file_finding(user: User) -> bool:
    return is_monitor(user)


def can_edit_finding(user: User, finding: Finding) -> bool:
    """Monitors of the organisation that filed it (the operation refuses once the case is closed)."""
    return is_monitor(user) and user.organisation_id == finding.organisation_id


# --- cases ------------------------------------------------------------------------------------


def can_open_case(user: User) -> bool:
    return is_coordinator(user) or is_monitor(user)


def can_set_lead(user: User, case: Case) -> bool:
    return is_coordinator(user)


def can_add_findings(user: User, case: Case) -> bool:
    return reads_whole_case(user, case)


def can_request_action(user: User, case: Case) -> bool:
    return is_coordinator(user)


def can_change_deadlines(user: User, action: CorrectiveAction) -> bool:
    return is_coordinator(user)


def can_close_case(user: User, case: Case) -> bool:
    return is_case_monitor(user, case)


def can_reopen_case(user: User, case: Case) -> bool:
    return reads_whole_case(user, case)


def can_release_status(user: User, case: Case) -> bool:
    """The case's monitors choose what the workers whose reports the case rests on are told."""
    return is_case_monitor(user, case)


def can_ask_workers(user: User, case: Case) -> bool:
    """The case's monitors send validation questions through the receipt channel."""
    return is_case_monitor(user, case)


def sees_worker_releases(user: User, case: Case) -> bool:
    """Which statuses were released to workers (and to which report): coordinators and the case's monitors."""
    return reads_whole_case(user, case)


def sees_case_reports(user: User, case: Case) -> bool:
    """Which report a release went to: only the case's monitors know the case's reports."""
    return is_case_monitor(user, case)


def can_read_closure_note(user: User, case: Case) -> bool:
    """A closing note is for coordinators and the case's monitors (the closing form says so);
    buyers read the outcome and the remedies, suppliers no closure at all."""
    return reads_whole_case(user, case)


def message_visibilities(user: User, case: Case) -> list[Visibility]:
    """The visibilities the user may post with on this case ([] = may not post).

    ``parties`` needs a supplier with a corrective action on the case; a supplier's messages are
    always ``parties`` messages to its own organisation.
    """
    has_suppliers = bool(case.actions)
    if reads_whole_case(user, case):
        scopes = [Visibility.internal, Visibility.buyers]
        return [*scopes, Visibility.parties] if has_suppliers else scopes
    if is_affiliate(user):
        return [Visibility.buyers, Visibility.parties] if has_suppliers else [Visibility.buyers]
    if is_supplier(user) and any(a.supplier_id == user.organisation_id for a in case.actions):
        return [Visibility.parties]
    return []


def message_suppliers(user: User, case: Case) -> list[int]:
    """The supplier organisations a ``parties`` message of this user may be addressed to."""
    if is_supplier(user):
        return [user.organisation_id] if Visibility.parties in message_visibilities(user, case) else []
    if Visibility.parties not in message_visibilities(user, case):
        return []
    return list(dict.fromkeys(action.supplier_id for action in case.actions))


def can_read_file(user: User, case_file: CaseFile) -> bool:
    """Whether the user may download a file of a message or of an action's implementation."""
    case = db.session.get(Case, case_file.case_id)
    if case is None:
        return False
    if reads_whole_case(user, case):
        return True
    if case_file.message is not None:
        message = case_file.message
        if not reads_visibility(user, case, message.visibility, message.supplier_id):
            return False
    elif case_file.action is not None:
        if is_supplier(user):
            return is_action_supplier(user, case_file.action)
    else:
        return False
    if is_affiliate(user) or is_supplier(user):
        return bool(db.session.scalar(select(exists().where(_case_clause(user), Case.id == case.id))))
    return False


# --- what the pages and the API offer ------------------------------------------------------


def listed_findings(user: User) -> Select[Finding]:
    """The findings list: a monitor lists its own organisation's findings (those of the cases it
    works are the same ones, a case holds one organisation's findings); the others as they see them."""
    query = visible_findings(user)
    if is_monitor(user):
        return query.where(Finding.organisation_id == user.organisation_id)
    return query


def openable_findings(user: User) -> Select[Finding]:
    """Findings the user may put into a new case: in no case yet, a monitor's own organisation's."""
    return listed_findings(user).where(Finding.case_id.is_(None))


def can_open_case_for(user: User, finding: Finding) -> bool:
    if finding.case_id is not None or not can_open_case(user):
        return False
    return not is_monitor(user) or finding.organisation_id == user.organisation_id


def awaiting_decision(user: User) -> ColumnElement[bool]:
    """Actions whose plan waits for this user's decision (coordinators, the case's monitors)."""
    if not is_staff(user):
        return false()
    return CorrectiveAction.state == ActionState.plan_submitted


def can_list_findings(user: User) -> bool:
    return is_staff(user)


def can_list_cases(user: User) -> bool:
    """Suppliers have their list of requests instead of a case board."""
    return not is_supplier(user)


def decides_plans(user: User) -> bool:
    return is_staff(user)


def verifies_actions(user: User) -> bool:
    return is_monitor(user)


def answers_requests(user: User) -> bool:
    return is_supplier(user)


def sees_other_organisations(user: User) -> bool:
    """Coordinators see which monitoring organisation filed each finding in the list."""
    return is_coordinator(user)


def sees_site_page(user: User) -> bool:
    return not is_supplier(user)


def sees_people(user: User) -> bool:
    """Who requested an action or leads a case: for everyone but suppliers."""
    return not is_supplier(user)


def sees_own_contracts(user: User) -> bool:
    """An affiliate sees its own products at the case's site and how many other buyers it has."""
    return is_affiliate(user)


def can_read_closures(user: User, case: Case) -> bool:
    return reads_whole_case(user, case) or is_affiliate(user)


def board_scope(user: User) -> str:
    """Whose cases the board shows: ``products`` (an affiliate's), ``organisation`` (a monitor's), ``all``."""
    if is_affiliate(user):
        return "products"
    return "organisation" if is_monitor(user) else "all"


def message_supplier_choices(user: User, case: Case) -> list[int]:
    """The suppliers a user chooses from for a ``parties`` message (a supplier writes to its own)."""
    return [] if is_supplier(user) else message_suppliers(user, case)


# --- decisions of operations and jobs ---------------------------------------------------------


def can_lead_cases(user: User) -> bool:
    """Whether a user may be named a case's lead coordinator: an active coordinator account."""
    return user.role is UserRole.coordinator and bool(user.is_active)


def opens_for_own_organisation(user: User) -> bool:
    """A monitor opens cases with their own organisation's findings only; coordinators with any."""
    return is_monitor(user)


def leads_cases_opened(user: User) -> bool:
    """A coordinator who opens a case without naming a lead becomes the lead."""
    return is_coordinator(user)


def writes_for_own_organisation(user: User) -> bool:
    """A supplier's messages always go to its own organisation's ``parties`` dialogue."""
    return is_supplier(user)


def takes_part(user: User, obj: Case | CorrectiveAction, roles: frozenset[UserRole]) -> bool:
    """Whether the user has one of the roles *for this object* (not only in general).

    A coordinator takes part in every case; a monitor in the cases their organisation works; a
    supplier in the corrective actions addressed to its organisation.
    """
    if not getattr(user, "is_authenticated", False) or user.role not in roles:
        return False
    case = obj if isinstance(obj, Case) else obj.case
    if user.role is UserRole.coordinator:
        return is_coordinator(user)
    if user.role is UserRole.monitor:
        return is_case_monitor(user, case)
    if user.role is UserRole.supplier:
        return isinstance(obj, CorrectiveAction) and is_action_supplier(user, obj)
    return False


# --- retaliation watch ----------------------------------------------------------------------


def can_file_retaliation_finding(user: User, alert: RetaliationAlert) -> bool:
    """File a retaliation finding from an open alert: the monitors of the alert's report."""
    return can_file_finding(user) and can_handle_retaliation_alert(user, alert)
