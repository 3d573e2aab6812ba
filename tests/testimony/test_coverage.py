"""Report routing: which monitor organisation receives which country's reports (asked for by admins
and coordinators, consented to by the organisation receiving them)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitoring.accounts.models import OrganisationKind, UserRole
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.testimony import sealing
from monitoring.testimony.models import MonitorCoverage
from tests.conftest import post_form


@pytest.fixture
def monitor_org(app, monitor_with_keys):
    return monitor_with_keys.organisation


def _responsible(app, country):
    with app.app_context():
        return sealing.responsible_organisation(db.session, site=None, country=country).id


@pytest.mark.parametrize("role", [UserRole.admin.value, UserRole.coordinator.value])
def test_admins_and_coordinators_route_countries(
    app, client_for, create_user, create_organisation, role, monitor_org, monitor_with_keys
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
    # Moving a country away from the organisation receiving it waits for its consent (see
    # tests/security/test_silent_redirection.py); a member's confirmation applies it, one row per country.
    moved = post_form(
        client, "/coverage", {"country": "TH", "organisation": keyless.id}, form_page="/coverage"
    )
    assert moved.status_code == 302 and "/coverage/changes/" in moved.headers["Location"]
    assert _responsible(app, "TH") == monitor_org.id
    member = client_for(monitor_with_keys)
    confirm = moved.headers["Location"] + "/confirm"
    assert post_form(member, confirm, form_page=moved.headers["Location"]).status_code == 302
    assert _responsible(app, "TH") == keyless.id
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(MonitorCoverage.country == "TH")) == 1
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


def test_the_api_manages_routing(app, api_client, coordinator, monitor_org, monitor_with_keys):
    script = api_client(coordinator)
    response = script.post(
        "/api/v1/monitor-coverage", json={"country": "KH", "organisation_id": monitor_org.id}
    )
    assert response.status_code == 200  # nobody received Cambodia's reports: in force at once
    change = response.get_json()
    assert change["country"] == "KH" and change["state"] == "applied"
    assert change["from_organisation"] is None and change["to_organisation"]["id"] == monitor_org.id
    fallback = script.post(
        "/api/v1/monitor-coverage", json={"country": None, "organisation_id": monitor_org.id}
    )
    assert fallback.status_code == 200 and fallback.get_json()["country"] is None
    for body, field in (
        ({"country": "XX", "organisation_id": monitor_org.id}, "country"),
        ({"country": "KH", "organisation_id": 999999}, "organisation_id"),
        ({"organisation_id": monitor_org.id}, "country"),
        ({"country": "KH", "organisation_id": monitor_org.id}, "organisation_id"),  # already so
    ):
        refused = script.post("/api/v1/monitor-coverage", json=body)
        assert refused.status_code == 422 and field in refused.get_json()["error"]["errors"]
    items = script.get("/api/v1/monitor-coverage").get_json()["items"]
    assert {(i["country"], i["organisation"]["id"]) for i in items} == {
        ("KH", monitor_org.id),
        (None, monitor_org.id),
    }
    row_id = next(i["id"] for i in items if i["country"] == "KH")
    # Removing Cambodia's own route leaves its reports with the same organisation (the fallback).
    removed = script.delete(f"/api/v1/monitor-coverage/{row_id}")
    assert removed.status_code == 200 and removed.get_json()["state"] == "applied"
    assert _responsible(app, "KH") == monitor_org.id  # now through the fallback
    assert script.delete(f"/api/v1/monitor-coverage/{row_id}").status_code == 404
    changes = script.get("/api/v1/coverage-changes").get_json()["items"]
    assert [c["country"] for c in changes] == ["KH", None, "KH"]


def test_removing_the_last_route_stops_reception_once_the_receiver_agrees(
    app, client_for, admin, monitor_org, monitor_with_keys
):
    client = client_for(admin)
    post_form(client, "/coverage", {"country": "LA", "organisation": monitor_org.id}, form_page="/coverage")
    with app.app_context():
        row_id = db.session.scalar(select(MonitorCoverage.id).where(MonitorCoverage.country == "LA"))
    asked = post_form(client, f"/coverage/{row_id}/remove", form_page="/coverage")
    assert asked.status_code == 302
    assert _responsible(app, "LA") == monitor_org.id  # waits for the receiving organisation
    member = client_for(monitor_with_keys)
    post_form(member, asked.headers["Location"] + "/confirm", form_page=asked.headers["Location"])
    with app.app_context(), pytest.raises(OperationError):
        sealing.responsible_organisation(db.session, site=None, country="LA")


@pytest.mark.parametrize(
    "event", ["requested", "confirmed", "applied", "applied_at_once", "objected", "cancelled", "lapsed"]
)
def test_routing_notices_render_in_every_language(app, create_user, event):
    from monitoring.accounts.models import User
    from monitoring.config import LOCALES
    from monitoring.notifications import render
    from monitoring.notifications.models import NotificationKind
    from monitoring.notifications.outbox import notify

    user = create_user(UserRole.monitor)
    params = {
        "event": event,
        "coverage_change_id": 7,
        "country": "TH",
        "from_organisation": "Genuine <Watch>",
        "to_organisation": "New Watch",
        "effective_date": "2026-12-21",
    }
    with app.app_context():
        recipient = db.session.get(User, user.id)
        [notification] = notify([recipient], NotificationKind.coverage_change, params=params)
        for locale in LOCALES:
            recipient.locale = locale
            mail = render.render_mail(notification)
            assert "New Watch" in mail.text and "\n" not in mail.subject
            assert "http://127.0.0.1:5000/coverage/changes/7" in mail.text
            assert "<Watch>" not in mail.html
        recipient.locale = "en"
        text = render.render_mail(notification).text
        assert "Thailand" in text
        if event == "requested":
            assert "December 21, 2026" in text and "Genuine <Watch>" in text
        db.session.rollback()


def test_who_sees_a_routing_change_and_the_routing_pages(
    app, client_for, api_client, create_user, create_organisation, coordinator, monitor_org, monitor_with_keys
):
    script = api_client(coordinator)
    script.post("/api/v1/monitor-coverage", json={"country": "VN", "organisation_id": monitor_org.id})
    other_org = create_organisation(OrganisationKind.monitor)
    asked = script.post("/api/v1/monitor-coverage", json={"country": "VN", "organisation_id": other_org.id})
    assert asked.status_code == 202
    page = f"/coverage/changes/{asked.get_json()['id']}"
    stranger = create_user(UserRole.monitor, organisation=create_organisation(OrganisationKind.monitor))
    newcomer = create_user(UserRole.monitor, organisation=other_org)
    expected = {
        create_user(UserRole.admin).id: (200, 404, 404),
        coordinator.id: (200, 404, 404),
        monitor_with_keys.id: (200, 200, 200),
        newcomer.id: (200, 200, 200),
        stranger.id: (404, 200, 200),
        create_user(UserRole.affiliate).id: (404, 404, 404),
        create_user(UserRole.supplier).id: (404, 404, 404),
    }
    with app.app_context():
        from monitoring.accounts.models import User

        users = {user_id: db.session.get(User, user_id) for user_id in expected}
    for user_id, (change_page, ours, trail) in expected.items():
        client = client_for(users[user_id])
        got = (client.get(page).status_code, client.get("/routing").status_code)
        got += (client.get("/routing/audit").status_code,)
        assert got == (change_page, ours, trail), users[user_id].role
        assert (
            api_client(users[user_id])
            .get("/api/v1" + page.replace("coverage/changes", "coverage-changes"))
            .status_code
            == change_page
        )
