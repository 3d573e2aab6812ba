"""Who sees which cases, findings, actions, messages and events, and who may do what.

The world: affiliate A's contract reaches ``site``; affiliate B's reaches only ``other_site``.
Supplier X discloses at ``site``; supplier Z supplies A's contract (so it is concerned too);
supplier Y is concerned only at ``other_site``. Actions go to X and Z on one case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.cases import operations, permissions
from monitoring.cases.models import Case, CaseEvent, CaseMessage, CorrectiveAction, Finding, Visibility
from monitoring.core.db import db
from monitoring.core.types import utcnow
from tests.cases.helpers import CaseWorld
from tests.testimony.monitor_helpers import make_report

ROLES = (
    "coordinator",
    "admin",
    "monitor",
    "other_monitor",
    "affiliate",
    "affiliate_b",
    "supplier",
    "supplier_y",
)


@dataclass
class Scene:
    w: CaseWorld
    case: int
    other_case: int  # at other_site, worked by the same monitors
    action_x: int
    action_z: int
    finding: int
    finding_z: int
    messages: dict[str, int]


@pytest.fixture
def scene(
    case_world: CaseWorld,
    create_organisation: Callable[..., Organisation],
    create_user: Callable[..., User],
) -> Scene:
    w = case_world
    supplier_z = create_organisation(OrganisationKind.supplier)
    w.orgs["supplier_z"] = supplier_z.id
    w.users["supplier_z"] = create_user(UserRole.supplier, organisation=supplier_z)
    w.registry.contract(w.orgs["affiliate_a"], supplier_z.id, [w.products["laptop"]])
    report = make_report(w.app, w.users["monitor"], country="CN")
    finding = w.finding(report_ids=[report], severity="priority", workers_affected=3)
    finding_z = w.finding(severity="minor", workers_affected=40)
    case_id = w.case(findings=[finding, finding_z])
    action_x = w.action(case_id, finding_id=finding)
    action_z = w.action(case_id, supplier="supplier_z", finding_id=finding_z)
    other_case = w.case(findings=[w.finding(site_id=w.other_site)], site_id=w.other_site)
    messages = {}
    with w.session():
        case = db.session.get(Case, case_id)
        post = operations.post_message
        messages["internal"] = post(w.user("monitor"), case, "internal", "Internal note on the agents.").id
        messages["buyers"] = post(
            w.user("affiliate"), case, "buyers", "We will raise it at the contract review."
        ).id
        messages["parties_x"] = post(
            w.user("coordinator"), case, "parties", "Dear X, please answer.", supplier_id=w.orgs["supplier_x"]
        ).id
        messages["parties_z"] = post(
            w.user("coordinator"), case, "parties", "Dear Z, please answer.", supplier_id=w.orgs["supplier_z"]
        ).id
        messages["from_x"] = post(w.user("supplier"), case, "parties", "X here: we are on it.").id
    return Scene(w, case_id, other_case, action_x, action_z, finding, finding_z, messages)


def ids(query) -> set[int]:
    return {row.id for row in db.session.scalars(query)}


def test_visible_cases_per_role(scene: Scene) -> None:
    w = scene.w
    expected = {
        "coordinator": {scene.case, scene.other_case},
        "monitor": {scene.case, scene.other_case},
        "other_monitor": set(),
        "affiliate": {scene.case},
        "affiliate_b": {scene.other_case},
        "supplier": {scene.case},
        "supplier_z": {scene.case},
        "supplier_y": set(),
        "admin": set(),
    }
    with w.app.app_context():
        for key, cases in expected.items():
            seen = ids(permissions.visible_cases(w.user(key))) & {scene.case, scene.other_case}
            assert seen == cases, key


def test_an_affiliate_loses_sight_when_its_contract_no_longer_reaches_the_site(scene: Scene) -> None:
    w = scene.w
    with w.app.app_context():
        affiliate = w.user("affiliate")
        assert scene.case in ids(permissions.visible_cases(affiliate))
        long_ago = utcnow().date() - timedelta(days=3650)  # before any contract started
        assert scene.case not in ids(permissions.visible_cases(affiliate, today=long_ago))


def test_visible_actions_per_role(scene: Scene) -> None:
    w = scene.w
    both = {scene.action_x, scene.action_z}
    expected = {
        "coordinator": both,
        "monitor": both,
        "affiliate": both,
        "supplier": {scene.action_x},
        "supplier_z": {scene.action_z},
        "supplier_y": set(),
        "other_monitor": set(),
        "affiliate_b": set(),
        "admin": set(),
    }
    with w.app.app_context():
        for key, actions in expected.items():
            assert ids(permissions.visible_actions(w.user(key))) & both == actions, key


def test_visible_findings_and_what_of_them(scene: Scene) -> None:
    w = scene.w
    both = {scene.finding, scene.finding_z}
    expected = {
        "coordinator": both,
        "monitor": both,
        "affiliate": both,
        "supplier": {scene.finding},
        "supplier_z": {scene.finding_z},
        "supplier_y": set(),
        "other_monitor": set(),
        "affiliate_b": set(),
        "admin": set(),
    }
    with w.app.app_context():
        finding = db.session.get(Finding, scene.finding)
        assert finding.report_links  # the finding does link a worker report
        for key, findings in expected.items():
            user = w.user(key)
            assert ids(permissions.visible_findings(user)) & both == findings, key
            assert permissions.can_see_report_links(user, finding) is (key == "monitor"), key
            summary = key in {"coordinator", "monitor", "affiliate", "affiliate_b"}
            assert permissions.can_see_finding_summary(user, finding) is summary, key


def test_findings_outside_cases(case_world: CaseWorld) -> None:
    w = case_world
    finding = w.finding()
    with w.app.app_context():
        for key in ("coordinator", "monitor"):
            assert finding in ids(permissions.visible_findings(w.user(key))), key
        for key in ("other_monitor", "affiliate", "supplier", "admin"):
            assert finding not in ids(permissions.visible_findings(w.user(key))), key


@pytest.mark.parametrize(
    ("key", "count", "shown"),
    [
        ("coordinator", 3, 3),
        ("monitor", 0, 0),
        ("affiliate", 4, None),
        ("affiliate", 5, 5),
        ("supplier", 1, None),
        ("supplier", 12, 12),
        ("affiliate", None, None),
    ],
)
def test_small_worker_counts_are_suppressed_for_buyers_and_suppliers(
    case_world: CaseWorld, key: str, count: int | None, shown: int | None
) -> None:
    with case_world.app.app_context():
        assert permissions.shown_workers(case_world.user(key), count) == shown


def test_messages_per_role(scene: Scene) -> None:
    w = scene.w
    m = scene.messages
    everything = set(m.values())
    expected = {
        "coordinator": everything,
        "monitor": everything,
        "affiliate": {m["buyers"], m["parties_x"], m["parties_z"], m["from_x"]},
        "supplier": {m["parties_x"], m["from_x"]},
        "supplier_z": {m["parties_z"]},
        "supplier_y": set(),
        "other_monitor": set(),
        "affiliate_b": set(),
        "admin": set(),
    }
    with w.app.app_context():
        case = db.session.get(Case, scene.case)
        for key, messages in expected.items():
            assert ids(permissions.visible_messages(w.user(key), case)) == messages, key
        own = db.session.get(CaseMessage, m["from_x"])
        assert own.visibility is Visibility.parties and own.supplier_id == w.orgs["supplier_x"]


def test_events_per_role(scene: Scene) -> None:
    """Suppliers read only their own actions' events; affiliates the buyers' and parties' events."""
    w = scene.w
    with w.app.app_context():
        case = db.session.get(Case, scene.case)
        events = db.session.scalars(permissions.visible_events(w.user("coordinator"), case)).all()
        assert {e.visibility for e in events} >= {Visibility.buyers, Visibility.parties}
        for key in ("supplier", "supplier_z"):
            org = w.orgs["supplier_x" if key == "supplier" else "supplier_z"]
            seen = db.session.scalars(permissions.visible_events(w.user(key), case)).all()
            assert seen, key
            assert all(e.visibility is Visibility.parties and e.supplier_id == org for e in seen), key
            own_action = scene.action_x if key == "supplier" else scene.action_z
            assert {e.action_id for e in seen} == {own_action}
        affiliate_seen = db.session.scalars(permissions.visible_events(w.user("affiliate"), case)).all()
        assert {e.id for e in affiliate_seen} == {
            e.id for e in events if e.visibility is not Visibility.internal
        }
        for key in ("supplier_y", "affiliate_b", "other_monitor", "admin"):
            assert db.session.scalars(permissions.visible_events(w.user(key), case)).all() == [], key


