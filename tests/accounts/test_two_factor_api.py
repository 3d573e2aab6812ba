"""The two-factor API: one's own status and set-up, and the administrators' view and reset."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.accounts.two_factor_helpers import enrol_directly

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


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/me/two-factor/enrolment", None),
        ("/api/v1/me/two-factor/enrolment/confirm", {"code": "123456"}),
        ("/api/v1/me/two-factor/enrolment/confirm", {}),  # refused before its input is read
        ("/api/v1/me/two-factor/enrolment/confirm", {"code": "1", "secret": "x"}),
    ],
)
def test_set_up_is_refused_with_a_token(app, api_client, supplier, url, body):
    """Set-up needs a password-confirmed web session (tests/security/test_stolen_token.py)."""
    client = api_client(supplier)
    response = client.post(url, json=body)
    assert response.status_code == 403
    assert "API token is not enough" in response.get_json()["error"]["message"]
    assert client.get("/api/v1/me/two-factor").get_json()["enrolment_pending"] is False
    with app.app_context():
        assert not db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.object_id == str(supplier.id), AuditEntry.action.like("two_factor.%")
            )
        ).all()


def test_admin_sees_but_resets_only_on_the_page(app, api_client, admin, monitor, client_for):
    enrol_directly(app, monitor)
    monitor_session = client_for(monitor)
    client = api_client(admin)
    status = client.get(f"/api/v1/users/{monitor.id}/two-factor").get_json()
    assert status["enabled"] is True and status["user_id"] == monitor.id
    reset = client.post(f"/api/v1/users/{monitor.id}/two-factor/reset")
    assert reset.status_code == 403
    assert monitor_session.get("/").status_code == 200  # not logged out
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "two_factor.reset")) is None
        assert db.session.get(User, monitor.id).totp_enabled_dt is not None


def test_unknown_user_is_404(app, api_client, admin):
    client = api_client(admin)
    assert client.get("/api/v1/users/999999/two-factor").status_code == 404
    # The reset is refused to every token before the user is looked up.
    assert client.post("/api/v1/users/999999/two-factor/reset").status_code == 403


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
    for path in (
        "/api/v1/me/two-factor/enrolment",
        "/api/v1/me/two-factor/enrolment/confirm",
        "/api/v1/users/{user_id}/two-factor/reset",
    ):
        operation = paths[path]["post"]
        assert operation["x-password-confirmed"] is True
        assert "403" in operation["responses"]
        assert "Always refused with a 403" in operation["description"]
    assert "x-password-confirmed" not in paths["/api/v1/me/two-factor"]["get"]
