"""Sharing a report with a coordinator: sealed to their key, for that report only, revocable."""

from __future__ import annotations

from sqlalchemy import select

from monitoring.accounts.models import UserRole
from monitoring.core.db import db
from monitoring.testimony.models import ReportGrant
from tests.conftest import post_form
from tests.testimony.monitor_helpers import audit_since, last_audit_id, make_report, page_csrf


def _grants(app, report_id):
    with app.app_context():
        return list(db.session.scalars(select(ReportGrant).where(ReportGrant.report_id == report_id)))


def test_a_monitor_shares_and_the_coordinator_reads(
    app, client_for, monitor_with_keys, coordinator, create_user
):
    report_id = make_report(app, monitor_with_keys)
    other_report = make_report(app, monitor_with_keys)
    monitor_client = client_for(monitor_with_keys)
    url = f"/testimony/reports/{report_id}"
    page = monitor_client.get(url).get_data(as_text=True)
    assert coordinator.email in page  # offered in the share form
    since = last_audit_id(app)
    response = monitor_client.post(
        f"{url}/grants", data={"csrf_token": page_csrf(page), "user": coordinator.id}
    )
    assert response.status_code == 302
    (grant,) = _grants(app, report_id)
    assert grant.user_id == coordinator.id and grant.granted_by_id == monitor_with_keys.id
    assert [e.action for e in audit_since(app, since) if e.action.startswith("report.")] == ["report.grant"]
    assert coordinator.email in monitor_client.get(url).get_data(as_text=True)

    reader = client_for(coordinator)
    listing = reader.get("/testimony/reports").get_data(as_text=True)
    assert url in listing and f"/testimony/reports/{other_report}" not in listing
    page = reader.get(url).get_data(as_text=True)
    assert "Somsri Test" not in page and "Share this report" not in page and "Reply to the worker" not in page
    since = last_audit_id(app)
    opened = post_form(reader, f"{url}/open", {"reason": "finding"}, form_page=url)
    assert opened.status_code == 200
    text = opened.get_data(as_text=True)
    assert "Somsri Test" in text and "without overtime pay" in text
    assert "Conversation with the worker" not in text
    (entry,) = [e for e in audit_since(app, since) if e.action == "report.open"]
    assert entry.actor_id == coordinator.id
    assert reader.get(f"/testimony/reports/{other_report}").status_code == 404

    # Stop sharing: the coordinator no longer sees it.
    page = monitor_client.get(url).get_data(as_text=True)
    response = monitor_client.post(f"{url}/grants/{grant.id}/revoke", data={"csrf_token": page_csrf(page)})
    assert response.status_code == 302
    assert _grants(app, report_id) == []
    assert reader.get(url).status_code == 404
    assert "report.grant_revoke" in [e.action for e in audit_since(app, since)]


def test_sharing_through_the_api(app, api_client, monitor_with_keys, coordinator, create_user):
    report_id = make_report(app, monitor_with_keys)
    script = api_client(monitor_with_keys, unlocked=True)
    url = f"/api/v1/worker-reports/{report_id}/grants"
    # Only active coordinators, and not twice.
    for user_id in (create_user(UserRole.monitor).id, create_user(UserRole.admin).id, 999999):
        response = script.post(url, json={"user_id": user_id})
        assert response.status_code == 422 and "user_id" in response.get_json()["error"]["errors"]
    response = script.post(url, json={"user_id": coordinator.id})
    assert response.status_code == 201
    grant_id = response.get_json()["id"]
    assert response.get_json()["user"]["id"] == coordinator.id
    assert script.post(url, json={"user_id": coordinator.id}).status_code == 422
    detail = script.get(f"/api/v1/worker-reports/{report_id}").get_json()
    assert [g["id"] for g in detail["grants"]] == [grant_id]
    reader = api_client(coordinator, unlocked=True)
    opened = reader.post(f"/api/v1/worker-reports/{report_id}/open", json={"reason": "verification"})
    assert opened.status_code == 200
    assert opened.get_json()["identity"]["name"] == "Somsri Test" and opened.get_json()["messages"] is None
    assert reader.get(f"/api/v1/worker-reports/{report_id}").get_json()["grants"] == []
    assert script.delete(f"{url}/{grant_id}").status_code == 204
    assert reader.get(f"/api/v1/worker-reports/{report_id}").status_code == 404
    assert script.delete(f"{url}/{grant_id}").status_code == 404


def test_sharing_needs_unlocked_keys(app, api_client, monitor_with_keys, coordinator):
    report_id = make_report(app, monitor_with_keys)
    client = api_client(monitor_with_keys)  # a token made while the keys were locked
    since = last_audit_id(app)
    response = client.post(f"/api/v1/worker-reports/{report_id}/grants", json={"user_id": coordinator.id})
    assert response.status_code == 403
    assert _grants(app, report_id) == []
    assert [e.action for e in audit_since(app, since)] == ["report.open_failed"]


def test_a_password_reset_removes_the_coordinators_shares(app, monitor_with_keys, coordinator, admin):
    from monitoring.accounts import operations
    from monitoring.accounts.models import User
    from monitoring.testimony import sealing
    from monitoring.testimony.models import WorkerReport
    from tests.conftest import unlocked_as

    report_id = make_report(app, monitor_with_keys)
    with unlocked_as(app, monitor_with_keys) as monitor:
        report = db.session.get(WorkerReport, report_id)
        sealing.grant_report(monitor, report, db.session.get(User, coordinator.id))
        db.session.commit()
    assert len(_grants(app, report_id)) == 1
    with app.app_context():
        operations.reset_password(db.session.get(User, admin.id), db.session.get(User, coordinator.id))
        db.session.commit()
    # The share was sealed to the coordinator's old key, which is gone: so is the share.
    assert _grants(app, report_id) == []
