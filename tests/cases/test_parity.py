"""Pages and API are two skins over one service layer: the same lists, the same per-role views.

Every list filter of findings, cases and corrective actions (and a supplier's requests) runs
through the page and through the API as the same user and lists the same ids; each role's page
of a case, a finding and an action shows exactly what the API gives that role.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from monitoring.cases.models import ActionState, CaseState
from tests.cases.helpers import CaseWorld
from tests.testimony.monitor_helpers import make_report

API = "/api/v1"
BUILT = datetime(2027, 3, 1, 10, tzinfo=UTC)
# Two months on: the requested actions' plans are overdue, the submitted plans are not.
SEEN = datetime(2027, 5, 1, 10, tzinfo=UTC)
ROLES = ("coordinator", "monitor", "affiliate", "supplier")
SUMMARY = "Passports kept in the dormitory office."


@pytest.fixture
def world(case_world: CaseWorld) -> dict[str, Any]:
    """Findings at two sites (one of 3 workers, report-linked), cases, actions in several states."""
    w = case_world
    with time_machine.travel(BUILT, tick=False):
        report = make_report(w.app, w.monitor, country="CN")
        small = w.finding(severity="priority", workers_affected=3, report_ids=[report], summary=SUMMARY)
        major = w.finding(standard="WH-1", severity="major")
        w.finding(standard="HS-2", severity="minor", site_id=w.other_site)  # in no case
        w.finding(standard="FL-2", severity="minor")  # in no case
        case_id = w.case(findings=[small, major])
        requested = w.action(case_id, finding_id=small)
        submitted = w.action(case_id, finding_id=major)
        w.advance_action(submitted, ActionState.plan_submitted)
        other_case = w.case(findings=[w.finding(site_id=w.other_site, standard="WH-2")], site_id=w.other_site)
        third = w.case(findings=[w.finding(severity="minor")])
        implemented = w.action(third, supplier="supplier_x")
        w.advance_action(implemented, ActionState.implemented)
        w.advance_case(other_case, CaseState.in_dialogue)
    return {
        "w": w,
        "case": case_id,
        "finding": small,
        "action": requested,
        "submitted": submitted,
        "other_case": other_case,
    }


def _page_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)]


def _api_ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def _clients(w: CaseWorld, client_for: Any, api_client: Any, role: str) -> tuple[Any, Any]:
    return client_for(w.users[role]), api_client(w.users[role])


# (page url, API url, roles that have the page): the same filter in each skin's own words.
def _list_cases(s: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    w = s["w"]
    staff = ("coordinator", "monitor")
    board = ("coordinator", "monitor", "affiliate")
    return [
        ("/findings/", "/findings", staff),
        (f"/findings/?site={w.site}", f"/findings?site_id={w.site}", staff),
        ("/findings/?category=FL", "/findings?category=FL", staff),
        ("/findings/?severity=minor", "/findings?severity=minor", staff),
        ("/findings/?in_case=yes", "/findings?in_case=true", staff),
        ("/findings/?in_case=no", "/findings?in_case=false", staff),
        ("/cases/", "/cases", board),
        ("/cases/?state=open", "/cases?state=open", board),
        ("/cases/?severity=priority", "/cases?severity=priority", board),
        ("/cases/?overdue=y", "/cases?overdue=true", board),
        ("/cases/?overdue=false", "/cases?overdue=false", board),
        ("/cases/?country=TH", "/cases?country=TH", board),
        ("/cases/?category=WH", "/cases?category=WH", board),
        (f"/cases/?site_id={w.other_site}", f"/cases?site_id={w.other_site}", board),
        ("/actions/", "/actions", ROLES),
        ("/actions/?state=requested", "/actions?state=requested", ROLES),
        ("/actions/?overdue=y", "/actions?overdue=true", ROLES),
        ("/actions/?overdue=false", "/actions?overdue=false", ROLES),
        (f"/actions/?case_id={s['case']}", f"/actions?case_id={s['case']}", ROLES),
        ("/actions/?awaiting_decision=y", "/actions?awaiting_decision=true", ROLES),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_list_filter_lists_the_same_ids_on_the_page_and_in_the_api(world, client_for, api_client, role):
    w = world["w"]
    with time_machine.travel(SEEN, tick=False):
        page, api = _clients(w, client_for, api_client, role)
        checked = 0
        for page_url, api_url, roles in _list_cases(world):
            if role not in roles:
                continue
            response = page.get(page_url)
            assert response.status_code == 200, page_url
            assert _page_ids(response.get_data(as_text=True)) == _api_ids(api.get(API + api_url)), (
                role,
                page_url,
            )
            checked += 1
        assert checked >= 6


def test_the_filters_do_narrow_the_lists(world, api_client):
    w = world["w"]
    with time_machine.travel(SEEN, tick=False):
        coordinator = api_client(w.coordinator)
        assert _api_ids(coordinator.get(f"{API}/cases?overdue=true")) == [world["case"]]
        assert _api_ids(coordinator.get(f"{API}/cases?country=TH")) == [world["other_case"]]
        assert _api_ids(coordinator.get(f"{API}/actions?overdue=true")) == [world["action"]]


@pytest.mark.parametrize("state", ["", "requested", "plan_submitted"])
@pytest.mark.parametrize("overdue", ["", "y"])
def test_a_suppliers_requests_are_the_actions_the_api_lists(world, client_for, api_client, state, overdue):
    w = world["w"]
    with time_machine.travel(SEEN, tick=False):
        page, api = _clients(w, client_for, api_client, "supplier")
        html = page.get(f"/requests/?state={state}&overdue={overdue}").get_data(as_text=True)
        query = "&".join(
            p for p in (f"state={state}" if state else "", "overdue=true" if overdue else "") if p
        )
        assert sorted(_page_ids(html)) == sorted(_api_ids(api.get(f"{API}/actions?{query}")))


@pytest.mark.parametrize("role", [*ROLES, "other_monitor"])
def test_plans_awaiting_a_decision_are_listed_for_those_who_decide_oldest_first(world, api_client, role):
    w = world["w"]
    with time_machine.travel(SEEN, tick=False):
        listed = _api_ids(api_client(w.users[role]).get(f"{API}/actions?awaiting_decision=true"))
    assert listed == ([world["submitted"]] if role in ("coordinator", "monitor") else [])


def test_the_coordinators_board_links_to_the_plans_awaiting_a_decision(world, client_for):
    w = world["w"]
    page = client_for(w.coordinator).get("/cases/").get_data(as_text=True)
    assert 'href="/actions/?awaiting_decision=true"' in page and "Plans awaiting my decision" in page
    assert "Plans awaiting my decision" not in client_for(w.affiliate).get("/cases/").get_data(as_text=True)


def test_the_country_filter_offers_only_countries_of_cases_the_user_sees(world, client_for):
    w = world["w"]
    coordinator = client_for(w.coordinator).get("/cases/").get_data(as_text=True)
    affiliate = client_for(w.affiliate).get("/cases/").get_data(as_text=True)
    assert 'value="CN"' in coordinator and 'value="TH"' in coordinator and 'value="FR"' not in coordinator
    assert 'value="CN"' in affiliate and 'value="TH"' not in affiliate


def _shown_like_the_api(html: str, item: dict[str, Any]) -> None:
    """What a page shows of a finding agrees with the API's answer for the same user."""
    assert (SUMMARY in html) is ("summary" in item and item["summary"] == SUMMARY)
    assert bool(re.search(r"/testimony/reports/\d+", html)) is bool(item.get("report_ids"))
    assert ("fewer than 5" in html) is item["workers_affected_suppressed"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_same_fields_of_a_finding_case_and_action_on_page_and_api(
    world, client_for, api_client, role
):
    w = world["w"]
    with time_machine.travel(SEEN, tick=False):
        page, api = _clients(w, client_for, api_client, role)
        case = api.get(f"{API}/cases/{world['case']}").get_json()
        html = page.get(f"/cases/{world['case']}").get_data(as_text=True)
        [small] = [f for f in case["findings"] if f["id"] == world["finding"]]
        _shown_like_the_api(html, small)
        assert [int(i) for i in re.findall(r'<article class="finding"[^>]*data-id="(\d+)"', html)] == [
            f["id"] for f in case["findings"]
        ]
        assert [int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)] == [
            a["id"] for a in case["actions"]
        ]
        assert ("Monitoring organisation" in html) is ("monitor_organisation" in case)
        assert ("Lead coordinator" in html) is ("lead_coordinator" in case)
        assert ("Evidence</dt>" in html) is ("evidence_type" in small)

        action = api.get(f"{API}/actions/{world['action']}").get_json()
        html = page.get(f"/actions/{world['action']}").get_data(as_text=True)
        _shown_like_the_api(html, action["finding"])

        finding = api.get(f"{API}/findings/{world['finding']}")
        response = page.get(f"/findings/{world['finding']}")
        assert response.status_code == finding.status_code
        if finding.status_code == 200:
            html = response.get_data(as_text=True)
            _shown_like_the_api(html, finding.get_json())
            assert ("Date found" in html) is ("found_date" in finding.get_json())
            assert ("Filed by" in html) is ("organisation" in finding.get_json())


def test_a_parties_message_goes_to_the_only_supplier_without_choosing_it(world, client_for, api_client):
    w = world["w"]
    html = client_for(w.coordinator).get(f"/cases/{world['case']}").get_data(as_text=True)
    supplier = w.orgs["supplier_x"]
    assert re.search(rf'<option selected value="{supplier}">|<option value="{supplier}" selected', html)
    response = api_client(w.coordinator).post(
        f"{API}/cases/{world['case']}/messages", json={"visibility": "parties", "body": "To the supplier."}
    )
    assert response.status_code == 201 and response.get_json()["supplier"]["id"] == supplier


def test_a_rejected_plan_is_the_start_of_the_next_one(world, client_for):
    w = world["w"]
    w.step_action(world["submitted"], ActionState.plan_rejected, "coordinator")
    html = client_for(w.supplier).get(f"/actions/{world['submitted']}").get_data(as_text=True)
    form = html[html.index('id="plan-form-heading"') :]
    assert "Agents charge fees abroad.</textarea>" in form and 'value="2030-01-31"' in form
