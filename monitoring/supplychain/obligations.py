"""The supplier's obligation to confirm its disclosure for a contract, and its clock.

The first confirmation is due ``DISCLOSURE_DUE_DAYS`` after the contract starts; each
confirmation makes the next one due a year later. The due date in force is the later of the
two: ``max(start_date + DISCLOSURE_DUE_DAYS, last confirmation + 1 year)``, so a confirmation
given before the first due date does not move it earlier. A confirmation is overdue the day
after its due date, and escalated to the buyer ``DISCLOSURE_ESCALATION_DAYS`` after that. Only
contracts in force have the obligation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from monitoring.core.db import db
from monitoring.supplychain.models import Contract
from monitoring.supplychain.permissions import contract_in_force, is_in_force

logger = logging.getLogger(__name__)


def _due_days() -> int:
    return int(current_app.config["DISCLOSURE_DUE_DAYS"])


def _escalation_days() -> int:
    return int(current_app.config["DISCLOSURE_ESCALATION_DAYS"])


def one_year_after(day: date) -> date:
    """The same day a year later (28 February after a 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day + timedelta(days=365)


def disclosure_due_date(contract: Contract) -> date:
    """The day by which the supplier is to confirm the contract's disclosure (see the module)."""
    first = contract.start_date + timedelta(days=_due_days())
    confirmed: datetime | None = contract.disclosure_confirmed_dt
    if confirmed is None:
        return first
    return max(first, one_year_after(confirmed.date()))


@dataclass(frozen=True)
class DisclosureObligation:
    """Where a contract's disclosure confirmation stands on ``today``."""

    contract_id: int
    today: date
    in_force: bool
    due_date: date
    confirmed_dt: datetime | None
    escalation_date: date

    @property
    def overdue(self) -> bool:
        return self.in_force and self.today > self.due_date

    @property
    def escalated(self) -> bool:
        """Overdue long enough to be told to the buyer."""
        return self.in_force and self.today > self.escalation_date


def disclosure_obligation(contract: Contract, today: date) -> DisclosureObligation:
    due = disclosure_due_date(contract)
    return DisclosureObligation(
        contract_id=contract.id,
        today=today,
        in_force=is_in_force(contract, today),
        due_date=due,
        confirmed_dt=contract.disclosure_confirmed_dt,
        escalation_date=due + timedelta(days=_escalation_days()),
    )


def overdue_contracts(today: date) -> list[tuple[Contract, DisclosureObligation]]:
    """Contracts in force whose disclosure confirmation is overdue today, with their obligation."""
    # The due date is never before start + N days, so younger contracts cannot be overdue.
    query = (
        select(Contract)
        .where(contract_in_force(today), Contract.start_date < today - timedelta(days=_due_days()))
        .order_by(Contract.id)
    )
    rows = [(contract, disclosure_obligation(contract, today)) for contract in db.session.scalars(query)]
    return [(contract, obligation) for contract, obligation in rows if obligation.overdue]
