"""The monitors' list of corrective actions waiting for verification, oldest first."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine

from monitoring.cases.models import ActionState
from tests.cases.helpers import CaseWorld
from tests.supplychain.test_query_counts import counting


def _listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/actions/(\d+)">', page)]


def _implemented_on(world: CaseWorld, day: int, **case_kw) -> int:
    """An action of a new case, reported implemented on the given day of March 2027."""
    with time_machine.travel(datetime(2027, 3, 1, 9, tzinfo=UTC), tick=False):
        action_id = world.action(world.case(**case_kw))
        world.advance_action(action_id, ActionState.plan_accepted)
    with time_machine.travel(datetime(2027, 3, day, 9, tzinfo=UTC), tick=False):
        world.advance_action(action_id, ActionState.implemented)
    return action_id


@pytest.fixture
def waiting(case_world):
    """Three actions of the monitors' cases waiting (implemented 9, 3 and 6 March) and others not."""
    w = case_world
    ids = {"ninth": _implemented_on(w, 9), "third": _implemented_on(w, 3), "sixth": _implemented_on(w, 6)}
    with time_machine.travel(datetime(2027, 3, 1, 9, tzinfo=UTC), tick=False):
        ids["accepted"] = w.action(w.case())
        w.advance_action(ids["accepted"], ActionState.plan_accepted)
        ids["verified"] = w.action(w.case())
        w.advance_action(ids["verified"], ActionState.verified)
    return ids


def test_monitors_see_their_organisations_actions_to_verify_oldest_first(case_world, waiting, client_for):
    w = case_world
    with time_machine.travel(datetime(2027, 3, 12, 9, tzinfo=UTC), tick=False):
        monitor = client_for(w.monitor)
        page = monitor.get("/verifications/").get_data(as_text=True)
        assert _listed(page) == [waiting["third"], waiting["sixth"], waiting["ninth"]]
        assert 'datetime="2027-03-03' in page and "supplier_x" in page
        # Each links to the action page, where the monitor finds the verification form.
        action_page = monitor.get(f"/actions/{waiting['third']}").get_data(as_text=True)
        assert f'action="/actions/{waiting["third"]}/verification"' in action_page
        # Another monitoring organisation's monitor sees none of them.
        other = client_for(w.other_monitor).get("/verifications/").get_data(as_text=True)
        assert _listed(other) == [] and "No corrective action is waiting for verification." in other
        # Coordinators follow every case.
        page = client_for(w.coordinator).get("/verifications/").get_data(as_text=True)
        assert _listed(page) == [waiting["third"], waiting["sixth"], waiting["ninth"]]


def test_a_verified_action_leaves_the_list(case_world, waiting, client_for):
    w = case_world
    w.step_action(waiting["sixth"], ActionState.verified, "monitor")
    page = client_for(w.monitor).get("/verifications/").get_data(as_text=True)
    assert _listed(page) == [waiting["third"], waiting["ninth"]]


def test_the_verifications_list_is_paged(app, case_world, waiting, client_for, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    client = client_for(case_world.monitor)
    first = client.get("/verifications/").get_data(as_text=True)
    assert _listed(first) == [waiting["third"], waiting["sixth"]]
    link = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert link
    second = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _listed(second) == [waiting["ninth"]] and 'rel="next"' not in second


@pytest.mark.parametrize("who", ["supplier", "affiliate", "admin"])
def test_the_verifications_page_is_for_monitors_and_coordinators(case_world, client_for, who):
    assert client_for(case_world.users[who]).get("/verifications/").status_code == 404


def test_the_monitors_home_page_counts_what_waits_for_verification(case_world, waiting, client_for):
    page = client_for(case_world.monitor).get("/").get_data(as_text=True)
    assert "3 corrective actions to verify" in page and 'href="/verifications/"' in page
    page = client_for(case_world.other_monitor).get("/").get_data(as_text=True)
    assert "0 corrective actions to verify" in page


def test_the_verifications_page_runs_the_same_queries_for_ten_times_the_actions(app, case_world, client_for):
    w = case_world
    severities = ("priority", "major", "minor")

    def grow(count: int) -> None:
        for n in range(count):
            action_id = w.action(w.case(severity=severities[n % 3]))
            w.advance_action(action_id, ActionState.implemented)

    clients = {who: client_for(w.users[who]) for who in ("monitor", "coordinator")}

    def measure() -> dict[str, int]:
        counts = {}
        for who, client in clients.items():
            with counting(app) as count:
                assert client.get("/verifications/").status_code == 200
            counts[who] = count[0]
        return counts

    grow(3)
    small = measure()
    grow(27)
    large = measure()
    assert len(_listed(clients["monitor"].get("/verifications/").get_data(as_text=True))) == 30
    assert large == small
