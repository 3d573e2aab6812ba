"""Record an interim remedy: what workers received on a case that is still open.

The remedies recorded at closure stay with the closure (``cases.operations.close_case``); these
hang off the case and count in the remedy ledger from the day they are recorded.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import User, UserRole
from monitoring.cases.models import Case, CaseState, Remedy
from monitoring.cases.operations.cases import RemedyData
from monitoring.cases.operations.cases import _clean_remedy as clean_remedy
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.reporting.permissions import can_record_interim_remedy

REMEDY_ROLES = (UserRole.monitor,)


def record_interim_remedy(actor: User, case: Case, values: dict[str, Any]) -> Remedy:
    """Record a remedy on an open case (the case's monitors); refused once the case is closed."""
    if not can_record_interim_remedy(actor, case):
        raise OperationError(_l("Only the case's monitors record its remedies."))
    if case.state is CaseState.closed:
        raise OperationError(_l("The case is closed: record remedies when closing it."), field="kind")
    cleaned = clean_remedy(1, RemedyData(**values))
    remedy = Remedy(
        case_id=case.id,
        recorded_by_id=actor.id,
        recorded_dt=utcnow(),
        **{k: v for k, v in cleaned.items() if k != "description"},
    )
    db.session.add(remedy)
    db.session.flush()
    remedy.description = cleaned["description"]
    audit.record(
        "case.remedy",
        f"Recorded an interim remedy on case {case.reference}",
        actor=actor,
        obj=case,
        data={
            "remedy_id": remedy.id,
            "kind": remedy.kind.value,
            "amount": str(remedy.amount) if remedy.amount is not None else None,
            "currency": remedy.currency,
            "workers_covered": remedy.workers_covered,
        },
    )
    db.session.flush()
    return remedy
