"""Finding pages: filing and editing with linked worker reports, the list and its filters, access."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from monitoring.accounts.models import User
from monitoring.cases.models import Case, CaseState, Finding, FindingReport
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.supplychain.models import Site
from monitoring.testimony import operations as testimony_operations
from monitoring.testimony.models import ReportChannel
from tests.cases.helpers import CaseWorld
from tests.conftest import post_form
from tests.supplychain.test_query_counts import counting
from tests.testimony.monitor_helpers import intake_data

TODAY = utcnow().date()
FOUND = TODAY - timedelta(days=20)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/findings/(\d+)">', page)]


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def _report(world: CaseWorld, who: str = "monitor", site_id: int | None = None, **kw) -> int:
    """A worker report recorded by a monitor (sealing needs only the organisation's public key)."""
    with world.app.app_context():
        site = db.session.get(Site, site_id or world.site)
        monitor = db.session.get(User, world.users[who].id)
        report = testimony_operations.record_report(monitor, intake_data(site=site, country=None, **kw))
        db.session.commit()
        return report.id


def _finding_data(world: CaseWorld, **overrides) -> dict:
    data = {
        "site": str(world.site),
        "standard": "FL-2",
        "severity": "priority",
        "workers_affected": "40",
        "evidence_type": "offsite_interviews",
        "found_date": FOUND.isoformat(),
        "summary": "Dormitory managers hold the passports of migrant workers.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- filing -------------------------------------------------------------------------------------


def test_a_monitor_files_a_finding_in_two_steps_with_supporting_reports(
    app, case_world, grant_keys, client_for
):
    w = case_world
    grant_keys(w.other_monitor)
    ours = [_report(w, channel=ReportChannel.offsite_interview), _report(w, channel=ReportChannel.hotline)]
    elsewhere = _report(w, site_id=w.other_site)
    theirs = _report(w, "other_monitor")
    client = client_for(w.monitor)
    first = _text(client.get("/findings/new"))
    assert 'name="site"' in first and 'name="summary"' not in first
    url = f"/findings/new?site={w.site}"
    form = _text(client.get(url))
    assert "It must not identify any worker" in form
    assert "Only the monitors of your organisation see these links." in form
    offered = [int(i) for i in re.findall(r'name="reports" type="checkbox" value="(\d+)"', form)]
    assert sorted(offered) == sorted(ours) and elsewhere not in offered and theirs not in offered
    # The list gives metadata only: id, date collected, channel; never testimony.
    assert f"Report {ours[1]}, collected 2026-01-15, Hotline" in form
    assert "Somsri" not in form and "We work every Sunday" not in form
    response = post_form(client, url, {**_finding_data(w), "reports": ours}, form_page=url)
    assert response.status_code == 302
    finding_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        finding = db.session.get(Finding, finding_id)
        assert (finding.standard, finding.severity.value, finding.workers_affected) == (
            "FL-2",
            "priority",
            40,
        )
        assert finding.organisation_id == w.orgs["monitors"] and finding.found_date == FOUND
        assert sorted(link.report_id for link in finding.report_links) == sorted(ours)
    page = _text(client.get(f"/findings/{finding_id}"))
    assert f"Finding {finding_id} was filed." in page
    assert "Dormitory managers hold the passports of migrant workers." in page
    for report_id in ours:
        assert f'href="/testimony/reports/{report_id}"' in page


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"summary": " "}, "Write a summary."),
        ({"standard": "XX-9"}, "Not a valid choice."),
        ({"standard": ""}, "Choose a standard."),
        ({"severity": "grave"}, "Not a valid choice."),
        ({"workers_affected": "-3"}, "Give a number of 0 or more."),
        ({"found_date": (TODAY + timedelta(days=2)).isoformat()}, "The date found cannot be in the future."),
        ({"found_date": ""}, "Give the date it was found."),
    ],
)
def test_filing_errors_are_shown_at_their_fields_and_nothing_is_written(
    app, case_world, client_for, overrides, message
):
    w = case_world
    client = client_for(w.monitor)
    before = w.counts()
    url = f"/findings/new?site={w.site}"
    response = post_form(client, url, _finding_data(w, **overrides), form_page=url)
    assert response.status_code == 422
    page = _text(response)
    assert message in page and 'aria-invalid="true"' in page
    # What was typed is kept.
    assert "Dormitory managers hold the passports" in page or overrides.get("summary")
    assert w.counts() == before


