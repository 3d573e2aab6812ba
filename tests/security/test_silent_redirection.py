"""Attack: an administrator or coordinator routes a country's future reports to a puppet organisation, unseen.
Defence: it waits for the receiver's consent or a notified wait without objection; workers see who receives.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from monitoring.accounts import operations as accounts
from monitoring.accounts.models import Organisation, OrganisationKind, User, UserRole
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.notifications.models import Notification, NotificationKind
from monitoring.testimony import routing, sealing
from monitoring.testimony.models import CoverageChange, CoverageChangeState, ReportChannel
from tests.conftest import csrf_token, give_key_access, post_form


class World:
    def __init__(self, app, create_user, create_organisation, monitor_with_keys) -> None:
        self.genuine = monitor_with_keys
        self.colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
        puppet_org = create_organisation(OrganisationKind.monitor, name="Chao Phraya Workers Voice Network")
        self.puppet = create_user(UserRole.monitor, organisation=puppet_org)
        give_key_access(app, self.puppet)
        self.genuine_org_id = monitor_with_keys.organisation_id
        self.puppet_org_id = puppet_org.id
        with app.app_context():
            admin = create_user(UserRole.admin)
            # Thailand's reports go to the genuine organisation (nobody received them: at once).
            change = routing.request_change(
                db.session.get(User, admin.id),
                country="TH",
                organisation=db.session.get(Organisation, self.genuine_org_id),
            )
            assert change.state is CoverageChangeState.applied
            db.session.commit()


@pytest.fixture
def world(app, create_user, create_organisation, monitor_with_keys) -> World:
    return World(app, create_user, create_organisation, monitor_with_keys)


def _receiver(app) -> int:
    with app.app_context():
        return sealing.responsible_organisation(db.session, site=None, country="TH").id


def _notified(app, change_id: int, event: str) -> set[int]:
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(Notification.kind == NotificationKind.coverage_change)
        ).all()
        return {
            n.user_id
            for n in rows
            if n.params.get("coverage_change_id") == change_id and n.params["event"] == event
        }


def _redirect_as(app, role, client_for, api_client, create_user, world) -> int:
    """The attack: ask that Thailand's reports go to the puppet organisation; the change's id."""
    attacker = create_user(role)
    if role is UserRole.admin:
        response = post_form(
            client_for(attacker),
            "/coverage",
            {"country": "TH", "organisation": world.puppet_org_id},
            form_page="/coverage",
        )
        assert response.status_code == 302
        return int(response.headers["Location"].rsplit("/", 1)[1])
    response = api_client(attacker).post(
        "/api/v1/monitor-coverage", json={"country": "TH", "organisation_id": world.puppet_org_id}
    )
    assert response.status_code == 202 and response.get_json()["state"] == "pending"
    return response.get_json()["id"]


@pytest.mark.parametrize("role", [UserRole.admin, UserRole.coordinator])
def test_nothing_moves_until_consent_and_both_organisations_are_told(
    app, world, role, client_for, api_client, create_user
):
    change_id = _redirect_as(app, role, client_for, api_client, create_user, world)
    assert _receiver(app) == world.genuine_org_id  # the next worker's report still goes to them
    told = _notified(app, change_id, "requested")
    assert {world.genuine.id, world.colleague.id, world.puppet.id} <= told
    # Neither the puppet (receiving side) nor the attacker can confirm it.
    puppet = client_for(world.puppet)
    page = f"/coverage/changes/{change_id}"
    assert "Confirm" not in puppet.get(page).get_data(as_text=True)
    assert post_form(puppet, f"{page}/confirm", form_page=page).status_code == 404
    assert api_client(world.puppet).post(f"/api/v1/coverage-changes/{change_id}/confirm").status_code == 404
    assert (
        api_client(create_user(UserRole.admin))
        .post(f"/api/v1/coverage-changes/{change_id}/confirm")
        .status_code
        == 404
    )
    # Just before the end of the wait, the jobs still change nothing.
    with app.app_context():
        change = db.session.get(CoverageChange, change_id)
        assert change.effective_dt - change.requested_dt == timedelta(days=14)
        routing.run_routing_jobs(now=change.effective_dt - timedelta(minutes=1))
    assert _receiver(app) == world.genuine_org_id


def test_an_objection_from_the_receiving_organisation_cancels(
    app, world, client_for, api_client, create_user
):
    change_id = _redirect_as(app, UserRole.coordinator, client_for, api_client, create_user, world)
    response = api_client(world.colleague).post(f"/api/v1/coverage-changes/{change_id}/object")
    assert response.status_code == 200 and response.get_json()["state"] == "objected"
    with app.app_context():
        routing.run_routing_jobs(now=utcnow() + timedelta(days=30))
    assert _receiver(app) == world.genuine_org_id
    assert {world.genuine.id, world.puppet.id} <= _notified(app, change_id, "objected")


def test_after_the_wait_without_objection_the_change_applies_and_is_told(
    app, world, client_for, api_client, create_user
):
    change_id = _redirect_as(app, UserRole.admin, client_for, api_client, create_user, world)
    with app.app_context():
        routing.run_routing_jobs(now=utcnow() + timedelta(days=15))
    assert _receiver(app) == world.puppet_org_id
    assert {world.genuine.id, world.colleague.id, world.puppet.id} <= _notified(app, change_id, "applied")


def test_a_member_of_the_receiving_organisation_can_confirm(app, world, client_for, api_client, create_user):
    change_id = _redirect_as(app, UserRole.admin, client_for, api_client, create_user, world)
    member = client_for(world.genuine)
    page = f"/coverage/changes/{change_id}"
    assert "Confirm" in member.get(page).get_data(as_text=True)
    assert post_form(member, f"{page}/confirm", form_page=page).status_code == 302
    assert _receiver(app) == world.puppet_org_id


def test_deactivating_the_receiver_first_does_not_make_the_move_immediate(
    app, world, client_for, api_client, create_user
):
    with app.app_context():
        accounts.set_organisation_active(None, db.session.get(Organisation, world.genuine_org_id), False)
        db.session.commit()
    change_id = _redirect_as(app, UserRole.coordinator, client_for, api_client, create_user, world)
    with app.app_context():
        change = db.session.get(CoverageChange, change_id)
        assert change.state is CoverageChangeState.pending
        assert change.from_organisation_id == world.genuine_org_id


def test_removing_the_route_first_waits_too(app, world, api_client, create_user):
    script = api_client(create_user(UserRole.coordinator))
    row = next(i for i in script.get("/api/v1/monitor-coverage").get_json()["items"] if i["country"] == "TH")
    response = script.delete(f"/api/v1/monitor-coverage/{row['id']}")
    assert response.status_code == 202 and response.get_json()["state"] == "pending"
    assert _receiver(app) == world.genuine_org_id


def test_the_worker_page_shows_who_receives_and_their_key_fingerprint(app, world, client_for):
    with app.app_context():
        organisation = db.session.get(Organisation, world.genuine_org_id)
        expected = routing.receiving_fingerprint(organisation)
    assert re.fullmatch(r"[0-9a-f]{4}( [0-9a-f]{4}){3}", expected)
    client = app.test_client()
    token = csrf_token(client, "/report/workplace")
    page = client.post("/report/new", data={"country": "TH", "csrf_token": token}).get_data(as_text=True)
    assert organisation.name in page and expected in page
    # The monitors see the same code on their keys page and their routing page, to print.
    member = client_for(world.genuine)
    assert expected in member.get("/account/keys").get_data(as_text=True)
    assert expected in member.get("/routing").get_data(as_text=True)
    assert api_client_fingerprint(app, world) == expected


def api_client_fingerprint(app, world) -> str:
    with app.test_request_context("/"):
        from monitoring.accounts import operations as ops

        user = db.session.get(User, world.genuine.id)
        _token, secret = ops.create_token(user, "test")
        db.session.commit()
    response = app.test_client().get("/api/v1/our-routing", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.get_json()["countries"] == ["TH"]
    return response.get_json()["fingerprint"]


def test_monitors_read_who_opened_their_reports_and_the_routing_changes(
    app, world, client_for, api_client, create_user, as_unlocked
):
    with as_unlocked(world.genuine) as monitor:
        report = sealing.create_report(
            organisation=monitor.organisation,
            site=None,
            country="TH",
            channel=ReportChannel.offsite_interview,
            collected_date=utcnow().date(),
            language="th",
            consent_share_buyers=False,
            consent_share_supplier=False,
            consent_contact=False,
            retaliation_risk=None,
            identity=None,
            testimony=sealing.Testimony(text="They keep our passports."),
            workplace="",
            created_by=monitor,
        )
        sealing.open_report(monitor, report, reason="test")
        db.session.commit()
        report_id = report.id
    change_id = _redirect_as(app, UserRole.admin, client_for, api_client, create_user, world)
    trail = api_client(world.colleague).get("/api/v1/our-audit-trail").get_json()["items"]
    actions = {(entry["action"], entry["object_id"]) for entry in trail}
    assert ("report.open", str(report_id)) in actions
    assert ("coverage.change_request", str(change_id)) in actions
    page = client_for(world.colleague).get("/routing/audit").get_data(as_text=True)
    assert f"Opened sealed report {report_id}" in page
    # Only the organisation's own monitors read it: the puppet's trail holds none of it, others get 404.
    puppet_trail = api_client(world.puppet).get("/api/v1/our-audit-trail").get_json()["items"]
    assert ("report.open", str(report_id)) not in {(e["action"], e["object_id"]) for e in puppet_trail}
    for role in (UserRole.admin, UserRole.coordinator, UserRole.affiliate, UserRole.supplier):
        assert api_client(create_user(role)).get("/api/v1/our-audit-trail").status_code == 404
