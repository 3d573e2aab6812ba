"""Who may propose, approve and withdraw a case's publication, and which cases are public."""

from __future__ import annotations

from sqlalchemy import Select, select

from monitoring.accounts.models import User
from monitoring.cases.models import Case
from monitoring.cases.permissions import can_list_findings, is_case_monitor
from monitoring.core.roles import is_coordinator
from monitoring.publication.models import CasePublication


def is_case_lead(user: User, case: Case) -> bool:
    return is_coordinator(user) and case.lead_coordinator_id == user.id


def can_propose(user: User, case: Case) -> bool:
    """The case's lead coordinator proposes publication."""
    return is_case_lead(user, case)


def can_approve(user: User, case: Case) -> bool:
    """A monitor of the organisation that works the case approves it."""
    return is_case_monitor(user, case)


def can_withdraw(user: User, case: Case) -> bool:
    """Either side may withdraw."""
    return is_case_lead(user, case) or is_case_monitor(user, case)


def acts_on_publication(user: User, case: Case) -> bool:
    return can_withdraw(user, case)


def published_publications() -> Select[CasePublication]:
    """The publications in force: approved and not withdrawn (the only thing the public sees)."""
    return select(CasePublication).where(
        CasePublication.approved_dt.is_not(None), CasePublication.withdrawn_dt.is_(None)
    )


def published_case_ids() -> Select[int]:
    return published_publications().with_only_columns(CasePublication.case_id)


def searches_findings(user: User) -> bool:
    """The search box lists findings for those who have the findings list (staff)."""
    return can_list_findings(user)
