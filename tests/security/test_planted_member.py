"""Attack: an admin plants an account in a monitoring organisation to read its reports' list and metadata.
Defence: a new member sees no report until a member approves them; every member is told and decides.
"""

from __future__ import annotations

import html

from sqlalchemy import func, select

from monitoring.accounts import operations
from monitoring.accounts.models import User, UserRole
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.notifications.models import Notification, NotificationKind
from tests.conftest import PASSWORD, login, post_form
from tests.testimony.monitor_helpers import add_file, fill, make_report, request_as, sealed_rules, share_with

KEYS = "/account/keys"
PUPPET = "puppet@example.org"


def _plant(app, admin, organisation_id, api_client):
    """The administrator makes the account through the API; the puppet sets a password and logs in."""
    body = (
        api_client(admin)
        .post(
            "/api/v1/users",
            json={
                "email": PUPPET,
                "name": "Helpful Colleague",
                "role": "monitor",
                "organisation_id": organisation_id,
            },
        )
        .get_json()
    )
    assert body["user"]["membership_pending"] is True
    client = app.test_client()
    login(client, PUPPET, body["temporary_password"])
    response = post_form(
        client,
        "/account/password",
        {"current_password": body["temporary_password"], "password": PASSWORD, "confirm": PASSWORD},
        form_page="/account/password",
    )
    assert response.status_code == 302
    with app.app_context():
        puppet = db.session.scalar(select(User).where(User.email == PUPPET))
    return client, puppet


def _token(app, user):
    with app.app_context():
        _row, secret = operations.create_token(db.session.get(User, user.id), "script")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_a_planted_member_sees_nothing_of_the_reports(
    app, admin, monitor_with_keys, coordinator, api_client, client_for
):
    report_id = make_report(app, monitor_with_keys, testimony="Canary 5d1e testimony")
    other_id = make_report(app, monitor_with_keys, language="my")
    ids = {
        "report_id": report_id,
        "evidence_id": add_file(app, report_id),
        "grant_id": share_with(app, monitor_with_keys, report_id, coordinator),
    }
    page_client, puppet = _plant(app, admin, monitor_with_keys.organisation_id, api_client)
    bearer = _token(app, puppet)
    script = app.test_client()
    script_client = api_client(puppet, unlocked=True)

    # Every report route, page and API: 404, as for a report of another organisation.
    for rule, method in sealed_rules(app):
        if "report_id" not in rule:
            continue
        url = fill(rule, ids)
        client = script_client if url.startswith("/api/") else page_client
        response = request_as(client, url, method)
        assert response.status_code == 404, (method, url, response.status_code)
    # Lists, counts and the key-version page are empty or refused.
    listing = page_client.get("/testimony/reports").get_data(as_text=True)
    assert (
        f"/testimony/reports/{report_id}" not in listing and f"/testimony/reports/{other_id}" not in listing
    )
    assert script.get("/api/v1/worker-reports", headers=bearer).get_json()["items"] == []
    assert script.get("/api/v1/worker-reports?overdue=true", headers=bearer).get_json()["items"] == []
    assert page_client.get("/testimony/keys").status_code == 404
    home = html.unescape(page_client.get("/").get_data(as_text=True))
    assert "await acknowledgement" not in home and "has to approve you" in home
    # No colleagues to ask for access, no key versions: the keys page says what to wait for.
    keys_page = html.unescape(page_client.get(KEYS).get_data(as_text=True))
    assert "waiting for a member of" in keys_page and monitor_with_keys.email not in keys_page
    status = script.get("/api/v1/me/keys", headers=bearer).get_json()
    assert status["membership_pending"] is True and status["versions"] == []
    assert script.get("/api/v1/me/keys/colleagues", headers=bearer).get_json()["items"] == []


def test_every_member_is_told_and_sees_the_request_not_a_colleague_asking_for_access(
    app, admin, monitor_with_keys, create_user, api_client, client_for
):
    other_member = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    _client, puppet = _plant(app, admin, monitor_with_keys.organisation_id, api_client)
    with app.app_context():
        told = [
            n.user_id
            for n in db.session.scalars(
                select(Notification).where(Notification.kind == NotificationKind.membership_requested)
            )
            if n.params.get("email") == PUPPET
        ]
        assert sorted(told) == sorted([monitor_with_keys.id, other_member.id])
        assert (
            "membership.request"
            in db.session.scalars(
                select(AuditEntry.action).where(AuditEntry.object_id == str(puppet.id))
            ).all()
        )
    member = client_for(monitor_with_keys)
    notices = html.unescape(member.get("/notifications/").get_data(as_text=True))
    assert "Helpful Colleague" in notices and PUPPET in notices
    page = html.unescape(member.get(KEYS).get_data(as_text=True))
    waiting = page.split('id="pending"')[1].split('id="organisation-key"')[0]
    assert "Helpful Colleague" in waiting
    colleagues = page.split('id="colleagues"')[1]
    assert "Helpful Colleague" not in colleagues  # not offered an access grant
    listed = api_client(monitor_with_keys).get("/api/v1/me/keys/pending-members").get_json()["items"]
    assert [m["id"] for m in listed] == [puppet.id]


