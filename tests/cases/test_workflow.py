"""The matrix of roles, transitions and states of cases and corrective actions.

Each test puts a case (or an action) into one state, with the guards of that state's way out
satisfied, and tries one transition as every user of the world. The users the expected tables
below allow must succeed (each attempt is rolled back to a savepoint); every other user is
refused with an OperationError and nothing changes: not the state, nor the events, audit
entries, notifications, plans or closures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, update

from monitoring.cases import operations, workflow
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseClosure,
    CaseEvent,
    CaseMessage,
    CaseOutcome,
    CaseState,
    CorrectiveAction,
    SupplierResponse,
)
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.notifications.models import Notification
from tests.cases.helpers import CaseWorld

# Every user of the world: operator staff, both monitor organisations, both buyers, both suppliers.
USERS = (
    "coordinator",
    "coordinator2",
    "admin",
    "monitor",
    "other_monitor",
    "affiliate",
    "affiliate_b",
    "supplier",
    "supplier_y",
)
BUYERS = {"coordinator", "coordinator2", "monitor"}

# Written out independently of monitoring.cases.workflow: (source states, users allowed, target).
CASE_EXPECTED: dict[str, tuple[set[CaseState], set[str], CaseState]] = {
    "start_dialogue": ({CaseState.open}, BUYERS, CaseState.in_dialogue),
    "start_remediation": ({CaseState.in_dialogue}, {"coordinator", "coordinator2"}, CaseState.remediation),
    "start_verification": ({CaseState.remediation}, BUYERS, CaseState.verification),
    "resume_remediation": ({CaseState.verification}, BUYERS, CaseState.remediation),
    "close": ({CaseState.verification}, {"monitor"}, CaseState.closed),
    "reopen": ({CaseState.closed}, BUYERS, CaseState.in_dialogue),
}
ACTION_EXPECTED: dict[str, tuple[set[ActionState], set[str], ActionState]] = {
    "submit_plan": (
        {ActionState.requested, ActionState.plan_rejected},
        {"supplier"},
        ActionState.plan_submitted,
    ),
    "accept_plan": ({ActionState.plan_submitted}, BUYERS, ActionState.plan_accepted),
    "reject_plan": ({ActionState.plan_submitted}, BUYERS, ActionState.plan_rejected),
    "report_implemented": (
        {ActionState.plan_accepted, ActionState.not_verified},
        {"supplier"},
        ActionState.implemented,
    ),
    "verify": ({ActionState.implemented}, {"monitor"}, ActionState.verified),
    "reject_verification": ({ActionState.implemented}, {"monitor"}, ActionState.not_verified),
    "close_action": ({ActionState.verified, ActionState.not_verified}, BUYERS, ActionState.closed),
}


def test_tables_cover_every_transition() -> None:
    assert set(workflow.CASE_TRANSITIONS) == set(CASE_EXPECTED)
    assert set(workflow.ACTION_TRANSITIONS) == set(ACTION_EXPECTED)
    for name, (sources, _users, target) in {**CASE_EXPECTED, **ACTION_EXPECTED}.items():
        table = workflow.CASE_TRANSITIONS if name in CASE_EXPECTED else workflow.ACTION_TRANSITIONS
        assert table[name].sources == sources
        assert table[name].target is target


def take_case(actor: Any, case: Case, name: str) -> None:
    if name == "close":
        data = operations.ClosureData(outcome=CaseOutcome.resolved, note="Done.", workers_consulted=True)
        operations.close_case(actor, case, data)
    elif name == "reopen":
        operations.reopen_case(actor, case, "Workers report the fees are charged again.")
    elif name == "resume_remediation":
        operations.transition_case(actor, case, name, "The evidence does not cover the night shift.")
    else:
        operations.transition_case(actor, case, name)


def take_action(actor: Any, action: CorrectiveAction, name: str) -> None:
    if name == "submit_plan":
        plan = operations.PlanData("Agents charge fees.", "Repay fees.", "Employer pays.", date(2030, 1, 1))
        operations.submit_plan(actor, action, plan)
    elif name == "accept_plan":
        operations.accept_plan(actor, action)
    elif name == "reject_plan":
        operations.reject_plan(actor, action, "Agency workers are missing.")
    elif name == "report_implemented":
        operations.report_implemented(actor, action, "Repaid; receipts kept.", [])
    elif name == "verify":
        operations.verify_action(actor, action, True, "Confirmed by workers.")
    elif name == "reject_verification":
        operations.verify_action(actor, action, False, "Half the workers were not repaid.")
    elif name == "close_action":
        operations.close_action(actor, action)
    else:
        raise ValueError(name)


def snapshot() -> dict[str, Any]:
    """Everything a transition writes, read in the current session."""
    rows = {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (CaseEvent, AuditEntry, Notification, SupplierResponse, CaseClosure, CaseMessage)
    }
    rows["cases"] = db.session.execute(
        select(Case.id, Case.state, Case.state_changed_dt, Case.outcome).order_by(Case.id)
    ).all()
    rows["actions"] = db.session.execute(
        select(
            CorrectiveAction.id,
            CorrectiveAction.state,
            CorrectiveAction.state_changed_dt,
            CorrectiveAction.implementation_ct,
            CorrectiveAction.verification_ct,
        ).order_by(CorrectiveAction.id)
    ).all()
    return rows


def try_as_everyone(
    w: CaseWorld,
    load: Callable[[], Any],
    take: Callable[[Any, Any, str], None],
    name: str,
    allowed_users: set[str],
    target: Any,
) -> None:
    """Try the transition as every user; allowed ones inside a savepoint that is rolled back."""
    with w.app.app_context():
        for key in USERS:
            actor = w.user(key)
            obj = load()
            before = snapshot()
            savepoint = db.session.begin_nested()
            if key in allowed_users:
                assert workflow.allowed(actor, obj, name) is None, key
                assert name in {t.name for t in workflow.available(actor, obj)}, key
                take(actor, obj, name)
                db.session.flush()
                after = snapshot()
                assert obj.state is target, key
                assert after["CaseEvent"] == before["CaseEvent"] + 1, key
                assert after["AuditEntry"] > before["AuditEntry"], key
            else:
                assert workflow.allowed(actor, obj, name) is not None, key
                assert name not in {t.name for t in workflow.available(actor, obj)}, key
                with pytest.raises(OperationError):
                    take(actor, obj, name)
                db.session.flush()
                assert snapshot() == before, f"{key} changed something while refused"
            savepoint.rollback()
            db.session.expire_all()


# --- cases ------------------------------------------------------------------------------------


def case_in(w: CaseWorld, state: CaseState) -> int:
    """A case in ``state`` whose way out is open (guards satisfied)."""
    case_id = w.case()
    if state is CaseState.open:
        return case_id
    if state is CaseState.in_dialogue:
        w.action(case_id)  # start_remediation needs an action
        return case_id
    if state is CaseState.remediation:
        w.advance_case(case_id, CaseState.remediation)
        for action_id in w.actions_of(case_id):  # start_verification needs the work reported
            w.advance_action(action_id, ActionState.implemented)
        return case_id
    w.advance_case(case_id, CaseState.verification)
    for action_id in w.actions_of(case_id):  # close needs every action closed
        w.advance_action(action_id, ActionState.closed)
    if state is CaseState.closed:
        w.advance_case(case_id, CaseState.closed)
    return case_id


@pytest.mark.parametrize("state", list(CaseState), ids=lambda s: s.value)
@pytest.mark.parametrize("name", list(CASE_EXPECTED))
def test_case_transition_matrix(case_world: CaseWorld, name: str, state: CaseState) -> None:
    w = case_world
    case_id = case_in(w, state)
    assert w.get(Case, case_id).state is state
    sources, users, target = CASE_EXPECTED[name]
    allowed_users = users if state in sources else set()
    try_as_everyone(w, lambda: db.session.get(Case, case_id), take_case, name, allowed_users, target)


# --- corrective actions -----------------------------------------------------------------------


@pytest.mark.parametrize("state", list(ActionState), ids=lambda s: s.value)
@pytest.mark.parametrize("name", list(ACTION_EXPECTED))
def test_action_transition_matrix(case_world: CaseWorld, name: str, state: ActionState) -> None:
    w = case_world
    case_id = w.case()
    action_id = w.action(case_id)
    w.advance_action(action_id, state)
    assert w.get(CorrectiveAction, action_id).state is state
    sources, users, target = ACTION_EXPECTED[name]
    allowed_users = users if state in sources else set()
    load = lambda: db.session.get(CorrectiveAction, action_id)  # noqa: E731
    try_as_everyone(w, load, take_action, name, allowed_users, target)


@pytest.mark.parametrize(
    "state", [s for s in ActionState if s is not ActionState.closed], ids=lambda s: s.value
)
def test_no_action_transition_in_a_closed_case(case_world: CaseWorld, state: ActionState) -> None:
    """Operations cannot leave an action open in a closed case; should one be, it stays frozen."""
    w = case_world
    case_id = case_in(w, CaseState.closed)
    action_id = w.actions_of(case_id)[0]
    with w.session():
        db.session.execute(
            update(CorrectiveAction)
            .where(CorrectiveAction.id == action_id)
            .values(state=state, closed_dt=None)
        )
    names = [name for name, (sources, _users, _target) in ACTION_EXPECTED.items() if state in sources]
    assert names
    for name in names:
        load = lambda: db.session.get(CorrectiveAction, action_id)  # noqa: E731
        try_as_everyone(w, load, take_action, name, set(), None)
    with w.app.app_context():
        refusal = workflow.allowed(
            w.user("coordinator"), db.session.get(CorrectiveAction, action_id), names[0]
        )
        assert refusal is not None


def second_action(w: CaseWorld, case_id: int) -> int:
    """Another action on the case, for a second finding (one open action per finding and supplier)."""
    finding_id = w.finding()
    with w.session():
        operations.add_findings(w.user("coordinator"), db.session.get(Case, case_id), [finding_id])
    return w.action(case_id, finding_id=finding_id)


# --- guards -----------------------------------------------------------------------------------


def test_remediation_needs_an_action(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    w.advance_case(case_id, CaseState.in_dialogue)
    with w.app.app_context():
        case = db.session.get(Case, case_id)
        refusal = workflow.allowed(w.user("coordinator"), case, "start_remediation")
        assert refusal is not None and "corrective action" in str(refusal)
        before = snapshot()
        with pytest.raises(OperationError):
            operations.transition_case(w.user("coordinator"), case, "start_remediation")
        assert snapshot() == before


@pytest.mark.parametrize(
    "state",
    [ActionState.requested, ActionState.plan_submitted, ActionState.plan_accepted, ActionState.plan_rejected],
    ids=lambda s: s.value,
)
def test_verification_needs_the_work_reported(case_world: CaseWorld, state: ActionState) -> None:
    w = case_world
    case_id = case_in(w, CaseState.remediation)  # its first action is implemented
    second = second_action(w, case_id)
    w.advance_action(second, state)
    with w.app.app_context():
        case = db.session.get(Case, case_id)
        for key in ("coordinator", "monitor"):
            assert workflow.allowed(w.user(key), case, "start_verification") is not None
            with pytest.raises(OperationError):
                operations.transition_case(w.user(key), case, "start_verification")
        assert case.state is CaseState.remediation


@pytest.mark.parametrize(
    "state", [ActionState.implemented, ActionState.verified, ActionState.not_verified], ids=lambda s: s.value
)
def test_closing_needs_every_action_closed(case_world: CaseWorld, state: ActionState) -> None:
    w = case_world
    case_id = case_in(w, CaseState.remediation)
    second = second_action(w, case_id)
    w.advance_action(second, ActionState.implemented)
    w.advance_case(case_id, CaseState.verification)
    w.advance_action(w.actions_of(case_id)[0], ActionState.closed)
    w.advance_action(second, state)
    with w.app.app_context():
        case = db.session.get(Case, case_id)
        assert workflow.allowed(w.user("monitor"), case, "close") is not None
        assert "close" not in {t.name for t in workflow.available(w.user("monitor"), case)}
        before = snapshot()
        with pytest.raises(OperationError):
            take_case(w.user("monitor"), case, "close")
        assert snapshot() == before


def test_unknown_transition_names_are_refused(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    with w.app.app_context():
        case = db.session.get(Case, case_id)
        for name in ("close", "reopen", "fly_away", "verify"):
            with pytest.raises(OperationError) as excinfo:
                operations.transition_case(w.user("coordinator"), case, name)
            assert excinfo.value.field == "name"
        assert case.state is CaseState.open


def test_available_lists_what_each_role_may_do(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    action_id = w.action(case_id)
    with w.app.app_context():
        case = db.session.get(Case, case_id)
        action = db.session.get(CorrectiveAction, action_id)
        assert [t.name for t in workflow.available(w.user("coordinator"), case)] == ["start_remediation"]
        assert workflow.available(w.user("monitor"), case) == []
        assert [t.name for t in workflow.available(w.user("supplier"), action)] == ["submit_plan"]
        for key in ("supplier_y", "affiliate", "admin", "other_monitor", "coordinator"):
            assert workflow.available(w.user(key), action) == [], key
        assert all(t.title for t in workflow.available(w.user("supplier"), action))
