"""Who reaches the sealed-testimony routes: every route, every role, and other organisations.

The routes are read from the url_map, so a new route cannot slip past these tests.
"""

from __future__ import annotations

import pytest

from monitoring.accounts.models import UserRole
from tests.conftest import give_key_access
from tests.testimony.monitor_helpers import (
    add_file,
    fill,
    make_report,
    request_as,
    sealed_rules,
    share_with,
)

OUTSIDERS = [UserRole.admin.value, UserRole.affiliate.value, UserRole.supplier.value]

# What a coordinator holding a grant may use; everything else answers them 404.
COORDINATOR_WITH_GRANT = {
    ("/testimony/reports", "GET"),
    ("/testimony/reports/<int:report_id>", "GET"),
    ("/testimony/reports/<int:report_id>/open", "POST"),
    ("/api/v1/worker-reports", "GET"),
    ("/api/v1/worker-reports/<int:report_id>", "GET"),
    ("/api/v1/worker-reports/<int:report_id>/open", "POST"),
}


@pytest.fixture
def planted(app, monitor_with_keys, coordinator):
    """A report of the monitor's organisation with a file and a grant to the coordinator."""
    report_id = make_report(app, monitor_with_keys)
    return {
        "report_id": report_id,
        "evidence_id": add_file(app, report_id),
        "grant_id": share_with(app, monitor_with_keys, report_id, coordinator),
    }


def test_the_rules_cover_pages_and_api(app):
    rules = sealed_rules(app)
    assert ("/testimony/reports/<int:report_id>/open", "POST") in rules
    assert ("/api/v1/worker-reports/<int:report_id>/evidence", "POST") in rules
    assert ("/api/v1/worker-reports/<int:report_id>/grants/<int:grant_id>", "DELETE") in rules
    assert len(rules) >= 29


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_get_404_on_every_route(app, client_for, api_client, create_user, role, planted):
    user = create_user(role)
    page_client, script_client = client_for(user), api_client(user)
    for rule, method in sealed_rules(app):
        url = fill(rule, planted)
        client = script_client if url.startswith("/api/") else page_client
        response = request_as(client, url, method)
        assert response.status_code == 404, (role, method, url, response.status_code)


def _every_report_route_is_404(app, planted, page_client, script_client):
    for rule, method in sealed_rules(app):
        if "report_id" not in rule:
            continue
        url = fill(rule, planted)
        client = script_client if url.startswith("/api/") else page_client
        assert request_as(client, url, method).status_code == 404, (method, url)


def test_monitor_of_another_organisation_gets_404_for_the_report(
    app, client_for, api_client, create_user, planted
):
    other = create_user(UserRole.monitor)
    give_key_access(app, other)
    page_client, script_client = client_for(other), api_client(other, unlocked=True)
    _every_report_route_is_404(app, planted, page_client, script_client)
    # The list does not show it either.
    page = page_client.get("/testimony/reports").get_data(as_text=True)
    assert f"/testimony/reports/{planted['report_id']}" not in page
    items = script_client.get("/api/v1/worker-reports").get_json()["items"]
    assert planted["report_id"] not in [item["id"] for item in items]


def test_coordinator_without_a_grant_gets_404_for_the_report(
    app, client_for, api_client, create_user, planted
):
    stranger = create_user(UserRole.coordinator)
    page_client, script_client = client_for(stranger), api_client(stranger)
    _every_report_route_is_404(app, planted, page_client, script_client)
    assert script_client.get("/api/v1/worker-reports").get_json()["items"] == []


def test_coordinator_with_a_grant_reads_only(app, client_for, api_client, coordinator, planted):
    page_client, script_client = client_for(coordinator), api_client(coordinator)
    report_url = f"/testimony/reports/{planted['report_id']}"
    for rule, method in sealed_rules(app):
        url = fill(rule, planted)
        client = script_client if url.startswith("/api/") else page_client
        response = request_as(client, url, method, form_page=report_url)
        if (rule, method) in COORDINATOR_WITH_GRANT:
            assert response.status_code != 404, (method, url)
        else:
            assert response.status_code == 404, (method, url, response.status_code)
    assert page_client.get(report_url).status_code == 200
    items = script_client.get("/api/v1/worker-reports").get_json()["items"]
    assert [item["id"] for item in items] == [planted["report_id"]]


def test_monitor_of_the_organisation_reaches_every_page(client_for, monitor_with_keys, planted):
    client = client_for(monitor_with_keys)
    for url in (
        "/testimony/reports",
        "/testimony/reports?status=received&overdue=y&channel=offsite_interview&country=TH",
        "/testimony/reports/new",
        "/testimony/reports/new?q=anything",
        f"/testimony/reports/{planted['report_id']}",
        "/testimony/keys",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'name="csrf_token"' in response.get_data(as_text=True)


def test_missing_reports_are_404(client_for, api_client, monitor_with_keys):
    assert client_for(monitor_with_keys).get("/testimony/reports/999999").status_code == 404
    assert api_client(monitor_with_keys).get("/api/v1/worker-reports/999999").status_code == 404


def test_anonymous_visitors_are_sent_to_login(app, planted):
    client = app.test_client()
    response = client.get(f"/testimony/reports/{planted['report_id']}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.get("/api/v1/worker-reports").status_code == 401


def test_navigation_shows_reports_to_monitors_and_coordinators_only(client_for, create_user):
    for role, shown in (
        (UserRole.monitor, True),
        (UserRole.coordinator, True),
        (UserRole.admin, False),
        (UserRole.affiliate, False),
        (UserRole.supplier, False),
    ):
        page = client_for(create_user(role)).get("/").get_data(as_text=True)
        assert ('href="/testimony/reports"' in page) is shown, role
