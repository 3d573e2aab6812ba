"""The two-factor API: one's own status and set-up, and the administrators' view and reset."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.accounts.two_factor_helpers import code_at, current_step, enrol_directly, fresh_code

ROLES = ["admin", "coordinator", "monitor", "affiliate", "supplier"]


@pytest.mark.parametrize(("role", "required"), [("monitor", True), ("affiliate", False)])
def test_status(app, api_client, create_user, role, required):
    user = create_user(role)
    body = api_client(user).get("/api/v1/me/two-factor").get_json()
    assert body == {
        "user_id": user.id,
        "enabled": False,
        "enabled_dt": None,
        "enrolment_pending": False,
        "required": required,
        "demo_relaxed": False,
    }


def test_enrolment(app, api_client, supplier):
    client = api_client(supplier)
    begun = client.post("/api/v1/me/two-factor/enrolment")
    assert begun.status_code == 201
    body = begun.get_json()
    secret = body["secret"]
    assert pyotp.parse_uri(body["otpauth_uri"]).secret == secret
    assert body["status"]["enrolment_pending"] is True and body["status"]["enabled"] is False

    wrong = f"{(int(code_at(secret, current_step())) + 1) % 1_000_000:06d}"
    refused = client.post("/api/v1/me/two-factor/enrolment/confirm", json={"code": wrong})
    assert refused.status_code == 422
    assert "code" in refused.get_json()["error"]["errors"]
    assert client.get("/api/v1/me/two-factor").get_json()["enabled"] is False

    confirmed = client.post(
        "/api/v1/me/two-factor/enrolment/confirm", json={"code": fresh_code(app, supplier.email, secret)}
    )
    assert confirmed.status_code == 200
    status = confirmed.get_json()
    assert status["enabled"] is True and status["required"] is True and status["enabled_dt"]
    # Once on, a new key needs an administrator's reset first.
    again = client.post("/api/v1/me/two-factor/enrolment")
    assert again.status_code == 422
    assert "already set up" in again.get_json()["error"]["message"]
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_id == str(supplier.id), AuditEntry.action.like("two_factor.%"))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["two_factor.enrol_start", "two_factor.failure", "two_factor.enrol"]


def test_confirm_without_a_key_and_bad_input(app, api_client, monitor):
    client = api_client(monitor)
    response = client.post("/api/v1/me/two-factor/enrolment/confirm", json={"code": "123456"})
    assert response.status_code == 422
    assert "Start the set-up first" in response.get_json()["error"]["message"]
    assert client.post("/api/v1/me/two-factor/enrolment/confirm", json={}).status_code == 422
    extra = client.post("/api/v1/me/two-factor/enrolment/confirm", json={"code": "1", "secret": "x"})
    assert extra.status_code == 422
    assert "secret" in extra.get_json()["error"]["errors"]


def test_confirm_is_throttled(app, api_client, monitor):
    client = api_client(monitor)
    secret = client.post("/api/v1/me/two-factor/enrolment").get_json()["secret"]
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert (
            client.post("/api/v1/me/two-factor/enrolment/confirm", json={"code": "abcdef"}).status_code == 422
        )
    response = client.post(
        "/api/v1/me/two-factor/enrolment/confirm", json={"code": fresh_code(app, monitor.email, secret)}
    )
    assert response.status_code == 429
    assert client.get("/api/v1/me/two-factor").get_json()["enabled"] is False


def test_admin_sees_and_resets(app, api_client, admin, monitor, client_for):
    enrol_directly(app, monitor)
    monitor_session = client_for(monitor)
    client = api_client(admin)
    status = client.get(f"/api/v1/users/{monitor.id}/two-factor").get_json()
    assert status["enabled"] is True and status["user_id"] == monitor.id
    reset = client.post(f"/api/v1/users/{monitor.id}/two-factor/reset")
    assert reset.status_code == 200
    assert reset.get_json()["enabled"] is False and reset.get_json()["required"] is True
    assert monitor_session.get("/").headers["Location"].startswith("/login")  # logged out
    again = client.post(f"/api/v1/users/{monitor.id}/two-factor/reset")
    assert again.status_code == 422
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "two_factor.reset"))
        assert entry.actor_id == admin.id
        assert db.session.get(User, monitor.id).totp_secret_ct is None


def test_admin_cannot_reset_their_own(app, api_client, admin):
    enrol_directly(app, admin)
    response = api_client(admin).post(f"/api/v1/users/{admin.id}/two-factor/reset")
    assert response.status_code == 422
    assert "your own" in response.get_json()["error"]["message"]


def test_unknown_user_is_404(app, api_client, admin):
    client = api_client(admin)
    assert client.get("/api/v1/users/999999/two-factor").status_code == 404
    assert client.post("/api/v1/users/999999/two-factor/reset").status_code == 404


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_other_roles_get_404_on_the_admin_routes(app, api_client, create_user, monitor, role):
    enrol_directly(app, monitor)
    client = api_client(create_user(role))
    assert client.get(f"/api/v1/users/{monitor.id}/two-factor").status_code == 404
    assert client.post(f"/api/v1/users/{monitor.id}/two-factor/reset").status_code == 404
    with app.app_context():
        assert db.session.get(User, monitor.id).totp_enabled_dt is not None


def test_a_token_stands_for_both_factors(app, api_client, monitor):
    """A monitor's token works without a code: only a session that passed the code can make one."""
    enrol_directly(app, monitor)
    assert api_client(monitor).get("/api/v1/me").status_code == 200


def test_openapi_documents_the_routes(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/api/v1/me/two-factor"]) == {"get"}
    assert "stands for both factors" in paths["/api/v1/me/two-factor"]["get"]["description"]
    assert paths["/api/v1/users/{user_id}/two-factor/reset"]["post"]["x-roles"] == ["admin"]
    assert "/api/v1/me/two-factor/enrolment/confirm" in paths
