"""Set a clause's status by hand, choose a finding's clauses. Both audited; neither commits."""

from __future__ import annotations

import logging
from collections.abc import Collection

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from monitoring.accounts.models import User
from monitoring.cases.compliance.permissions import can_assess_clauses, can_choose_clauses
from monitoring.cases.files import placeholder_ct
from monitoring.cases.models import (
    ClauseAssessment,
    ClauseStatus,
    Finding,
    FindingClause,
    FindingClauseChoice,
)
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.supplychain.models import ContractClause

logger = logging.getLogger(__name__)

REASON_MAX = 2000


def assess_clause(
    actor: User, clause: ContractClause, year: int, status: ClauseStatus, reason: str
) -> ClauseAssessment:
    """Record a manual status for the clause and year; it replaces the one shown until now."""
    if not can_assess_clauses(actor, clause.contract):
        raise OperationError(_l("Only the contract's buyer or a coordinator may set a clause's status."))
    reason = reason.strip()
    if not reason:
        raise OperationError(_l("Say why the clause has this status."), "reason")
    assessment = ClauseAssessment(
        clause_id=clause.id, year=year, status=status, set_by_id=actor.id, reason_ct=placeholder_ct()
    )
    db.session.add(assessment)
    db.session.flush()
    assessment.reason = reason
    db.session.flush()
    audit.record(
        "clause.assess",
        f"Set clause {clause.id} of contract {clause.contract_id} to {status.value} for {year}",
        actor=actor,
        obj=assessment,
        data={
            "clause_id": clause.id,
            "contract_id": clause.contract_id,
            "year": year,
            "status": status.value,
        },
    )
    logger.info(
        "clause %s of contract %s set to %s for %s", clause.id, clause.contract_id, status.value, year
    )
    return assessment


def choose_clauses(
    actor: User, finding: Finding, clause_ids: Collection[int], allowed: Collection[int]
) -> list[int]:
    """Set the clauses a finding breaches (``allowed``: the ids one may choose among)."""
    if not can_choose_clauses(actor, finding):
        raise OperationError(_l("Only a coordinator or the case's monitors may choose a finding's clauses."))
    chosen = sorted(set(clause_ids))
    if unknown := [i for i in chosen if i not in set(allowed)]:
        raise OperationError(
            _l(
                "Choose clauses of the contracts that reach the finding's site (not %(ids)s).",
                ids=", ".join(map(str, unknown)),
            ),
            "clause_ids",
        )
    choice = db.session.get(FindingClauseChoice, finding.id)
    before: list[int] | None = None
    if choice is None:
        db.session.add(FindingClauseChoice(finding_id=finding.id, set_by_id=actor.id))
    else:
        before = sorted(
            db.session.scalars(
                FindingClause.__table__.select()
                .with_only_columns(FindingClause.clause_id)
                .where(FindingClause.finding_id == finding.id)
            )
        )
        choice.set_by_id, choice.set_dt = actor.id, utcnow()
    db.session.execute(delete(FindingClause).where(FindingClause.finding_id == finding.id))
    db.session.add_all(FindingClause(finding_id=finding.id, clause_id=i) for i in chosen)
    db.session.flush()
    audit.record(
        "finding.clauses",
        f"Chose {len(chosen)} clause(s) for finding {finding.id}",
        actor=actor,
        obj=finding,
        data={
            "clause_ids": [before, chosen] if before is not None else chosen,
            "defaults_before": before is None,
        },
    )
    return chosen
