"""One timeline per case, merging messages, events and deadlines as each user may read them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import event

from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.cases import operations
from monitoring.cases.models import ActionState, Case, Visibility
from monitoring.cases.timeline import timeline
from monitoring.core.db import db
from tests.cases.helpers import CaseWorld

DAY0 = datetime(2027, 3, 1, 9, tzinfo=UTC)


def at(day: int, hour: int = 0) -> time_machine.travel:
    return time_machine.travel(DAY0 + timedelta(days=day, hours=hour), tick=False)


def build(w: CaseWorld, supplier_z: int) -> tuple[int, int, int]:
    """A case with actions to X and Z and messages of every visibility, on successive days."""
    with at(0):
        case_id = w.case(severity="major")
        action_x = w.action(case_id)  # plan due day 14
    finding_z = w.finding(severity="minor")
    with at(1), w.session():
        case = db.session.get(Case, case_id)
        operations.add_findings(w.user("coordinator"), case, [finding_z])
    with at(1, 1):
        action_z = w.action(case_id, supplier="supplier_z", finding_id=finding_z)
    with at(2), w.session():
        case = db.session.get(Case, case_id)
        operations.post_message(w.user("monitor"), case, "internal", "Internal.")
    with at(3), w.session():
        case = db.session.get(Case, case_id)
        operations.post_message(w.user("affiliate"), case, "buyers", "Buyers.")
    with at(4), w.session():
        case = db.session.get(Case, case_id)
        operations.post_message(w.user("supplier"), case, "parties", "From X.")
        operations.post_message(w.user("coordinator"), case, "parties", "To Z.", supplier_id=supplier_z)
    with at(5):
        w.advance_action(action_x, ActionState.plan_submitted)  # now the closure deadline, day 180
    return case_id, action_x, action_z


def setup_world(
    w: CaseWorld, create_organisation: Callable[..., Organisation], create_user: Callable[..., User]
) -> int:
    org = create_organisation(OrganisationKind.supplier)
    w.orgs["supplier_z"] = org.id
    w.users["supplier_z"] = create_user(UserRole.supplier, organisation=org)
    w.registry.contract(w.orgs["affiliate_a"], org.id, [w.products["laptop"]])
    return org.id


def test_timeline_merges_oldest_first(
    case_world: CaseWorld, create_organisation: Callable[..., Organisation], create_user: Callable[..., User]
) -> None:
    w = case_world
    supplier_z = setup_world(w, create_organisation, create_user)
    case_id, action_x, action_z = build(w, supplier_z)
    with w.app.app_context():
        case = db.session.get(Case, case_id)
        items = timeline(w.user("coordinator"), case, (DAY0 + timedelta(days=6)).date())
        assert [i.dt for i in items] == sorted(i.dt for i in items)
        kinds = [i.kind for i in items]
        assert kinds.count("message") == 4
        deadlines = [i for i in items if i.kind == "deadline"]
        assert [(d.action.id, d.phase, d.due_date) for d in deadlines] == [
            (action_z, "plan", (DAY0 + timedelta(days=15)).date()),
            (action_x, "closure", (DAY0 + timedelta(days=180)).date()),
        ]
        assert items[-1].kind == "deadline" and not any(d.overdue for d in deadlines)
        late = timeline(w.user("coordinator"), case, (DAY0 + timedelta(days=16)).date())
        assert [d.overdue for d in late if d.kind == "deadline"] == [True, False]
        assert len({i.id for i in items}) == len(items)


def test_each_role_reads_its_part(
    case_world: CaseWorld, create_organisation: Callable[..., Organisation], create_user: Callable[..., User]
) -> None:
    w = case_world
    supplier_z = setup_world(w, create_organisation, create_user)
    case_id, action_x, action_z = build(w, supplier_z)
    today = (DAY0 + timedelta(days=6)).date()
    with w.app.app_context():
        case = db.session.get(Case, case_id)
        full = timeline(w.user("monitor"), case, today)
        everything = timeline(w.user("coordinator"), case, today)
        assert [i.id for i in full] == [i.id for i in everything]
        assert {i.message.body for i in full if i.message} == {"Internal.", "Buyers.", "From X.", "To Z."}
        affiliate = timeline(w.user("affiliate"), case, today)
        assert {i.message.body for i in affiliate if i.message} == {"Buyers.", "From X.", "To Z."}
        assert {i.action.id for i in affiliate if i.kind == "deadline"} == {action_x, action_z}
        for key, org, own_action, own_message in (
            ("supplier", w.orgs["supplier_x"], action_x, "From X."),
            ("supplier_z", supplier_z, action_z, "To Z."),
        ):
            items = timeline(w.user(key), case, today)
            assert {i.message.body for i in items if i.message} == {own_message}, key
            assert {i.action.id for i in items if i.kind == "deadline"} == {own_action}, key
            events = [i.event for i in items if i.event is not None]
            assert events and all(e.visibility is Visibility.parties and e.supplier_id == org for e in events)
        for key in ("supplier_y", "affiliate_b", "other_monitor", "admin"):
            assert timeline(w.user(key), case, today) == [], key


def test_deadlines_leave_the_timeline_once_the_work_is_reported(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    action_id = w.action(case_id)
    w.advance_action(action_id, ActionState.implemented)
    with w.app.app_context():
        case = db.session.get(Case, case_id)
        items = timeline(w.user("coordinator"), case, datetime.now(UTC).date())
        assert [i for i in items if i.kind == "deadline"] == []
        assert any(i.event is not None and i.event.to_state == "implemented" for i in items)


def test_timeline_runs_a_bounded_number_of_queries(case_world: CaseWorld) -> None:
    w = case_world
    case_id = w.case()
    action_id = w.action(case_id)
    with w.session():
        case = db.session.get(Case, case_id)
        for n in range(12):
            operations.post_message(
                w.user("coordinator"), case, "parties", f"Message {n}", supplier_id=w.orgs["supplier_x"]
            )
    w.advance_action(action_id, ActionState.plan_accepted)
    with w.app.app_context():
        case = db.session.get(Case, case_id)
        user = w.user("supplier")
        statements: list[str] = []
        engine = db.session.get_bind()

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        try:
            items = timeline(user, case, datetime.now(UTC).date())
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len([i for i in items if i.message]) == 12
        assert len(statements) <= 5, statements