def test_another_organisations_reports_cannot_be_linked(app, case_world, grant_keys, client_for):
    w = case_world
    grant_keys(w.other_monitor)
    theirs = _report(w, "other_monitor")
    client = client_for(w.monitor)
    url = f"/findings/new?site={w.site}"
    before = _count(app, FindingReport)
    response = post_form(client, url, {**_finding_data(w), "reports": [theirs]}, form_page=url)
    assert response.status_code == 422 and _count(app, FindingReport) == before
    assert _count(app, Finding) == 0


@pytest.mark.parametrize("who", ["coordinator", "affiliate", "supplier", "admin"])
def test_only_monitors_file_findings(case_world, client_for, who):
    client = client_for(case_world.users[who])
    assert client.get("/findings/new").status_code == 404
    assert client.get(f"/findings/new?site={case_world.site}").status_code == 404


# --- editing ------------------------------------------------------------------------------------


def test_a_monitor_edits_a_finding_of_its_organisation(app, case_world, client_for):
    w = case_world
    first, second = _report(w), _report(w)
    finding_id = w.finding(report_ids=[first])
    client = client_for(w.monitor)
    url = f"/findings/{finding_id}/edit"
    form = _text(client.get(url))
    assert "Workers paid recruitment fees" in form
    assert re.search(rf'checked id="reports-\d" name="reports" type="checkbox" value="{first}"', form)
    data = _finding_data(w, standard="FL-1", severity="minor", summary="Fees were charged by an agent.")
    response = post_form(client, url, {**data, "reports": [second]}, form_page=url)
    assert response.status_code == 302
    with app.app_context():
        finding = db.session.get(Finding, finding_id)
        assert finding.severity.value == "minor" and finding.summary == "Fees were charged by an agent."
        assert [link.report_id for link in finding.report_links] == [second]
    assert f"Finding {finding_id} was saved." in _text(client.get(f"/findings/{finding_id}"))


@pytest.mark.parametrize("who", ["coordinator", "other_monitor", "affiliate", "supplier", "admin"])
def test_others_cannot_edit_a_finding(case_world, client_for, who):
    w = case_world
    finding_id = w.finding()
    w.action(w.case(findings=[finding_id]))
    client = client_for(w.users[who])
    before = w.counts()
    assert client.get(f"/findings/{finding_id}/edit").status_code == 404
    url = f"/findings/{finding_id}/edit"
    assert post_form(client, url, _finding_data(w)).status_code == 404
    assert w.counts() == before


def test_a_finding_of_a_closed_case_is_not_changed(case_world, client_for):
    w = case_world
    finding_id = w.finding()
    case_id = w.case(findings=[finding_id])
    w.advance_case(case_id, CaseState.closed)
    client = client_for(w.monitor)
    url = f"/findings/{finding_id}/edit"
    before = w.counts()
    response = post_form(client, url, _finding_data(w), form_page=url)
    assert response.status_code == 422
    assert "The finding&#39;s case is closed: reopen the case to change the finding." in _text(response)
    assert w.counts() == before
    assert w.get(Case, case_id).state is CaseState.closed


# --- the list and the page ----------------------------------------------------------------------


@pytest.fixture
def findings_world(case_world, grant_keys):
    w = case_world
    grant_keys(w.other_monitor)
    ids = {
        "fees": w.finding(standard="FL-1", severity="major"),
        "hours": w.finding(standard="WH-1", severity="minor"),
        "thai": w.finding(site_id=w.other_site, standard="HS-2", severity="priority"),
        "theirs": w.finding(by="other_monitor", standard="FL-3"),
    }
    w.case(findings=[ids["fees"]])
    return ids


