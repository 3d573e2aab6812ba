"""Who may read and set clause compliance.

Whoever sees a contract (:func:`monitoring.supplychain.permissions.visible_contracts`) reads its
compliance page; derived statuses count only the findings the reader may see. The contract's
buyer (an affiliate of the buyer organisation) and coordinators set a status by hand. A
finding's clauses are chosen by a coordinator or by a monitor of the case's organisation (of the
organisation that filed it while it has no case). The per-supplier summary is for buyers (their
own contracts) and coordinators (every contract).
"""

from __future__ import annotations

from monitoring.accounts.models import User
from monitoring.cases.models import Finding
from monitoring.core.roles import UserRole, is_affiliate, is_coordinator, is_monitor
from monitoring.supplychain.models import Contract

# Who may open the per-supplier summary.
SUMMARY_ROLES = (UserRole.affiliate, UserRole.coordinator)
# Who may use the finding-clauses routes at all (the finding is then checked).
CHOOSER_ROLES = (UserRole.coordinator, UserRole.monitor)
# Who may set a clause's status by hand (the contract is then checked).
ASSESSOR_ROLES = (UserRole.affiliate, UserRole.coordinator)


def can_assess_clauses(user: User, contract: Contract) -> bool:
    """The contract's buyer or a coordinator."""
    return is_coordinator(user) or (is_affiliate(user) and user.organisation_id == contract.affiliate_id)


def can_choose_clauses(user: User, finding: Finding) -> bool:
    """A coordinator, or a monitor of the organisation working the finding's case (filing it, without one)."""
    if is_coordinator(user):
        return True
    organisation_id = finding.case.monitor_organisation_id if finding.case else finding.organisation_id
    return is_monitor(user) and user.organisation_id == organisation_id
