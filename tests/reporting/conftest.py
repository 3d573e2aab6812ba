"""A fixed small data set for the figures, with every timestamp set by hand.

On top of the cases world (tests/cases/helpers.py): affiliate A buys from supplier X what is made
at ``site`` (CN); affiliate B from supplier Y at ``other_site`` (TH). Times are November 2026; the
figures are computed at ``NOW`` (frozen). The expected values in the tests are worked out from the
table below.

Reports (monitor organisation ``monitors`` unless said):
  R1 web, 11-01, acknowledged +1 d, feedback +10 d   R2 web, 11-02, +3 d, +20 d
  R3 web, 11-03, acknowledged +9 d (late), no feedback yet (due 2027-02-01, after NOW)
  R4 interview, 11-04, nothing          R5 web, 12-05 (after the period), +1 d
  R6 interview, 11-06, other monitor organisation, acknowledged +2 d
Cases: C1 site, 11-01 → closed 11-21 resolved; C2 site, 11-05 → closed 11-15 partially resolved
  after a closure that was reopened; C3 site, 11-10, open; C4 other_site, 11-12 → closed 12-12
  unresolved.
Actions: A1 (C1, X) requested 11-02, plan +2 d rejected, plan +5 d accepted +6 d, implemented 11-10
  (due 11-30), verified 11-12; A2 (C2, X) requested 11-06, plan +4 d accepted +4 d, implemented
  12-20 (due 12-01: late), verified 12-26; A3 (C4, Y) requested 11-13, nothing (due 12-31, passed);
  A4 (C3, X) requested 11-11, nothing (due 2027-03-01, not yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from monitoring.cases.files import placeholder_ct
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseClosure,
    CaseOutcome,
    CaseState,
    CorrectiveAction,
    Remedy,
    RemedyKind,
    SupplierResponse,
)
from monitoring.supplychain.models import CurrencyRate
from monitoring.testimony.models import ReportChannel, ReportStatus, WorkerReport
from tests.cases.conftest import case_world  # noqa: F401  (the cases tests' world, as a fixture here)
from tests.cases.helpers import CaseWorld

NOW = datetime(2027, 1, 15, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@dataclass
class FigureWorld:
    w: CaseWorld
    reports: dict[str, int]
    cases: dict[str, int]
    actions: dict[str, int]


def _report(w: CaseWorld, created: datetime, channel: ReportChannel, **times: Any) -> int:
    report_id = w.report()
    with w.session() as session:
        report = session.get(WorkerReport, report_id)
        report.created_dt = created
        report.channel = channel
        direct = channel in (ReportChannel.web, ReportChannel.hotline)
        report.acknowledge_due_dt = created + 7 * DAY if direct else None
        report.feedback_due_dt = created + 90 * DAY if direct else None
        report.acknowledged_dt = created + times["ack"] if "ack" in times else None
        report.status = ReportStatus.acknowledged if "ack" in times else ReportStatus.received
        report.feedback_dt = created + times["feedback"] if "feedback" in times else None
        if "organisation_id" in times:
            report.organisation_id = times["organisation_id"]
    return report_id


def _case(w: CaseWorld, site: int, opened: datetime) -> int:
    finding = w.finding(site_id=site, workers_affected=12)
    case_id = w.case(findings=[finding], site_id=site)
    with w.session() as session:
        session.get(Case, case_id).opened_dt = opened
    return case_id


def _close(w: CaseWorld, case_id: int, *closures: tuple[datetime, CaseOutcome, bool]) -> None:
    with w.session() as session:
        case = session.get(Case, case_id)
        monitor_id = w.users["monitor"].id
        for closed, outcome, reopened in closures:
            session.add(
                CaseClosure(
                    case_id=case_id,
                    outcome=outcome,
                    closed_by_id=monitor_id,
                    closed_dt=closed,
                    reopened_dt=closed + DAY if reopened else None,
                )
            )
        if closures and not closures[-1][2]:
            case.state, case.closed_dt, case.outcome = CaseState.closed, closures[-1][0], closures[-1][1]


def _action(w: CaseWorld, case_id: int, supplier: str, requested: datetime, due: date, **times: Any) -> int:
    action_id = w.action(case_id, supplier=supplier)
    with w.session() as session:
        action = session.get(CorrectiveAction, action_id)
        action.requested_dt = requested
        action.plan_due_date = requested.date()
        action.closure_due_date = due
        action.implemented_dt = times.get("implemented")
        action.verified_dt = times.get("verified")
        if action.verified_dt:
            action.state = ActionState.verified
        for submitted, decided, accepted in times.get("plans", []):
            response = SupplierResponse(
                action_id=action_id,
                root_cause_ct=placeholder_ct(),
                corrective_ct=placeholder_ct(),
                preventive_ct=placeholder_ct(),
                target_date=date(2027, 1, 1),
                submitted_dt=requested + submitted,
                decided_dt=requested + decided,
                accepted=accepted,
                rejection_reason_ct=None if accepted else placeholder_ct(),
            )
            session.add(response)
            session.flush()
            response.root_cause, response.corrective, response.preventive = "Agents.", "Repay.", "Policy."
    return action_id


@pytest.fixture
def figure_world(case_world: CaseWorld) -> FigureWorld:  # noqa: F811 (the imported fixture)
    w = case_world
    other = w.orgs["other_monitors"]
    web, interview = ReportChannel.web, ReportChannel.offsite_interview
    reports = {
        "R1": _report(w, at(11, 1), web, ack=DAY, feedback=10 * DAY),
        "R2": _report(w, at(11, 2), web, ack=3 * DAY, feedback=20 * DAY),
        "R3": _report(w, at(11, 3), web, ack=9 * DAY),
        "R4": _report(w, at(11, 4), interview),
        "R5": _report(w, at(12, 5), web, ack=DAY),
        "R6": _report(w, at(11, 6), interview, ack=2 * DAY, organisation_id=other),
    }
    resolved, partly, unresolved = (
        CaseOutcome.resolved,
        CaseOutcome.partially_resolved,
        CaseOutcome.unresolved,
    )
    cases = {
        "C1": _case(w, w.site, at(11, 1)),
        "C2": _case(w, w.site, at(11, 5)),
        "C3": _case(w, w.site, at(11, 10)),
        "C4": _case(w, w.other_site, at(11, 12)),
    }
    actions = {
        "A1": _action(
            w, cases["C1"], "supplier_x", at(11, 2), date(2026, 11, 30),
            implemented=at(11, 10), verified=at(11, 12),
            plans=[(2 * DAY, 3 * DAY, False), (5 * DAY, 6 * DAY, True)],
        ),
        "A2": _action(
            w, cases["C2"], "supplier_x", at(11, 6), date(2026, 12, 1),
            implemented=at(12, 20), verified=at(12, 26), plans=[(4 * DAY, 4 * DAY, True)],
        ),
        "A3": _action(w, cases["C4"], "supplier_y", at(11, 13), date(2026, 12, 31)),
        "A4": _action(w, cases["C3"], "supplier_x", at(11, 11), date(2027, 3, 1)),
    }  # fmt: skip
    _close(w, cases["C1"], (at(11, 21), resolved, False))
    _close(w, cases["C2"], (at(11, 8), resolved, True), (at(11, 15), partly, False))
    _close(w, cases["C4"], (at(12, 12), unresolved, False))
    return FigureWorld(w, reports, cases, actions)


def add_remedy(
    w: CaseWorld,
    case_id: int,
    kind: RemedyKind,
    amount: str | None,
    currency: str | None,
    workers: int,
    *,
    closure: int = -1,
    interim_at: datetime | None = None,
) -> int:
    """A remedy on one of the case's closures (the last by default), or an interim one."""
    with w.session() as session:
        closures = session.scalars(
            select(CaseClosure.id).where(CaseClosure.case_id == case_id).order_by(CaseClosure.id)
        ).all()
        remedy = Remedy(
            kind=kind,
            amount=Decimal(amount) if amount else None,
            currency=currency,
            workers_covered=workers,
        )
        if interim_at is None:
            remedy.closure_id = closures[closure]
        else:
            remedy.case_id, remedy.recorded_dt = case_id, interim_at
            remedy.recorded_by_id = w.users["monitor"].id
        session.add(remedy)
        session.flush()
        return remedy.id


def set_rate(w: CaseWorld, currency: str, eur_per_unit: str) -> None:
    with w.session() as session:
        session.merge(CurrencyRate(currency=currency, eur_per_unit=Decimal(eur_per_unit)))