def test_internal_events_stay_internal(scene: Scene) -> None:
    w = scene.w
    with w.session():
        operations.set_lead(
            w.user("coordinator"), db.session.get(Case, scene.case), w.users["coordinator2"].id
        )
    with w.app.app_context():
        case = db.session.get(Case, scene.case)
        lead_events = db.session.scalars(
            permissions.visible_events(w.user("monitor"), case).where(CaseEvent.kind == "lead_changed")
        ).all()
        assert len(lead_events) == 1 and lead_events[0].visibility is Visibility.internal
        for key in ("affiliate", "supplier"):
            assert lead_events[0].id not in ids(permissions.visible_events(w.user(key), case)), key


def test_message_visibilities_per_role(scene: Scene) -> None:
    w = scene.w
    all_three = [Visibility.internal, Visibility.buyers, Visibility.parties]
    expected = {
        "coordinator": all_three,
        "monitor": all_three,
        "affiliate": [Visibility.buyers, Visibility.parties],
        "supplier": [Visibility.parties],
        "supplier_y": [],
        "other_monitor": [],
        "admin": [],
    }
    fresh = w.case()  # no action yet: nobody can address a supplier
    with w.app.app_context():
        case = db.session.get(Case, scene.case)
        for key, scopes in expected.items():
            assert permissions.message_visibilities(w.user(key), case) == scopes, key
        assert permissions.message_suppliers(w.user("supplier"), case) == [w.orgs["supplier_x"]]
        assert set(permissions.message_suppliers(w.user("coordinator"), case)) == {
            w.orgs["supplier_x"],
            w.orgs["supplier_z"],
        }
        new_case = db.session.get(Case, fresh)
        assert permissions.message_visibilities(w.user("coordinator"), new_case) == all_three[:2]
        assert permissions.message_visibilities(w.user("affiliate"), new_case) == [Visibility.buyers]
        assert permissions.message_visibilities(w.user("supplier"), new_case) == []


