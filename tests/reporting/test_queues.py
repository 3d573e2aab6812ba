"""The dashboard's queues: a monitor's are counted over their organisation's cases' actions in one
pass, the network's one count at a time; both stop at QUEUE_LIMIT and give the same numbers as
counting each queue on its own (the reference below, in Python over every action)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.cases.models import ActionState, Case, CorrectiveAction
from monitoring.reporting.services import OPEN_ACTION_STATES
from tests.reporting.conftest import NOW, FigureWorld

ApiClient = Callable[[User], Any]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def reference(fw: FigureWorld, organisation_id: int | None, limit: int = 1000) -> dict[str, int]:
    """Each action queue counted on its own over every action (None: the whole network)."""
    today = NOW.date()
    with fw.w.session() as session:
        rows = session.execute(
            select(
                CorrectiveAction.state, CorrectiveAction.closure_due_date, Case.monitor_organisation_id
            ).join(Case, Case.id == CorrectiveAction.case_id)
        ).all()
    mine = [(state, due) for state, due, org in rows if organisation_id in (None, org)]
    counts = {
        "plans_awaiting_decision": sum(state is ActionState.plan_submitted for state, _ in mine),
        "verifications_due": sum(state is ActionState.implemented for state, _ in mine),
        "overdue_actions": sum(state in OPEN_ACTION_STATES and due < today for state, due in mine),
    }
    return {name: min(count, limit) for name, count in counts.items()}


def set_states(fw: FigureWorld, **states: tuple[ActionState, date]) -> None:
    with fw.w.session() as session:
        for name, (state, due) in states.items():
            action = session.get(CorrectiveAction, fw.actions[name])
            action.state, action.closure_due_date = state, due


def queues(api_client: ApiClient, user: User) -> dict[str, int]:
    answer = api_client(user).get("/api/v1/dashboard").get_json()["queues"]
    return {
        name: answer[name] for name in ("plans_awaiting_decision", "verifications_due", "overdue_actions")
    }


@pytest.mark.parametrize("limit", [1000, 1])
def test_the_action_queues_are_each_queue_counted_on_its_own(
    figure_world: FigureWorld, api_client: ApiClient, monkeypatch: Any, limit: int
) -> None:
    fw, w = figure_world, figure_world.w
    past, future = date(2026, 12, 31), date(2027, 3, 1)
    # A4 (C3) and A3 (C4): two plans to decide, one late; A1 and A2 implemented, one of them late.
    set_states(
        fw,
        A1=(ActionState.implemented, past),
        A2=(ActionState.implemented, future),
        A3=(ActionState.plan_submitted, past),
        A4=(ActionState.plan_submitted, future),
    )
    # An action of the other monitor organisation's case counts for the network only.
    other_case = w.case(by="coordinator", findings=[w.finding(by="other_monitor")])
    other = w.action(other_case)
    with w.session() as session:
        action = session.get(CorrectiveAction, other)
        action.plan_due_date, action.closure_due_date = date(2026, 11, 1), past
        action.state = ActionState.implemented
    monkeypatch.setattr("monitoring.reporting.services.QUEUE_LIMIT", limit)
    expected = {
        "monitor": reference(fw, w.orgs["monitors"], limit),
        "other_monitor": reference(fw, w.orgs["other_monitors"], limit),
        "coordinator": reference(fw, None, limit),
    }
    assert expected["monitor"] == (
        {"plans_awaiting_decision": 2, "verifications_due": 2, "overdue_actions": 2}
        if limit == 1000
        else {"plans_awaiting_decision": 1, "verifications_due": 1, "overdue_actions": 1}
    )
    assert expected["other_monitor"]["verifications_due"] == 1
    for who, counts in expected.items():
        assert queues(api_client, w.users[who]) == counts, who
