"""Who may read and record a contract's follow-up meetings."""

from __future__ import annotations

from monitoring.accounts.models import User
from monitoring.core.roles import UserRole, is_affiliate, is_coordinator, is_supplier
from monitoring.supplychain.models import Contract

# Who may use the meeting routes at all (the contract is then checked).
READER_ROLES = (UserRole.coordinator, UserRole.affiliate, UserRole.supplier)
RECORDER_ROLES = (UserRole.coordinator, UserRole.affiliate)


def can_read_meetings(user: User, contract: Contract) -> bool:
    """The contract's buyer, its supplier, or a coordinator."""
    if is_coordinator(user):
        return True
    if is_affiliate(user):
        return user.organisation_id == contract.affiliate_id
    return is_supplier(user) and user.organisation_id == contract.supplier_id


def can_record_meeting(user: User, contract: Contract) -> bool:
    """The contract's buyer or a coordinator."""
    return is_coordinator(user) or (is_affiliate(user) and user.organisation_id == contract.affiliate_id)