LIST = {
    "coordinator": {"fees", "hours", "thai", "theirs"},
    "monitor": {"fees", "hours", "thai"},
    "other_monitor": {"theirs"},
}


@pytest.mark.parametrize("who", sorted(LIST))
def test_the_findings_list_shows_each_staff_member_its_findings(case_world, findings_world, client_for, who):
    page = _text(client_for(case_world.users[who]).get("/findings/"))
    assert set(_listed(page)) == {findings_world[k] for k in LIST[who]}
    assert ("Monitoring organisation</th>" in page) is (who == "coordinator")
    assert "/testimony/reports/" not in page


@pytest.mark.parametrize("who", ["affiliate", "supplier", "admin"])
def test_the_findings_list_is_for_staff(case_world, client_for, who):
    assert client_for(case_world.users[who]).get("/findings/").status_code == 404


@pytest.mark.parametrize(
    "query, expected",
    [
        ("severity=priority", {"thai"}),
        ("category=FL", {"fees"}),
        ("category=WH", {"hours"}),
        ("in_case=yes", {"fees"}),
        ("in_case=no", {"hours", "thai"}),
        ("site={other_site}", {"thai"}),
        ("site={site}&severity=minor", {"hours"}),
        ("severity=bogus", {"fees", "hours", "thai"}),
    ],
)
def test_the_findings_list_filters(case_world, findings_world, client_for, query, expected):
    w = case_world
    url = "/findings/?" + query.format(site=w.site, other_site=w.other_site)
    response = client_for(w.monitor).get(url)
    assert response.status_code == 200
    assert set(_listed(_text(response))) == {findings_world[k] for k in expected}


FINDING_PAGE = {
    "coordinator": 200,
    "monitor": 200,
    "other_monitor": 404,
    "affiliate": 200,
    "affiliate_b": 404,
    "supplier": 200,
    "supplier_y": 404,
    "admin": 404,
}


def test_a_finding_page_answers_who_may_see_it(case_world, client_for):
    w = case_world
    report_id = _report(w)
    finding_id = w.finding(report_ids=[report_id], summary="Passports kept by the dormitory office.")
    w.action(w.case(findings=[finding_id]))
    for who, status in FINDING_PAGE.items():
        response = client_for(w.users[who]).get(f"/findings/{finding_id}")
        assert response.status_code == status, who
        if status != 200:
            continue
        page = _text(response)
        assert "FL-1" in page
        assert (f"/testimony/reports/{report_id}" in page) is (who == "monitor"), who
        assert ("Passports kept by the dormitory office." in page) is (who != "supplier"), who
        assert ("Edit this finding" in page) is (who == "monitor"), who
    # A finding in no case is for its organisation's monitors and the coordinators only.
    free = w.finding()
    for who in ("affiliate", "supplier", "other_monitor"):
        assert client_for(w.users[who]).get(f"/findings/{free}").status_code == 404, who


def test_the_findings_list_runs_the_same_queries_for_ten_times_the_findings(app, case_world, client_for):
    w = case_world
    clients = {who: client_for(w.users[who]) for who in ("coordinator", "monitor")}

    def grow(count: int) -> None:
        for n in range(count):
            site_id = w.site if n % 2 else w.other_site
            finding_id = w.finding(site_id=site_id, standard=("FL-1", "WH-1", "HS-2")[n % 3])
            if n % 3 == 0:
                w.case(findings=[finding_id], site_id=site_id)

    def measure() -> dict[str, int]:
        counts = {}
        for who, client in clients.items():
            for url in ("/findings/", "/findings/?category=FL&in_case=yes"):
                with counting(app) as count:
                    assert client.get(url).status_code == 200
                counts[f"{who} {url}"] = count[0]
        return counts

    grow(3)
    small = measure()
    grow(27)
    large = measure()
    assert len(_listed(_text(clients["monitor"].get("/findings/")))) == 30
    assert large == small
