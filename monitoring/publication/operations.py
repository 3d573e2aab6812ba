"""Proposing, approving and withdrawing a case's publication (audited; the caller commits)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases.models import Case
from monitoring.core import audit
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow
from monitoring.publication.models import CasePublication


def publication_of(case: Case) -> CasePublication | None:
    return db.session.scalar(select(CasePublication).where(CasePublication.case_id == case.id))


def propose(actor: User, case: Case) -> CasePublication:
    """Propose the case for publication; a withdrawn publication starts over."""
    row = publication_of(case)
    if row is not None and row.withdrawn_dt is None:
        raise OperationError(_l("The case is already proposed or published."))
    if row is None:
        row = CasePublication(case_id=case.id, proposed_by_id=actor.id)
        db.session.add(row)
    row.proposed_by_id, row.proposed_dt = actor.id, utcnow()
    row.approved_by_id = row.approved_dt = row.withdrawn_by_id = row.withdrawn_dt = None
    db.session.flush()
    audit.record(
        "publication.propose", f"Proposed case {case.reference} for publication", actor=actor, obj=case
    )
    return row


def approve(actor: User, case: Case) -> CasePublication:
    """Approve a proposal: from now on the case is on the public status page."""
    row = publication_of(case)
    if row is None or not row.awaiting_approval:
        raise OperationError(_l("The case is not awaiting approval for publication."))
    row.approved_by_id, row.approved_dt = actor.id, utcnow()
    db.session.flush()
    audit.record(
        "publication.approve", f"Approved publication of case {case.reference}", actor=actor, obj=case
    )
    return row


def withdraw(actor: User, case: Case) -> CasePublication:
    """Withdraw a proposal or a publication: the case leaves every public page at once."""
    row = publication_of(case)
    if row is None or row.withdrawn_dt is not None:
        raise OperationError(_l("The case is neither proposed nor published."))
    was_published = row.published
    row.withdrawn_by_id, row.withdrawn_dt = actor.id, utcnow()
    db.session.flush()
    audit.record(
        "publication.withdraw",
        f"Withdrew publication of case {case.reference}",
        actor=actor,
        obj=case,
        data={"was_published": was_published},
    )
    return row
