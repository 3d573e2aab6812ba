"""Secrets shown once (new tokens, temporary passwords) wait in the session encrypted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitoring.core import session_secrets
from monitoring.core.db import db
from monitoring.core.sessions import WebSession
from tests.admin.helpers import shown_secret
from tests.conftest import post_form


def _stored_sessions(app) -> str:
    with app.app_context():
        return "\n".join(db.session.scalars(select(WebSession.data)))


def test_a_new_token_waits_encrypted_and_is_shown_once(app, client_for, affiliate):
    client = client_for(affiliate)
    response = post_form(client, "/account/tokens", {"name": "script"}, form_page="/account")
    assert response.status_code == 302
    stored = _stored_sessions(app)  # between the POST and the page that shows it
    token = shown_secret(client.get("/account").get_data(as_text=True))
    assert token and token not in stored and '"new_token"' in stored
    assert shown_secret(client.get("/account").get_data(as_text=True)) is None


def test_a_temporary_password_waits_encrypted_and_only_for_the_admin(app, client_for, admin, supplier):
    client = client_for(admin)
    detail = f"/admin/users/{supplier.id}"
    assert post_form(client, f"{detail}/reset-password", form_page=detail).status_code == 302
    stored = _stored_sessions(app)
    password = shown_secret(client.get(detail).get_data(as_text=True))
    assert password and password not in stored


def test_secrets_belong_to_their_user_and_their_session(app):
    with app.app_context(), pytest.raises(session_secrets.NoSessionKey):
        session_secrets.put("x", 1, b"secret")  # no request, no session cookie: nothing to derive from
    with app.test_request_context("/"):
        from flask import session

        session_secrets.put("x", 1, b"secret")
        assert b"secret" not in str(session["x"]).encode()
        assert session_secrets.get("x", 2) is None
        assert session_secrets.get("y", 1) is None
        assert session_secrets.pop("x", 1) == b"secret"
        assert session_secrets.get("x", 1) is None and "x" not in session
