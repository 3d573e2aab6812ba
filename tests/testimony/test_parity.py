"""Pages and API are two skins over one service layer: the same filters give the same reports,
and each role sees the same metadata of a report on the page as in the API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from monitoring.accounts.models import Organisation, User
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.testimony import operations
from monitoring.testimony.models import ReportChannel, ReportStatus, SurveyImport, WorkerReport
from tests.testimony.monitor_helpers import add_file, make_report, make_site, share_with

ROW_ID = re.compile(r'<tr data-id="(\d+)"')


def page_ids(client, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200
    return [int(i) for i in ROW_ID.findall(response.get_data(as_text=True))]


def api_ids(script, url: str) -> list[int]:
    response = script.get(url)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


@pytest.fixture
def reports(app, monitor_with_keys) -> dict[str, int]:
    """Reports that differ in status, channel, country, site and deadlines."""
    site_id = make_site(app, "Parity Electronics", "Penang", "MY")
    with app.app_context():
        from monitoring.supplychain.models import Site

        site = db.session.get(Site, site_id)
    ids = {
        "hotline_th": make_report(app, monitor_with_keys, channel=ReportChannel.hotline, country="TH"),
        "survey_kh": make_report(app, monitor_with_keys, channel=ReportChannel.survey, country="KH"),
        "site": make_report(app, monitor_with_keys, channel=ReportChannel.hotline, site=site),
        "closed": make_report(app, monitor_with_keys, channel=ReportChannel.document, country="TH"),
    }
    with app.app_context():
        actor = db.session.get(User, monitor_with_keys.id)
        operations.set_status(actor, db.session.get(WorkerReport, ids["closed"]), ReportStatus.closed)
        # The hotline report's acknowledgement deadline has passed.
        overdue = db.session.get(WorkerReport, ids["hotline_th"])
        overdue.acknowledge_due_dt = utcnow() - timedelta(days=1)
        db.session.commit()
    ids["site_id"] = site_id
    return ids


FILTERS = [
    "",
    "status=received",
    "status=closed",
    "channel=hotline",
    "channel=survey",
    "country=TH",
    "country=KH",
    "overdue=true",
    "overdue=false",
    "status=received&channel=hotline&country=TH",
]


@pytest.mark.parametrize("query", FILTERS)
def test_report_filters_give_the_same_reports(app, client_for, api_client, monitor_with_keys, reports, query):
    page = page_ids(client_for(monitor_with_keys), f"/testimony/reports?{query}")
    api = api_ids(api_client(monitor_with_keys), f"/api/v1/worker-reports?{query}&limit=100")
    assert page == api


def test_the_site_filter_gives_the_same_reports(app, client_for, api_client, monitor_with_keys, reports):
    query = f"site_id={reports['site_id']}"
    page = page_ids(client_for(monitor_with_keys), f"/testimony/reports?{query}")
    assert (
        page == api_ids(api_client(monitor_with_keys), f"/api/v1/worker-reports?{query}") == [reports["site"]]
    )


def test_a_coordinator_lists_the_same_shared_reports(
    app, client_for, api_client, monitor_with_keys, reports, create_user
):
    coordinator = create_user(role="coordinator")
    share_with(app, monitor_with_keys, reports["survey_kh"], coordinator)
    for query in ("", "country=KH", "country=TH"):
        page = page_ids(client_for(coordinator), f"/testimony/reports?{query}")
        assert page == api_ids(api_client(coordinator), f"/api/v1/worker-reports?{query}")
    assert page_ids(client_for(coordinator), "/testimony/reports") == [reports["survey_kh"]]


def _page_metadata(html: str) -> dict[str, object]:
    facts = re.search(r'<dl class="facts" ([^>]*)>', html)
    assert facts is not None
    values = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', facts.group(1)))
    return {
        "id": int(values["id"]),
        "status": values["status"],
        "channel": values["channel"],
        "country": values["country"] or None,
        "site": int(values["site-id"]) if values["site-id"] else None,
        "collected_date": values["collected-date"],
        "language": values["language"],
        "anonymous": values["anonymous"] == "true",
        "acknowledge_overdue": values["acknowledge-overdue"] == "true",
        "feedback_overdue": values["feedback-overdue"] == "true",
        "evidence": [int(i) for i in re.findall(r'data-evidence-id="(\d+)"', html)],
        "grants": [int(i) for i in re.findall(r'data-grant-id="(\d+)"', html)],
    }


def _api_metadata(item: dict) -> dict[str, object]:
    return {
        "id": item["id"],
        "status": item["status"],
        "channel": item["channel"],
        "country": item["country"],
        "site": item["site"]["id"] if item["site"] else None,
        "collected_date": item["collected_date"],
        "language": item["language"],
        "anonymous": item["anonymous"],
        "acknowledge_overdue": item["acknowledge_overdue"],
        "feedback_overdue": item["feedback_overdue"],
        "evidence": [e["id"] for e in item["evidence"]],
        "grants": [g["id"] for g in item["grants"]],
    }


@pytest.mark.parametrize("role", ["monitor", "coordinator"])
@pytest.mark.parametrize("which", ["hotline_th", "site"])
def test_each_role_sees_the_same_metadata_of_a_report(
    app, client_for, api_client, monitor_with_keys, reports, create_user, role, which
):
    report_id = reports[which]
    add_file(app, report_id)
    coordinator = create_user(role="coordinator")
    share_with(app, monitor_with_keys, report_id, coordinator)
    user = monitor_with_keys if role == "monitor" else coordinator
    page = client_for(user).get(f"/testimony/reports/{report_id}")
    api = api_client(user).get(f"/api/v1/worker-reports/{report_id}")
    assert page.status_code == api.status_code == 200
    seen = _page_metadata(page.get_data(as_text=True))
    assert seen == _api_metadata(api.get_json())
    # Files and grants are for the organisation's monitors only, on both skins.
    assert bool(seen["evidence"]) == bool(seen["grants"]) == (role == "monitor")


def test_survey_imports_list_the_same(app, client_for, api_client, monitor_with_keys, create_user):
    other = create_user(role="monitor")  # of another organisation
    with app.app_context():
        mine = [SurveyImport(organisation_id=monitor_with_keys.organisation_id, rows=0) for _ in range(3)]
        theirs = SurveyImport(organisation_id=other.organisation_id, rows=0)
        db.session.add_all([*mine, theirs])
        db.session.commit()
        expected = sorted((i.id for i in mine), reverse=True)
    page = page_ids(client_for(monitor_with_keys), "/testimony/survey-imports/")
    assert page == api_ids(api_client(monitor_with_keys), "/api/v1/testimony/survey-imports") == expected


def test_coverage_lists_the_same_rows(app, client_for, api_client, admin, monitor_with_keys):
    with app.app_context():
        organisation = db.session.get(Organisation, monitor_with_keys.organisation_id)
        for country in ("TH", "KH", None):
            operations.set_coverage(None, organisation, country)
        db.session.commit()
    page = client_for(admin).get("/coverage").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-id="(\d+)" data-can-receive="(true|false)"', page))
    api = api_client(admin).get("/api/v1/monitor-coverage?limit=100").get_json()["items"]
    assert {int(k): v == "true" for k, v in rows.items()} == {c["id"]: c["can_receive"] for c in api}
