"""``flask jobs run``: overdue disclosure confirmations told to the supplier, then the buyer.

The clock itself is :mod:`monitoring.supplychain.obligations`; this module sends its notices
(it sits here because notifications are above the supply chain). Each is sent once per contract
and due date: the contract records the due date whose notice and escalation went out, so a
confirmation (which moves the due date a year on) starts both anew.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import select

from monitoring.accounts.models import Organisation, User
from monitoring.core.db import db
from monitoring.core.roles import UserRole
from monitoring.core.types import utcnow
from monitoring.notifications.models import NotificationKind
from monitoring.notifications.outbox import notify
from monitoring.supplychain.models import Contract
from monitoring.supplychain.obligations import DisclosureObligation, overdue_contracts

logger = logging.getLogger(__name__)


def _members(organisation_id: int, role: UserRole) -> list[User]:
    """The active users of an active organisation who hold ``role``."""
    query = (
        select(User)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(
            User.organisation_id == organisation_id,
            User.role == role,
            User.is_active.is_(True),
            Organisation.is_active.is_(True),
        )
        .order_by(User.id)
    )
    return list(db.session.scalars(query))


def _params(contract: Contract, obligation: DisclosureObligation) -> dict[str, Any]:
    return {
        "contract_id": contract.id,
        "reference": contract.reference,
        "supplier": contract.supplier.name,
        "due_date": obligation.due_date.isoformat(),
    }


def run_disclosure_jobs(today: date | None = None) -> str:
    """Tell suppliers of overdue confirmations, and buyers of long-overdue ones; never commits."""
    today = today or utcnow().date()
    overdue = escalated = 0
    for contract, obligation in overdue_contracts(today):
        due = obligation.due_date
        if contract.disclosure_overdue_notified_for != due:
            notify(
                _members(contract.supplier_id, UserRole.supplier),
                NotificationKind.disclosure_confirmation_overdue,
                params=_params(contract, obligation),
                dedupe_key=f"disclosure-overdue:{contract.id}:{due.isoformat()}",
            )
            contract.disclosure_overdue_notified_for = due
            overdue += 1
        if obligation.escalated and contract.disclosure_escalated_for != due:
            notify(
                _members(contract.affiliate_id, UserRole.affiliate),
                NotificationKind.disclosure_confirmation_escalated,
                params=_params(contract, obligation),
                dedupe_key=f"disclosure-escalated:{contract.id}:{due.isoformat()}",
            )
            contract.disclosure_escalated_for = due
            escalated += 1
    db.session.flush()
    if not (overdue or escalated):
        return ""
    logger.info("Disclosure confirmations: %d overdue notices, %d escalations", overdue, escalated)
    return f"disclosure confirmations: {overdue} overdue notices, {escalated} escalations to buyers"
