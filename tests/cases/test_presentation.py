"""The case page as a new user reads it: names, dates, numbers, and who moves a stalled case on."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from flask_babel import force_locale

from monitoring.cases import workflow
from monitoring.cases.models import Case, CaseState
from monitoring.cases.presentation import FORWARD, WHO_MOVES
from monitoring.cases.standards import get_standard
from monitoring.core.i18n import format_when
from tests.cases.helpers import CaseWorld

OPENED = datetime(2027, 3, 1, 10, 5, tzinfo=UTC)


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'aria-labelledby="{heading_id}"')
    return page[start : page.index("</section>", start)]


def _label(code: str) -> str:
    standard = get_standard(code)
    assert standard is not None
    return f"{standard.code} {standard.title}"


# --- names and formats -----------------------------------------------------------------------


def test_the_timeline_names_a_finding_by_its_standard_not_its_number(case_world: CaseWorld, client_for):
    w = case_world
    finding_id = w.finding(standard="FL-2")
    case_id = w.case(findings=[finding_id])
    timeline = _section(_text(client_for(w.coordinator).get(f"/cases/{case_id}")), "timeline-heading")
    link = re.search(rf'<a href="/findings/{finding_id}">([^<]*)</a>', timeline)
    assert link is not None, timeline
    assert link.group(1) == _label("FL-2")
    assert f"Finding {finding_id}" not in timeline


def test_dates_read_the_same_in_the_timeline_as_in_the_facts(app, case_world: CaseWorld, client_for):
    w = case_world
    with time_machine.travel(OPENED, tick=False):
        case_id = w.case()
    page = _text(client_for(w.coordinator).get(f"/cases/{case_id}"))
    with app.test_request_context(), force_locale("en"):
        day, moment = format_when(OPENED), format_when(OPENED, time=True)
    assert day == "Mar 1, 2027"
    # The fact "Opened" shows the day; the timeline the same day with its time.
    assert f">{day}</time>" in page
    assert f">{moment}</time>" in _section(page, "timeline-heading")
    assert "3/1/27" not in page  # the short form the timeline used to have


def test_counts_are_grouped_on_the_action_page(case_world: CaseWorld, client_for):
    w = case_world
    case_id = w.case(findings=[w.finding(workers_affected=1200)])
    action_id = w.action(case_id)
    page = _text(client_for(w.coordinator).get(f"/actions/{action_id}"))
    assert "1,200" in page
    assert "1200" not in page


# --- what a supplier reads -------------------------------------------------------------------


def test_the_supplier_reads_what_the_case_concerns_it(case_world: CaseWorld, client_for):
    w = case_world
    case_id = w.case(findings=[w.finding(standard="FL-1", severity="priority")])
    action_id = w.action(case_id)
    page = _text(client_for(w.supplier).get(f"/cases/{case_id}"))
    concerns = _section(page, "concerned-heading")
    assert _label("FL-1") in concerns
    assert "Priority" in concerns
    assert f'href="/actions/{action_id}"' in concerns
    # The registry's hint is for the readers who get the registry's view, not for a supplier.
    assert "Derived today from the registry" not in concerns


@pytest.mark.parametrize("who", ["coordinator", "monitor", "affiliate", "supplier"])
def test_no_reader_gets_an_empty_concerns_heading(case_world: CaseWorld, client_for, who):
    w = case_world
    case_id = w.case()
    w.action(case_id)
    page = _text(client_for(w.users[who]).get(f"/cases/{case_id}"))
    if 'id="concerned-heading"' in page:
        section = _section(page, "concerned-heading")
        # Beyond its heading and a hint, the section must say something.
        body = re.sub(
            r'<h2[^>]*>.*?</h2>|<p class="hint">.*?</p>|<[^>]+>|\s', "", section.split(">", 1)[1], flags=re.S
        )
        assert body, f"{who} gets an empty section"


# --- who moves the case on -------------------------------------------------------------------


def test_every_forward_step_says_who_takes_it() -> None:
    assert set(FORWARD.values()) == set(WHO_MOVES)
    for state, name in FORWARD.items():
        assert state in workflow.CASE_TRANSITIONS[name].sources


def test_a_monitor_is_told_a_coordinator_moves_its_case_to_remediation(case_world: CaseWorld, client_for):
    w = case_world
    case_id = w.case(by="monitor")  # the monitor's own case, with no lead coordinator
    assert w.get(Case, case_id).lead_coordinator_id is None
    w.action(case_id)  # in dialogue, with an action: only a coordinator may start remediation
    assert w.get(Case, case_id).state is CaseState.in_dialogue
    page = _text(client_for(w.monitor).get(f"/cases/{case_id}"))
    workflow_section = _section(page, "workflow-heading")
    assert "A coordinator moves the case to remediation: any coordinator." in workflow_section
    # The coordinator has the button and no hint.
    page = _text(client_for(w.coordinator).get(f"/cases/{case_id}"))
    assert "A coordinator moves the case to remediation" not in page
    assert 'value="start_remediation"' in page


def test_the_hint_names_the_lead_coordinator(case_world: CaseWorld, client_for):
    w = case_world
    case_id = w.case(lead="coordinator2")
    w.action(case_id)
    page = _text(client_for(w.monitor).get(f"/cases/{case_id}"))
    name = w.users["coordinator2"].name
    assert f"A coordinator moves the case to remediation: {name}." in page


def test_the_coordinator_is_told_what_holds_remediation_back(case_world: CaseWorld, client_for):
    w = case_world
    case_id = w.case()
    w.advance_case(case_id, CaseState.in_dialogue)
    page = _text(client_for(w.coordinator).get(f"/cases/{case_id}"))
    section = _section(page, "workflow-heading")
    assert "Request at least one corrective action before remediation starts." in section
    assert "A coordinator moves the case" not in section
    # The monitor reads both: who moves it, and what must happen first.
    section = _section(_text(client_for(w.monitor).get(f"/cases/{case_id}")), "workflow-heading")
    assert "A coordinator moves the case to remediation" in section
    assert "Request at least one corrective action before remediation starts." in section


def test_a_closed_case_has_no_next_step(case_world: CaseWorld, client_for):
    w = case_world
    case_id = w.case()
    w.advance_case(case_id, CaseState.closed)
    page = _text(client_for(w.coordinator).get(f"/cases/{case_id}"))
    assert 'class="next-step"' not in page


# --- a site without a supplier ----------------------------------------------------------------


def test_a_case_at_a_site_without_a_supplier_says_what_to_do(case_world: CaseWorld, client_for):
    w = case_world
    lonely = w.registry.site("Lonely Plant", country="CN")
    case_id = w.case(findings=[w.finding(site_id=lonely)], site_id=lonely)
    for who in ("coordinator", "monitor"):
        page = _text(client_for(w.users[who]).get(f"/cases/{case_id}"))
        actions = _section(page, "actions-heading")
        assert "no corrective action can be requested" in actions
        assert f'href="/sites/{lonely}"' in actions
    # A site with a disclosing supplier says nothing of the kind.
    other = w.case()
    page = _text(client_for(w.coordinator).get(f"/cases/{other}"))
    assert "no corrective action can be requested" not in page


def test_the_page_looks_the_site_s_suppliers_up_once(case_world: CaseWorld, client_for, monkeypatch):
    """The notice reuses the suppliers the page lists (a walk of the site's chains each time)."""
    from monitoring.cases import presentation
    from monitoring.supplychain import queries

    calls: list[int] = []
    looked_up = queries.concerned_suppliers

    def counted(site_id, today, affiliate_id=None):
        calls.append(site_id)
        return looked_up(site_id, today, affiliate_id)

    monkeypatch.setattr(queries, "concerned_suppliers", counted)
    monkeypatch.setattr(presentation, "concerned_suppliers", counted)
    w = case_world
    lonely = w.registry.site("Lonely Plant", country="CN")
    lonely_case = w.case(findings=[w.finding(site_id=lonely)], site_id=lonely)
    for case_id, notice in ((lonely_case, True), (w.case(), False)):
        calls.clear()
        page = _text(client_for(w.coordinator).get(f"/cases/{case_id}"))
        assert ("no corrective action can be requested" in page) is notice
        assert len(calls) == 1
