"""Report routing: which monitor organisation receives which country's reports (admins, coordinators)."""

from __future__ import annotations

import pytest

from monitoring.accounts.models import Organisation, OrganisationKind, UserRole
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.testimony import sealing
from tests.conftest import post_form


@pytest.fixture
def monitor_org(app, monitor_with_keys):
    return monitor_with_keys.organisation


def _responsible(app, country):
    with app.app_context():
        return sealing.responsible_organisation(db.session, site=None, country=country).id


@pytest.mark.parametrize("role", [UserRole.admin.value, UserRole.coordinator.value])
def test_admins_and_coordinators_route_countries(
    app, client_for, create_user, create_organisation, role, monitor_org
):
    client = client_for(create_user(role))
    keyless = create_organisation(OrganisationKind.monitor)
    page = client.get("/coverage")
    assert page.status_code == 200 and "No routing yet" in page.get_data(as_text=True)
    response = post_form(
        client, "/coverage", {"country": "TH", "organisation": monitor_org.id}, form_page="/coverage"
    )
    assert response.status_code == 302
    response = post_form(
        client, "/coverage/fallback", {"fallback-organisation": keyless.id}, form_page="/coverage"
    )
    assert response.status_code == 302
    assert _responsible(app, "TH") == monitor_org.id
    assert _responsible(app, "VN") == keyless.id
    page = client.get("/coverage").get_data(as_text=True)
    assert "Thailand" in page and "Every other country" in page and "no: it has no key yet" in page
    # Moving a country to another organisation keeps one row per country.
    post_form(client, "/coverage", {"country": "TH", "organisation": keyless.id}, form_page="/coverage")
    assert _responsible(app, "TH") == keyless.id
    bad = post_form(client, "/coverage", {"country": "TH", "organisation": 999999}, form_page="/coverage")
    assert bad.status_code == 422


def test_only_active_monitor_organisations_receive(app, client_for, admin, create_organisation):
    supplier = create_organisation(OrganisationKind.supplier)
    client = client_for(admin)
    response = post_form(
        client, "/coverage", {"country": "TH", "organisation": supplier.id}, form_page="/coverage"
    )
    assert response.status_code == 422
    with app.app_context(), pytest.raises(OperationError):
        sealing.responsible_organisation(db.session, site=None, country="TH")


@pytest.mark.parametrize("role", [UserRole.monitor.value, UserRole.affiliate.value, UserRole.supplier.value])
def test_others_get_404(client_for, api_client, create_user, role):
    user = create_user(role)
    client = client_for(user)
    assert client.get("/coverage").status_code == 404
    assert post_form(client, "/coverage", {"country": "TH"}).status_code == 404
    assert post_form(client, "/coverage/1/remove").status_code == 404
    script = api_client(user)
    assert script.get("/api/v1/monitor-coverage").status_code == 404
    assert (
        script.post("/api/v1/monitor-coverage", json={"country": "TH", "organisation_id": 1}).status_code
        == 404
    )
    assert script.delete("/api/v1/monitor-coverage/1").status_code == 404


def test_the_api_manages_routing(app, api_client, coordinator, monitor_org):
    script = api_client(coordinator)
    response = script.post(
        "/api/v1/monitor-coverage", json={"country": "KH", "organisation_id": monitor_org.id}
    )
    assert response.status_code == 200
    row = response.get_json()
    assert row["country"] == "KH" and row["is_fallback"] is False and row["can_receive"] is True
    fallback = script.post(
        "/api/v1/monitor-coverage", json={"country": None, "organisation_id": monitor_org.id}
    )
    assert fallback.get_json()["is_fallback"] is True
    for body, field in (
        ({"country": "XX", "organisation_id": monitor_org.id}, "country"),
        ({"country": "KH", "organisation_id": 999999}, "organisation_id"),
        ({"organisation_id": monitor_org.id}, "country"),
    ):
        refused = script.post("/api/v1/monitor-coverage", json=body)
        assert refused.status_code == 422 and field in refused.get_json()["error"]["errors"]
    items = script.get("/api/v1/monitor-coverage").get_json()["items"]
    assert {(i["country"], i["organisation"]["id"]) for i in items} == {
        ("KH", monitor_org.id),
        (None, monitor_org.id),
    }
    assert script.delete(f"/api/v1/monitor-coverage/{row['id']}").status_code == 204
    assert _responsible(app, "KH") == monitor_org.id  # now through the fallback
    assert script.delete(f"/api/v1/monitor-coverage/{row['id']}").status_code == 404


def test_removing_the_last_route_stops_reception(app, client_for, admin, monitor_org):
    client = client_for(admin)
    post_form(client, "/coverage", {"country": "LA", "organisation": monitor_org.id}, form_page="/coverage")
    with app.app_context():
        from sqlalchemy import select

        from monitoring.testimony.models import MonitorCoverage

        row_id = db.session.scalar(select(MonitorCoverage.id).where(MonitorCoverage.country == "LA"))
        assert db.session.get(Organisation, monitor_org.id) is not None
    assert post_form(client, f"/coverage/{row_id}/remove", form_page="/coverage").status_code == 302
    with app.app_context(), pytest.raises(OperationError):
        sealing.responsible_organisation(db.session, site=None, country="LA")