def test_after_a_members_approval_the_list_shows_but_nothing_opens_until_granted(
    app, admin, monitor_with_keys, api_client, client_for
):
    report_id = make_report(app, monitor_with_keys, testimony="Canary 7c2b testimony")
    page_client, puppet = _plant(app, admin, monitor_with_keys.organisation_id, api_client)
    bearer = _token(app, puppet)
    # The administrator cannot approve: the route is for monitors, and for members only.
    assert api_client(admin).post(f"/api/v1/me/keys/pending-members/{puppet.id}/approve").status_code == 404
    # Nor can the puppet approve themself.
    assert (
        app.test_client()
        .post(f"/api/v1/me/keys/pending-members/{puppet.id}/approve", headers=bearer)
        .status_code
        == 404
    )
    member = client_for(monitor_with_keys)
    response = post_form(member, f"{KEYS}/members/{puppet.id}/approve", form_page=KEYS)
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(User, puppet.id)
        assert row.membership_approved_by_id == monitor_with_keys.id and not row.membership_pending
        entry = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "membership.approve", AuditEntry.object_id == str(puppet.id)
            )
        )
        assert entry is not None and entry.actor_id == monitor_with_keys.id
    assert f"/testimony/reports/{report_id}" in page_client.get("/testimony/reports").get_data(as_text=True)
    assert page_client.get(f"/testimony/reports/{report_id}").status_code == 200
    items = app.test_client().get("/api/v1/worker-reports", headers=bearer).get_json()["items"]
    assert [item["id"] for item in items] == [report_id]
    # Seeing the list is not reading: without a grant the sealed content stays shut.
    response = post_form(
        page_client,
        f"/testimony/reports/{report_id}/open",
        {"reason": "investigation"},
        form_page=f"/testimony/reports/{report_id}",
    )
    assert response.status_code == 403
    assert "Canary 7c2b" not in response.get_data(as_text=True)


def test_a_refused_account_is_deactivated(app, admin, monitor_with_keys, api_client):
    page_client, puppet = _plant(app, admin, monitor_with_keys.organisation_id, api_client)
    response = api_client(monitor_with_keys).post(f"/api/v1/me/keys/pending-members/{puppet.id}/refuse")
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    assert page_client.get("/testimony/reports").status_code == 302  # logged out
    assert login(app.test_client(), PUPPET, PASSWORD).status_code == 200  # and cannot log in
    with app.app_context():
        assert db.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "membership.refuse", AuditEntry.actor_id == monitor_with_keys.id
            )
        )


def test_an_administrator_reactivating_a_refused_account_only_asks_the_members_again(
    app, admin, monitor_with_keys, api_client
):
    report_id = make_report(app, monitor_with_keys)
    _client, puppet = _plant(app, admin, monitor_with_keys.organisation_id, api_client)
    api_client(monitor_with_keys).post(f"/api/v1/me/keys/pending-members/{puppet.id}/refuse")
    assert api_client(admin).post(f"/api/v1/users/{puppet.id}/activate").status_code == 200
    with app.app_context():
        assert db.session.get(User, puppet.id).membership_pending
        asked = db.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "membership.request", AuditEntry.object_id == str(puppet.id)
            )
        )
        assert asked == 2
    client = app.test_client()
    login(client, PUPPET, PASSWORD)
    assert f"/testimony/reports/{report_id}" not in client.get("/testimony/reports").get_data(as_text=True)
    assert client.get(f"/testimony/reports/{report_id}").status_code == 404


def test_only_a_new_organisations_first_member_is_approved_without_a_colleague(
    app, admin, create_organisation, create_user
):
    organisation = create_organisation("monitor")
    first = create_user(UserRole.monitor, organisation=organisation, approved=False)
    second = create_user(UserRole.monitor, organisation=organisation, approved=False)
    with app.app_context():
        assert not db.session.get(User, first.id).membership_pending
        assert db.session.get(User, second.id).membership_pending
        # Deactivating every member does not make the next account a "first member".
        operations.set_user_active(db.session.get(User, admin.id), db.session.get(User, first.id), False)
        operations.set_user_active(db.session.get(User, admin.id), db.session.get(User, second.id), False)
        db.session.commit()
    third = create_user(UserRole.monitor, organisation=organisation, approved=False)
    with app.app_context():
        assert db.session.get(User, third.id).membership_pending
