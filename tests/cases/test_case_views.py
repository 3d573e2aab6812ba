"""The case board and the case page: who sees what, the filters, and the forms that move a case."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from monitoring.accounts.models import Organisation, OrganisationKind, User
from monitoring.cases.models import (
    ActionState,
    Case,
    CaseClosure,
    CaseEvent,
    CaseState,
    Finding,
    Remedy,
    RemedyKind,
)
from monitoring.core.db import db
from monitoring.supplychain.models import Site
from monitoring.testimony import operations as testimony_operations
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form
from tests.supplychain.test_query_counts import counting
from tests.testimony.monitor_helpers import intake_data

OPENED = datetime(2027, 3, 1, 10, tzinfo=UTC)
LATER = datetime(2027, 3, 20, 10, tzinfo=UTC)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _listed(page: str) -> list[int]:
    """The cases a board lists, in order."""
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/cases/(\d+)">', page)]


def _row(page: str, case_id: int) -> str:
    start = page.index(f'<th scope="row"><a href="/cases/{case_id}">')
    return page[start : page.index("</tr>", start)]


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def _state(world: CaseWorld, case_id: int) -> CaseState:
    return world.get(Case, case_id).state


def _report(world: CaseWorld) -> int:
    """A worker report of the monitor organisation about the site (metadata is all a finding links)."""
    with world.app.app_context():
        site = db.session.get(Site, world.site)
        monitor = db.session.get(User, world.monitor.id)
        report = testimony_operations.record_report(monitor, intake_data(site=site, country=None))
        db.session.commit()
        return report.id


def _case_with_action(world: CaseWorld, **kw) -> tuple[int, int]:
    case_id = world.case(**kw)
    return case_id, world.action(case_id)


# --- access -------------------------------------------------------------------------------------


BOARD = {
    "coordinator": (200, True),
    "monitor": (200, True),
    "other_monitor": (200, False),
    "affiliate": (200, True),
    "affiliate_b": (200, False),
    "admin": (404, False),
}
CASE_PAGE = {
    "coordinator": 200,
    "monitor": 200,
    "affiliate": 200,
    "supplier": 200,
    "other_monitor": 404,
    "affiliate_b": 404,
    "supplier_y": 404,
    "admin": 404,
}


@pytest.mark.parametrize("who", sorted(CASE_PAGE))
def test_each_role_sees_the_board_and_the_case_page_it_may(case_world, client_for, who):
    w = case_world
    case_id, _action = _case_with_action(w)
    client = client_for(w.users[who])
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == CASE_PAGE[who]
    if page.status_code == 200:
        assert w.get(Case, case_id).reference in _text(page)
    board = client.get("/cases/")
    if who in ("supplier", "supplier_y"):
        # Suppliers follow their requests instead.
        assert board.status_code == 302 and board.headers["Location"].endswith("/requests/")
    else:
        status, listed = BOARD[who]
        assert board.status_code == status
        if status == 200:
            assert (case_id in _listed(_text(board))) is listed


@pytest.mark.parametrize(
    "who, url, method",
    [
        ("admin", "/cases/new", "get"),
        ("affiliate", "/cases/new", "get"),
        ("supplier", "/cases/new", "get"),
        ("coordinator", "/cases/{id}/close", "get"),
        ("other_monitor", "/cases/{id}/close", "get"),
        ("affiliate", "/cases/{id}/transition", "post"),
        ("supplier", "/cases/{id}/transition", "post"),
        ("other_monitor", "/cases/{id}/transition", "post"),
        ("admin", "/cases/{id}/transition", "post"),
        ("monitor", "/cases/{id}/lead", "post"),
        ("affiliate", "/cases/{id}/findings", "post"),
        ("other_monitor", "/cases/{id}/findings", "post"),
        ("affiliate", "/cases/{id}/reopen", "post"),
        ("supplier", "/cases/{id}/reopen", "post"),
        ("affiliate_b", "/cases/{id}/messages", "post"),
        ("supplier_y", "/cases/{id}/messages", "post"),
        ("admin", "/cases/{id}/messages", "post"),
    ],
)
def test_roles_and_outsiders_get_404_for_what_they_may_not_do(case_world, client_for, who, url, method):
    w = case_world
    case_id, _action = _case_with_action(w)
    client = client_for(w.users[who])
    before = w.counts()
    url = url.format(id=case_id)
    if method == "get":
        response = client.get(url)
    else:
        data = {
            "transition": "start_remediation",
            "lead": "",
            "reason": "x",
            "body": "x",
            "visibility": "buyers",
        }
        response = post_form(client, url, data)
    assert response.status_code == 404
    assert w.counts() == before
    assert _state(w, case_id) is CaseState.in_dialogue


# --- the board ----------------------------------------------------------------------------------


def test_the_board_is_titled_for_each_role_and_shows_the_lead_to_staff_only(case_world, client_for):
    w = case_world
    case_id = w.case(lead="coordinator2")
    titles = {
        "coordinator": "Case board",
        "monitor": "My organisation&#39;s cases",
        "affiliate": "Cases touching my products",
    }
    for who, title in titles.items():
        page = _text(client_for(w.users[who]).get("/cases/"))
        assert f"<h1>{title}</h1>" in page, who
        row = _row(page, case_id)
        assert ("Lead coordinator" in page) is (who != "affiliate")
        assert (w.coordinator2.name in row) is (who != "affiliate")


def test_the_board_counts_findings_and_open_actions_and_shows_the_next_deadline(case_world, client_for):
    w = case_world
    with time_machine.travel(OPENED, tick=False):
        findings = [w.finding(), w.finding(standard="WH-1"), w.finding(standard="WH-2")]
        case_id = w.case(findings=findings)
        first = w.action(case_id, finding_id=findings[0], plan_due_date=date(2027, 3, 10))
        w.action(case_id, finding_id=findings[1], plan_due_date=date(2027, 3, 12))
        done = w.action(case_id, finding_id=findings[2])
        w.advance_action(done, ActionState.closed)
        quiet = w.case()
    with time_machine.travel(datetime(2027, 3, 5, 10, tzinfo=UTC), tick=False):
        page = _text(client_for(w.coordinator).get("/cases/"))
    row = _row(page, case_id)
    cells = re.findall(r'<td class="number">(\d+)</td>', row)
    assert cells == ["3", "2"]
    assert 'datetime="2027-03-10"' in row and "overdue" not in row
    assert "none" in _row(page, quiet)
    # After the first plan deadline passes, the row says so in words.
    with time_machine.travel(datetime(2027, 3, 11, 10, tzinfo=UTC), tick=False):
        row = _row(_text(client_for(w.affiliate).get("/cases/")), case_id)
    assert 'datetime="2027-03-10"' in row and "overdue" in row
    assert first


@pytest.fixture
def board_world(case_world):
    """Cases in different states, severities, countries and standards, opened on 1 March 2027."""
    w = case_world
    with time_machine.travel(OPENED, tick=False):
        ids = {
            "open_major": w.case(),
            "priority": w.case(findings=[w.finding(severity="priority", standard="HS-1")]),
            "thai": w.case(
                findings=[w.finding(site_id=w.other_site, severity="minor", standard="WH-2")],
                site_id=w.other_site,
            ),
        }
        ids["late"] = w.case(findings=[w.finding(standard="WB-1")])
        w.action(ids["late"], plan_due_date=date(2027, 3, 5))
        ids["dialogue"] = w.case(findings=[w.finding(standard="FL-4")])
        w.advance_case(ids["dialogue"], CaseState.in_dialogue)
    return ids


@pytest.mark.parametrize(
    "query, expected",
    [
        ("state=in_dialogue", {"late", "dialogue"}),
        ("state=open", {"open_major", "priority", "thai"}),
        ("severity=priority", {"priority"}),
        ("severity=minor", {"thai"}),
        ("overdue=y", {"late"}),
        ("country=TH", {"thai"}),
        ("country=CN", {"open_major", "priority", "late", "dialogue"}),
        ("category=HS", {"priority"}),
        ("category=FL", {"open_major", "dialogue"}),
        ("category=WB&overdue=y", {"late"}),
        ("state=closed", set()),
        ("state=nonsense", {"open_major", "priority", "thai", "late", "dialogue"}),
    ],
)
def test_the_board_filters(case_world, board_world, client_for, query, expected):
    with time_machine.travel(LATER, tick=False):
        response = client_for(case_world.coordinator).get(f"/cases/?{query}")
    assert response.status_code == 200
    assert set(_listed(_text(response))) == {board_world[key] for key in expected}


def test_the_affiliate_board_lists_only_cases_touching_its_products(case_world, board_world, client_for):
    with time_machine.travel(LATER, tick=False):
        mine = _text(client_for(case_world.affiliate).get("/cases/"))
        other = _text(client_for(case_world.affiliate_b).get("/cases/"))
        monitor = _text(client_for(case_world.monitor).get("/cases/?overdue=y"))
    expected = {board_world[k] for k in ("open_major", "priority", "late", "dialogue")}
    assert set(_listed(mine)) == expected
    # Buyer B's contract reaches only the Thai site.
    assert _listed(other) == [board_world["thai"]]
    assert _listed(monitor) == [board_world["late"]]


def test_the_board_is_paged_newest_first(app, case_world, client_for, monkeypatch):
    w = case_world
    ids = []
    for day in range(1, 6):
        with time_machine.travel(datetime(2027, 3, day, 10, tzinfo=UTC), tick=False):
            ids.append(w.case())
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    client = client_for(w.coordinator)
    seen, url = [], "/cases/?state=open"
    while url:
        page = _text(client.get(url))
        seen += _listed(page)
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == list(reversed(ids))
    assert client.get("/cases/?after=garbage").status_code == 400


def test_the_board_runs_the_same_queries_for_ten_times_the_cases(app, case_world, client_for):
    w = case_world
    clients = {who: client_for(w.users[who]) for who in ("coordinator", "monitor", "affiliate")}

    def grow(count: int) -> None:
        for n in range(count):
            findings = [w.finding(standard=("FL-1", "WH-1", "HS-2")[n % 3]), w.finding()]
            case_id = w.case(findings=findings, lead="coordinator2" if n % 2 else None)
            if n % 2:
                w.action(case_id, finding_id=findings[0])

    def measure() -> dict[str, int]:
        counts = {}
        for who, client in clients.items():
            with counting(app) as count:
                assert client.get("/cases/?category=FL").status_code == 200
            counts[who] = count[0]
            with counting(app) as count:
                assert client.get("/cases/").status_code == 200
            counts[f"{who} all"] = count[0]
        return counts

    grow(2)
    small = measure()
    grow(18)
    large = measure()
    assert len(_listed(_text(clients["affiliate"].get("/cases/")))) == 20
    assert large == small


# --- opening a case -----------------------------------------------------------------------------


def test_a_monitor_opens_a_case_from_the_form(app, case_world, client_for):
    w = case_world
    mine = [w.finding(), w.finding(standard="WH-1", severity="priority")]
    theirs = w.finding(by="other_monitor")
    client = client_for(w.monitor)
    start = _text(client.get("/cases/new"))
    assert f'<option value="{w.site}">' in start and "Continue" in start
    form = _text(client.get(f"/cases/new?site={w.site}"))
    for finding_id in mine:
        assert f'value="{finding_id}"' in form
    # Another organisation's finding at the same site is not offered, and is refused if sent.
    assert f'value="{theirs}"' not in form
    url = f"/cases/new?site={w.site}"
    before = _count(app, Case)
    refused = post_form(client, url, {"site": w.site, "findings": [theirs]}, form_page=url)
    assert refused.status_code == 422 and _count(app, Case) == before
    empty = post_form(client, url, {"site": w.site}, form_page=url)
    assert empty.status_code == 422 and "Choose at least one finding." in _text(empty)
    response = post_form(client, url, {"site": w.site, "findings": mine, "lead": ""}, form_page=url)
    assert response.status_code == 302
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    case = w.get(Case, case_id)
    assert case.severity.value == "priority" and case.monitor_organisation_id == w.orgs["monitors"]
    assert {w.get(Finding, f).case_id for f in mine} == {case_id}
    page = _text(client.get(f"/cases/{case_id}"))
    assert f"Case {case.reference} was opened." in page


def test_a_case_is_opened_from_a_finding_page_with_the_finding_chosen(case_world, client_for):
    w = case_world
    finding_id = w.finding()
    w.finding()  # a second free finding at the site: nothing is chosen for it
    client = client_for(w.coordinator)
    page = _text(client.get(f"/findings/{finding_id}"))
    link = f"/cases/new?site={w.site}&amp;finding={finding_id}"
    assert "Open a case for this finding" in page and link in page
    form = _text(client.get(link.replace("&amp;", "&")))
    assert re.search(rf'checked id="findings-\d" name="findings" type="checkbox" value="{finding_id}"', form)
    assert form.count("checked") == 1
    url = f"/cases/new?site={w.site}"
    response = post_form(
        client, url, {"site": w.site, "findings": [finding_id], "lead": w.coordinator2.id}, form_page=url
    )
    assert response.status_code == 302
    case_id = w.get(Finding, finding_id).case_id
    assert w.get(Case, case_id).lead_coordinator_id == w.coordinator2.id
    # Once in a case, the finding page no longer offers to open one.
    assert "Open a case for this finding" not in _text(client.get(f"/findings/{finding_id}"))


# --- the case page ------------------------------------------------------------------------------


@pytest.fixture
def shared_case(case_world, create_organisation):
    """A case at the site reached by affiliate A and a third buyer; a finding with 3 workers and a
    linked worker report; an action addressed to supplier X."""
    w = case_world
    third = create_organisation(OrganisationKind.affiliate, name="Third Buyer City")
    w.registry.contract(third.id, w.orgs["supplier_x"], [w.products["laptop"]])
    report_id = _report(w)
    finding_id = w.finding(workers_affected=3, summary="Agents kept passports.", report_ids=[report_id])
    case_id = w.case(findings=[finding_id])
    w.action(case_id)
    return {"case": case_id, "finding": finding_id, "report": report_id, "third": third.name}


def test_staff_see_every_concerned_buyer_supplier_and_product(case_world, shared_case, client_for):
    w = case_world
    page = _text(client_for(w.coordinator).get(f"/cases/{shared_case['case']}"))
    affiliate_a = w.get(Organisation, w.orgs["affiliate_a"]).name
    supplier_x = w.get(Organisation, w.orgs["supplier_x"]).name
    for text in (
        affiliate_a,
        shared_case["third"],
        supplier_x,
        "Laptop",
        "Agents kept passports.",
        "<dd>3</dd>",
    ):
        assert text in page, text
    # A coordinator never sees links to worker reports.
    assert "/testimony/reports/" not in page


def test_the_monitor_of_the_finding_sees_its_report_links(case_world, shared_case, client_for):
    page = _text(client_for(case_world.monitor).get(f"/cases/{shared_case['case']}"))
    assert f'href="/testimony/reports/{shared_case["report"]}"' in page
    assert "Agents kept passports." in page


def test_an_affiliate_sees_itself_a_count_of_other_buyers_and_its_own_products(
    case_world, shared_case, client_for
):
    w = case_world
    page = _text(client_for(w.affiliate).get(f"/cases/{shared_case['case']}"))
    assert w.get(Organisation, w.orgs["affiliate_a"]).name in page
    assert shared_case["third"] not in page
    assert "1 other public buyer" in page
    assert "Laptop" in page and "contract REF-" in page
    # Suppliers are for staff; the summary is shared; small numbers of workers are not.
    assert "Suppliers</h3>" not in page
    assert "Agents kept passports." in page and "fewer than 5" in page and "<dd>3</dd>" not in page
    assert "/testimony/reports/" not in page
    assert "Write a message" in page


def test_a_supplier_sees_standard_and_severity_but_no_summary(case_world, shared_case, client_for):
    w = case_world
    page = _text(client_for(w.supplier).get(f"/cases/{shared_case['case']}"))
    assert "FL-1" in page and "Major" in page and "fewer than 5" in page
    assert "Agents kept passports." not in page
    assert "/testimony/reports/" not in page
    assert w.get(Organisation, w.orgs["affiliate_a"]).name not in page
    assert shared_case["third"] not in page
    assert "Lead coordinator" not in page
    # The only readers a supplier writes to are the parties.
    assert 'type="radio"' not in page and 'name="visibility" value="parties"' in page


def test_the_finding_page_follows_the_same_rules(case_world, shared_case, client_for):
    w = case_world
    url = f"/findings/{shared_case['finding']}"
    pages = {who: client_for(w.users[who]).get(url) for who in CASE_PAGE}
    assert {who: r.status_code for who, r in pages.items()} == CASE_PAGE
    for who in ("coordinator", "affiliate", "supplier"):
        assert "/testimony/reports/" not in _text(pages[who]), who
    assert f"/testimony/reports/{shared_case['report']}" in _text(pages["monitor"])
    assert "Agents kept passports." not in _text(pages["supplier"])
    assert "fewer than 5" in _text(pages["affiliate"])


# --- moving the case on -------------------------------------------------------------------------


def _transition(client, case_id: int, name: str, reason: str | None = None):
    data = {"transition": name}
    if reason is not None:
        data["reason"] = reason
    return post_form(client, f"/cases/{case_id}/transition", data, form_page=f"/cases/{case_id}")


def test_the_page_offers_the_transitions_the_user_may_take(case_world, client_for):
    w = case_world
    case_id = w.case()
    coordinator = _text(client_for(w.coordinator).get(f"/cases/{case_id}"))
    assert 'value="start_dialogue"' in coordinator
    for who in ("affiliate", "other_monitor"):
        assert 'name="transition"' not in _text(client_for(w.users[who]).get(f"/cases/{case_id}"))
    w.advance_case(case_id, CaseState.verification)
    monitor = client_for(w.monitor)
    page = _text(monitor.get(f"/cases/{case_id}"))
    assert 'value="resume_remediation"' in page and 'name="reason"' in page
    # Closing is offered once every corrective action is closed.
    assert f'href="/cases/{case_id}/close"' not in page
    for action_id in w.actions_of(case_id):
        w.advance_action(action_id, ActionState.closed)
    assert f'href="/cases/{case_id}/close"' in _text(monitor.get(f"/cases/{case_id}"))


def test_transitions_through_the_form(app, case_world, client_for):
    w = case_world
    case_id = w.case()
    client = client_for(w.coordinator)
    response = _transition(client, case_id, "start_dialogue")
    assert response.status_code == 302
    assert _state(w, case_id) is CaseState.in_dialogue
    assert "The case is now “In dialogue”." in _text(client.get(f"/cases/{case_id}"))
    # A guard refuses: no corrective action yet. Nothing changes.
    before = w.counts()
    refused = _transition(client, case_id, "start_remediation")
    assert refused.status_code == 422
    assert "Request at least one corrective action before remediation starts." in _text(refused)
    assert _state(w, case_id) is CaseState.in_dialogue and w.counts() == before
    # Closing and reopening have their own pages; an unknown step is a bad request.
    assert _transition(client, case_id, "close").status_code == 400
    assert _transition(client, case_id, "fly").status_code == 400


def test_going_back_to_remediation_needs_a_reason(case_world, client_for):
    w = case_world
    case_id = w.case()
    w.advance_case(case_id, CaseState.verification)
    client = client_for(w.monitor)
    before = w.counts()
    refused = _transition(client, case_id, "resume_remediation", "  ")
    assert refused.status_code == 422 and "Give a reason." in _text(refused)
    assert 'aria-invalid="true"' in _text(refused)
    assert _state(w, case_id) is CaseState.verification and w.counts() == before
    done = _transition(client, case_id, "resume_remediation", "Workers report fees still charged.")
    assert done.status_code == 302 and _state(w, case_id) is CaseState.remediation
    timeline = _text(client_for(w.affiliate).get(f"/cases/{case_id}"))
    assert "Workers report fees still charged." in timeline
    assert "from “Verification” to “Remediation”" in timeline


def test_a_coordinator_sets_the_lead(case_world, client_for):
    w = case_world
    case_id = w.case()
    client = client_for(w.coordinator)
    url = f"/cases/{case_id}/lead"
    response = post_form(client, url, {"lead": w.coordinator2.id}, form_page=f"/cases/{case_id}")
    assert response.status_code == 302
    assert w.get(Case, case_id).lead_coordinator_id == w.coordinator2.id
    assert f"{w.coordinator2.name} now leads the case." in _text(client.get(f"/cases/{case_id}"))
    bad = post_form(client, url, {"lead": w.monitor.id}, form_page=f"/cases/{case_id}")
    assert bad.status_code == 422 and w.get(Case, case_id).lead_coordinator_id == w.coordinator2.id
    post_form(client, url, {"lead": ""}, form_page=f"/cases/{case_id}")
    assert w.get(Case, case_id).lead_coordinator_id is None


def test_findings_are_added_from_the_case_page(case_world, client_for):
    w = case_world
    case_id = w.case()
    extra = w.finding(standard="HS-1", severity="priority")
    theirs = w.finding(by="other_monitor")
    client = client_for(w.monitor)
    page = _text(client.get(f"/cases/{case_id}"))
    assert f'value="{extra}"' in page and f'value="{theirs}"' not in page
    url = f"/cases/{case_id}/findings"
    refused = post_form(client, url, {"findings": [theirs]}, form_page=f"/cases/{case_id}")
    assert refused.status_code == 422 and w.get(Finding, theirs).case_id is None
    response = post_form(client, url, {"findings": [extra]}, form_page=f"/cases/{case_id}")
    assert response.status_code == 302
    assert w.get(Finding, extra).case_id == case_id
    assert w.get(Case, case_id).severity.value == "priority"


# --- closing and reopening ----------------------------------------------------------------------


def _close_data(**overrides) -> dict:
    data = {
        "outcome": "resolved",
        "note": "Fees repaid; passports returned.",
        "remedies-0-kind": "fees_repaid",
        "remedies-0-amount": "1250.50",
        "remedies-0-currency": "usd",
        "remedies-0-workers_covered": "12",
        "remedies-0-description": "Repaid in cash with receipts.",
        "remedies-1-kind": "",
        "remedies-2-kind": "passports_returned",
        "remedies-2-workers_covered": "3",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def verification_case(case_world):
    w = case_world
    case_id = w.case(findings=[w.finding(severity="priority", standard="FL-2")])
    w.advance_case(case_id, CaseState.verification)
    for action_id in w.actions_of(case_id):
        w.advance_action(action_id, ActionState.closed)
    return case_id


def test_the_close_form_offers_three_remedy_rows_and_the_consultation(
    case_world, verification_case, client_for
):
    w = case_world
    page = _text(client_for(w.monitor).get(f"/cases/{verification_case}/close"))
    assert page.count('<fieldset class="remedy">') == 3
    assert "I confirm the affected workers were consulted about this remedy" in page
    for kind in RemedyKind:
        assert f'value="{kind.value}"' in page
    # A case that is not in verification is not closed yet: back to the case with the reason.
    other = w.case()
    response = client_for(w.monitor).get(f"/cases/{other}/close")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{other}")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"remedies-0-amount": ""}, "Give the amount paid."),
        ({"remedies-0-currency": ""}, "Give the currency of the amount."),
        ({"remedies-0-currency": "ZZZ"}, "Give a three-letter ISO 4217 code"),
        ({"remedies-0-amount": "-5"}, "Give an amount of 0 or more."),
        ({"remedies-2-workers_covered": "many"}, "Not a valid integer value."),
        ({"outcome": None}, "Choose the outcome."),
        ({"workers_consulted": None}, "confirm that the affected workers were consulted"),
    ],
)
def test_closing_errors_show_at_their_fields_and_change_nothing(
    app, case_world, verification_case, client_for, overrides, message
):
    w = case_world
    data = _close_data(**{"workers_consulted": "y", **overrides})
    client = client_for(w.monitor)
    before = (w.counts(), _count(app, CaseClosure), _count(app, Remedy))
    url = f"/cases/{verification_case}/close"
    response = post_form(client, url, data, form_page=url)
    assert response.status_code == 422
    assert message in _text(response)
    assert (w.counts(), _count(app, CaseClosure), _count(app, Remedy)) == before
    assert _state(w, verification_case) is CaseState.verification


def test_a_monitor_closes_a_priority_case_with_remedies_and_it_is_reopened(
    app, case_world, verification_case, client_for
):
    w = case_world
    url = f"/cases/{verification_case}/close"
    monitor = client_for(w.monitor)
    reason = "The workers were interviewed offsite; none holds a receipt."
    data = _close_data(workers_consulted="y", no_validation_reason=reason)
    response = post_form(monitor, url, data, form_page=url)
    assert response.status_code == 302
    assert _state(w, verification_case) is CaseState.closed
    with app.app_context():
        closure = db.session.scalar(select(CaseClosure).where(CaseClosure.case_id == verification_case))
        remedies = [
            (r.kind, r.amount, r.currency, r.workers_covered, r.description) for r in closure.remedies
        ]
        assert closure.workers_consulted_by_id == w.monitor.id
    assert remedies == [
        (RemedyKind.fees_repaid, Decimal("1250.50"), "USD", 12, "Repaid in cash with receipts."),
        (RemedyKind.passports_returned, None, None, 3, None),
    ]
    staff = _text(monitor.get(f"/cases/{verification_case}"))
    assert "Resolved" in staff and "Fees repaid; passports returned." in staff
    assert "$1,250.50" in staff and "workers covered: 3" in staff
    buyer = _text(client_for(w.affiliate).get(f"/cases/{verification_case}"))
    assert "$1,250.50" in buyer and "workers covered: fewer than 5" in buyer
    assert "Fees repaid; passports returned." not in buyer
    # Reopening needs a reason.
    reopen = f"/cases/{verification_case}/reopen"
    coordinator = client_for(w.coordinator)
    refused = post_form(coordinator, reopen, {"reason": ""}, form_page=f"/cases/{verification_case}")
    assert refused.status_code == 422 and "Give the reason for reopening." in _text(refused)
    assert _state(w, verification_case) is CaseState.closed
    done = post_form(
        coordinator,
        reopen,
        {"reason": "Workers say fees are charged again."},
        form_page=f"/cases/{verification_case}",
    )
    assert done.status_code == 302 and _state(w, verification_case) is CaseState.in_dialogue
    page = _text(coordinator.get(f"/cases/{verification_case}"))
    assert "Workers say fees are charged again." in page and "Reopened" in page
    with app.app_context():
        kinds = db.session.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == verification_case).order_by(CaseEvent.id)
        ).all()
    assert [k.value for k in kinds][-2:] == ["case_closed", "case_reopened"]
