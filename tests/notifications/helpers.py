"""Cases and corrective actions built straight through the models (no workflow), for jobs tests."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from flask import Flask

from monitoring.accounts.models import User
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseState,
    CorrectiveAction,
    EvidenceType,
    Finding,
    Severity,
)
from monitoring.core.db import db
from monitoring.core.keyring import protect
from monitoring.core.types import utcnow
from monitoring.notifications import outbox
from monitoring.notifications.models import NotificationKind

_counter = itertools.count(1)


def _placeholder(table: str, column: str) -> bytes:
    # A protected value needs the row id; rows are inserted with a placeholder first.
    return protect(b"", table=table, column=column, row=0)


def make_action(
    app: Flask,
    *,
    site_id: int,
    monitor_org_id: int,
    supplier_id: int,
    plan_due: date,
    closure_due: date,
    state: ActionState = ActionState.requested,
    case_state: CaseState = CaseState.remediation,
) -> tuple[int, int]:
    """A case with one finding and one action in the given states; returns (case id, action id)."""
    n = next(_counter)
    with app.app_context():
        finding = Finding(
            site_id=site_id,
            organisation_id=monitor_org_id,
            standard="FL-1",
            severity=Severity.major,
            workers_affected=12,
            evidence_type=EvidenceType.offsite_interviews,
            found_date=date(2026, 1, 5),
            summary_ct=_placeholder("finding", "summary_ct"),
        )
        db.session.add(finding)
        db.session.flush()
        finding.summary = "Workers paid recruitment fees."
        closed = case_state is CaseState.closed
        case = Case(
            reference=f"N-2026-{n:04d}",
            site_id=site_id,
            monitor_organisation_id=monitor_org_id,
            state=case_state,
            severity=Severity.major,
            outcome="resolved" if closed else None,
            closed_dt=utcnow() if closed else None,
        )
        db.session.add(case)
        db.session.flush()
        finding.case_id = case.id
        action = CorrectiveAction(
            case_id=case.id,
            finding_id=finding.id,
            supplier_id=supplier_id,
            state=state,
            severity=Severity.major,
            request_ct=_placeholder("corrective_action", "request_ct"),
            plan_due_date=plan_due,
            closure_due_date=closure_due,
            closed_dt=utcnow() if state is ActionState.closed else None,
        )
        db.session.add(action)
        db.session.flush()
        action.request = "Repay every recruitment fee."
        db.session.commit()
        return case.id, action.id


def queue(app: Flask, users: list[User], kind: NotificationKind | str, **kwargs: Any) -> list[int]:
    """notify() in its own committed transaction; returns the ids of the rows made."""
    with app.app_context():
        loaded = [db.session.get(User, u.id) for u in users]
        rows = outbox.notify(loaded, kind, **kwargs)
        db.session.commit()
        return [n.id for n in rows]