def test_capabilities_per_role(scene: Scene) -> None:
    w = scene.w
    with w.app.app_context():
        case = db.session.get(Case, scene.case)
        action = db.session.get(CorrectiveAction, scene.action_x)
        finding = db.session.get(Finding, scene.finding)
        for key in ROLES:
            user = w.user(key)
            assert permissions.can_file_finding(user) is (key in {"monitor", "other_monitor"}), key
            assert permissions.can_edit_finding(user, finding) is (key == "monitor"), key
            assert permissions.can_open_case(user) is (key in {"coordinator", "monitor", "other_monitor"}), (
                key
            )
            assert permissions.can_set_lead(user, case) is (key == "coordinator"), key
            assert permissions.can_add_findings(user, case) is (key in {"coordinator", "monitor"}), key
            assert permissions.can_request_action(user, case) is (key == "coordinator"), key
            assert permissions.can_change_deadlines(user, action) is (key == "coordinator"), key
            assert permissions.can_close_case(user, case) is (key == "monitor"), key
            assert permissions.can_reopen_case(user, case) is (key in {"coordinator", "monitor"}), key


def test_deactivated_users_and_organisations_see_nothing(scene: Scene) -> None:
    w = scene.w
    with w.session():
        w.user("affiliate").organisation.is_active = False
    with w.app.app_context():
        assert ids(permissions.visible_cases(w.user("affiliate"))) == set()
        assert permissions.message_visibilities(w.user("affiliate"), db.session.get(Case, scene.case)) == []
