"""An administrator's reset of two-factor sign-in: the user page and ``flask users reset-2fa``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitoring.accounts.models import User
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.accounts.two_factor_helpers import SETUP_URL, enrol_directly, page_csrf, password_only_login
from tests.conftest import PASSWORD

RESET_BUTTON = "Reset two-factor sign-in"


def _reset_url(user):
    return f"/admin/users/{user.id}/reset-two-factor"


def test_admin_page_shows_the_state_and_resets(app, client_for, admin, monitor):
    enrol_directly(app, monitor)
    monitor_client = client_for(monitor)
    client = client_for(admin)
    page = client.get(f"/admin/users/{monitor.id}").get_data(as_text=True)
    assert "on since" in page
    assert RESET_BUTTON in page
    response = client.post(_reset_url(monitor), data={"csrf_token": page_csrf(page)})
    assert response.headers["Location"] == f"/admin/users/{monitor.id}"
    page = client.get(f"/admin/users/{monitor.id}").get_data(as_text=True)
    assert "was reset; they were logged out everywhere" in page
    assert RESET_BUTTON not in page  # nothing left to reset
    # The monitor was logged out and must set up a new authenticator at the next login.
    assert monitor_client.get("/").headers["Location"].startswith("/login")
    again = app.test_client()
    assert password_only_login(again, monitor.email, PASSWORD).headers["Location"].startswith(SETUP_URL)
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "two_factor.reset").order_by(AuditEntry.id.desc())
        )
        assert (entry.actor_id, entry.object_id) == (admin.id, str(monitor.id))
        assert entry.data_dict["endpoint"] == "admin.user_reset_two_factor"


def test_no_button_without_a_key_or_for_oneself(app, client_for, admin, supplier):
    client = client_for(admin)
    page = client.get(f"/admin/users/{supplier.id}").get_data(as_text=True)
    assert RESET_BUTTON not in page
    assert "Two-factor sign-in</dt><dd>off" in page
    own = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert RESET_BUTTON not in own  # the admin has enrolled, but may not reset their own
    response = client.post(_reset_url(admin), data={"csrf_token": page_csrf(own)})
    assert response.status_code == 302
    assert "your own" in client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin.id).totp_enabled_dt is not None


def test_a_pending_set_up_can_be_reset(app, client_for, admin, monitor):
    pending = app.test_client()
    password_only_login(pending, monitor.email, PASSWORD)
    page = pending.get(SETUP_URL).get_data(as_text=True)
    pending.post("/account/two-factor/begin", data={"csrf_token": page_csrf(page)})
    client = client_for(admin)
    page = client.get(f"/admin/users/{monitor.id}").get_data(as_text=True)
    assert "being set up" in page and RESET_BUTTON in page
    client.post(_reset_url(monitor), data={"csrf_token": page_csrf(page)})
    with app.app_context():
        assert db.session.get(User, monitor.id).totp_secret_ct is None


@pytest.mark.parametrize("role", ["coordinator", "monitor", "affiliate", "supplier"])
def test_other_roles_get_404(app, client_for, create_user, admin, role):
    target = create_user("coordinator")
    enrol_directly(app, target)
    client = client_for(create_user(role))
    page = client.get("/account").get_data(as_text=True)
    response = client.post(_reset_url(target), data={"csrf_token": page_csrf(page)})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(User, target.id).totp_enabled_dt is not None


def test_unknown_user_is_404(app, client_for, admin):
    client = client_for(admin)
    page = client.get("/account").get_data(as_text=True)
    assert (
        client.post("/admin/users/999999/reset-two-factor", data={"csrf_token": page_csrf(page)}).status_code
        == 404
    )


def test_cli_reset(app, monitor):
    enrol_directly(app, monitor)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "reset-2fa", monitor.email.upper()])
    assert result.exit_code == 0, result.output
    assert f"reset the two-factor sign-in of {monitor.email}" in result.output
    with app.app_context():
        assert db.session.get(User, monitor.id).totp_enabled_dt is None
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "two_factor.reset").order_by(AuditEntry.id.desc())
        )
        assert entry.actor_id is None and entry.data_dict["cli"].endswith("users reset-2fa")
    # Nothing left to reset; an unknown address: exit code 1 and a message.
    result = runner.invoke(args=["users", "reset-2fa", monitor.email])
    assert result.exit_code == 1 and "has not set up two-factor sign-in" in result.output
    result = runner.invoke(args=["users", "reset-2fa", "nobody@example.org"])
    assert result.exit_code == 1 and "no user" in result.output
