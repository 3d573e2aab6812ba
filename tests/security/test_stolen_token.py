"""Attack: with a stolen API token, enrol the thief's phone for a buyer, or use it after a password reset.
Defence: two-factor changes need a password-confirmed web session (403); resets and changes revoke all tokens.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitoring.accounts.models import ApiToken, User
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from tests.accounts.two_factor_helpers import VERIFY_URL, enrol_directly, password_only_login
from tests.conftest import PASSWORD, post_form


def _revocations(app, user) -> list[AuditEntry]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "token.revoke_all", AuditEntry.object_id == str(user.id)
                )
            )
        )


def _active_tokens(app, user) -> int:
    with app.app_context():
        tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
        return sum(token.is_active for token in tokens)


@pytest.mark.parametrize("role", ["affiliate", "supplier"])
def test_a_stolen_token_cannot_switch_on_two_factor(app, api_client, create_user, role):
    owner = create_user(role)
    stolen = api_client(owner)
    for url, body in (
        ("/api/v1/me/two-factor/enrolment", None),
        ("/api/v1/me/two-factor/enrolment/confirm", {"code": "123456"}),
    ):
        response = stolen.post(url, json=body)
        assert response.status_code == 403, url
        error = response.get_json()["error"]
        assert error["code"] == 403
        assert "web" in error["message"] and "password" in error["message"]
    # The token may still read the status, and nothing changed.
    status = stolen.get("/api/v1/me/two-factor")
    assert status.status_code == 200
    assert status.get_json()["enabled"] is False and status.get_json()["enrolment_pending"] is False
    with app.app_context():
        assert db.session.get(User, owner.id).totp_secret_ct is None
    # The owner still logs in with the password alone.
    assert password_only_login(app.test_client(), owner.email, PASSWORD).headers["Location"] == "/"


def test_a_stolen_admin_token_cannot_reset_two_factor(app, api_client, admin, monitor):
    enrol_directly(app, monitor)
    response = api_client(admin).post(f"/api/v1/users/{monitor.id}/two-factor/reset")
    assert response.status_code == 403
    assert "web" in response.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.get(User, monitor.id).totp_enabled_dt is not None
    assert (
        password_only_login(app.test_client(), monitor.email, PASSWORD)
        .headers["Location"]
        .startswith(VERIFY_URL)
    )


def test_an_admin_password_reset_revokes_the_tokens(app, api_client, client_for, admin, supplier):
    stolen = api_client(supplier)
    assert stolen.get("/api/v1/me").status_code == 200
    admin_client = client_for(admin)
    detail = f"/admin/users/{supplier.id}"
    assert post_form(admin_client, f"{detail}/reset-password", form_page=detail).status_code == 302
    assert stolen.get("/api/v1/me").status_code == 401
    assert _active_tokens(app, supplier) == 0
    [entry] = _revocations(app, supplier)
    assert entry.actor_id == admin.id and entry.data_dict["tokens"] == 1


def test_a_password_change_revokes_the_tokens(app, api_client, client_for, affiliate):
    stolen = api_client(affiliate)
    assert stolen.get("/api/v1/me").status_code == 200
    client = client_for(affiliate)
    new_password = "a brand new passphrase for the buyer"
    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": new_password, "confirm": new_password},
        form_page="/account/password",
    )
    assert response.status_code == 302
    assert stolen.get("/api/v1/me").status_code == 401
    [entry] = _revocations(app, affiliate)
    assert entry.actor_id == affiliate.id and entry.data_dict["tokens"] == 1


def test_a_two_factor_reset_revokes_the_tokens(app, api_client, client_for, admin, monitor):
    enrol_directly(app, monitor)
    stolen = api_client(monitor)
    assert stolen.get("/api/v1/me").status_code == 200
    admin_client = client_for(admin)
    detail = f"/admin/users/{monitor.id}"
    assert post_form(admin_client, f"{detail}/reset-two-factor", form_page=detail).status_code == 302
    assert stolen.get("/api/v1/me").status_code == 401
    [entry] = _revocations(app, monitor)
    assert entry.actor_id == admin.id and entry.data_dict["reason"] == "two_factor.reset"
