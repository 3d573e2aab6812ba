"""A supplier's "requests addressed to us": what is due when, overdue first, in pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine

from monitoring.cases.models import ActionState
from tests.cases.helpers import CaseWorld
from tests.supplychain.test_query_counts import counting

REQUESTED = datetime(2027, 3, 1, 10, tzinfo=UTC)
VIEWED = datetime(2027, 3, 11, 10, tzinfo=UTC)


def _listed(page: str) -> list[int]:
    """The actions of the list, in order."""
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/actions/(\d+)">', page)]


def _row(page: str, action_id: int) -> str:
    start = page.index(f'<a href="/actions/{action_id}">')
    return page[start : page.index("</tr>", start)]


def _action(world: CaseWorld, state: ActionState, **kw) -> int:
    """An action of supplier X in a case of its own, taken to ``state``."""
    finding = world.finding(severity=kw.pop("severity", "major"), standard=kw.pop("standard", "FL-1"))
    action_id = world.action(world.case(findings=[finding]), **kw)
    world.advance_action(action_id, state)
    return action_id


@pytest.fixture
def requests_world(case_world):
    """Supplier X's actions, requested on 1 March 2027, in every phase of their deadlines."""
    w = case_world
    with time_machine.travel(REQUESTED, tick=False):
        ids = {
            # Plan due 3 March: 8 days overdue on the 11th.
            "late_plan": _action(w, ActionState.requested, plan_due_date=date(2027, 3, 3)),
            # Priority: plan due 8 March, 3 days overdue.
            "priority": _action(w, ActionState.plan_rejected, severity="priority", standard="FL-2"),
            # Major: plan due 15 March, due in 4 days.
            "major": _action(w, ActionState.requested),
            # Plan submitted: the closure (28 August) is what is due.
            "submitted": _action(w, ActionState.plan_submitted, severity="major", standard="WH-1"),
            # Implemented and closed: nothing due from the supplier.
            "implemented": _action(w, ActionState.implemented),
            "closed": _action(w, ActionState.closed),
        }
        # Another supplier's request never shows.
        finding = w.finding(site_id=w.other_site)
        ids["other"] = w.action(w.case(findings=[finding], site_id=w.other_site), supplier="supplier_y")
    return ids


ORDER = ["late_plan", "priority", "major", "submitted", "implemented", "closed"]


def test_requests_are_listed_by_what_is_due_when_with_overdue_in_words(
    case_world, requests_world, client_for
):
    ids = requests_world
    with time_machine.travel(VIEWED, tick=False):
        page = client_for(case_world.supplier).get("/requests/").get_data(as_text=True)
    assert _listed(page) == [ids[key] for key in ORDER]
    late, priority = _row(page, ids["late_plan"]), _row(page, ids["priority"])
    assert "Overdue" in late and "overdue by 8 days" in late and "Submit a plan" in late
    assert "overdue by 3 days" in priority and "Submit a new plan" in priority
    for key in ("major", "submitted", "implemented", "closed"):
        assert "verdue" not in _row(page, ids[key]), key
    assert "Plan due by" in _row(page, ids["major"]) and 'datetime="2027-03-15"' in _row(page, ids["major"])
    submitted = _row(page, ids["submitted"])
    assert "Closure due by" in submitted and 'datetime="2027-08-28"' in submitted
    assert "Wait for the verification" in _row(page, ids["implemented"])
    # Each row names the case, the site, the standard, the severity and the state.
    row = _row(page, ids["priority"])
    for text in ("C-2027-", "Assembly Plant", "FL-2", "Priority", "Plan rejected"):
        assert text in row, text


def test_requests_filter_by_state_and_overdue(case_world, requests_world, client_for):
    ids = requests_world
    with time_machine.travel(VIEWED, tick=False):
        client = client_for(case_world.supplier)
        overdue = client.get("/requests/?overdue=y").get_data(as_text=True)
        submitted = client.get("/requests/?state=plan_submitted").get_data(as_text=True)
        bad = client.get("/requests/?state=nonsense")
    assert _listed(overdue) == [ids["late_plan"], ids["priority"]]
    assert _listed(submitted) == [ids["submitted"]]
    assert bad.status_code == 200 and _listed(bad.get_data(as_text=True)) == [ids[key] for key in ORDER]


def test_requests_are_paged_by_keyset(app, case_world, requests_world, client_for, monkeypatch):
    ids = requests_world
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    seen: list[int] = []
    with time_machine.travel(VIEWED, tick=False):
        client = client_for(case_world.supplier)
        url = "/requests/"
        pages = 0
        while url:
            page = client.get(url).get_data(as_text=True)
            seen += _listed(page)
            pages += 1
            found = re.search(r'<a href="([^"]+)" rel="next">', page)
            url = found.group(1).replace("&amp;", "&") if found else None
        assert client.get("/requests/?after=not-a-cursor").status_code == 400
    assert pages == 2
    assert seen == [ids[key] for key in ORDER]


@pytest.mark.parametrize("who", ["coordinator", "monitor", "affiliate", "admin"])
def test_the_requests_page_is_for_suppliers_only(case_world, client_for, who):
    assert client_for(case_world.users[who]).get("/requests/").status_code == 404


def test_another_supplier_sees_only_its_own_requests(case_world, requests_world, client_for):
    page = client_for(case_world.supplier_y).get("/requests/").get_data(as_text=True)
    assert _listed(page) == [requests_world["other"]]
    page = client_for(case_world.supplier_y).get("/requests/?state=closed").get_data(as_text=True)
    assert _listed(page) == [] and "No requests match." in page


def test_the_home_page_counts_open_and_overdue_requests(case_world, requests_world, client_for):
    with time_machine.travel(VIEWED, tick=False):
        page = client_for(case_world.supplier).get("/").get_data(as_text=True)
    assert "5 open requests addressed to us" in page
    assert "2 requests overdue" in page
    assert 'href="/requests/"' in page


def test_the_requests_page_runs_the_same_queries_for_ten_times_the_requests(app, case_world, client_for):
    w = case_world
    states = [ActionState.requested, ActionState.plan_submitted, ActionState.implemented]

    def grow(count: int) -> None:
        for n in range(count):
            _action(w, states[n % len(states)], severity=("priority", "major", "minor")[n % 3])

    client = client_for(w.supplier)

    def measure() -> int:
        with counting(app) as count:
            response = client.get("/requests/")
            assert response.status_code == 200
        return count[0]

    grow(3)
    small = measure()
    grow(27)
    large = measure()
    assert len(_listed(client.get("/requests/").get_data(as_text=True))) == 30
    assert large == small
