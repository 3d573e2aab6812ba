"""The "Keys and access" pages, the admin-reset scenario, logout and the session-held key."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from monitoring.accounts import keys
from monitoring.accounts.models import Organisation, User, UserRole
from monitoring.core import crypto
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.sessions import WebSession, hash_sid
from tests.admin.helpers import shown_secret
from tests.conftest import (
    PASSWORD,
    RECOVERY_CODES,
    csrf_token,
    login,
    post_form,
    session_of,
)

KEYS = "/account/keys"
_CODE = re.compile(r'<code class="token recovery-code">([^<]+)</code>')
_FINGERPRINT = re.compile(r'name="fingerprint" value="([^"]+)"')


def _user(user_id):
    return db.session.get(User, user_id)


def _canary(app, organisation_id):
    """Something sealed to the organisation's current key, as testimony will be."""
    with app.app_context():
        key = keys.current_organisation_key(db.session.get(Organisation, organisation_id))
        return key.id, crypto.seal(key.public_key, b"canary 7f3a", context=("test", key.id))


def _open_canary(user_id, key_id, sealed):
    """Open it with what the current request's user can get: their organisation's key."""
    from monitoring.accounts.models import OrganisationKey

    private = keys.organisation_private_key(_user(user_id), db.session.get(OrganisationKey, key_id))
    return crypto.unseal(private, sealed, context=("test", key_id))


# --- who may see the pages -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "affiliate", "supplier"])
def test_other_roles_get_404_everywhere(app, create_user, client_for, monitor_with_keys, role):
    client = client_for(create_user(role))
    assert client.get(KEYS).status_code == 404
    assert client.get(f"{KEYS}/recovery-code").status_code == 404
    for url in (f"{KEYS}/organisation-key", f"{KEYS}/recover", f"{KEYS}/grants/{monitor_with_keys.id}"):
        assert (
            post_form(client, url, {"recovery_code": "x", "fingerprint": "x"}, form_page="/").status_code
            == 404
        )


def test_coordinator_sees_only_their_own_key(app, coordinator, client_for):
    client = client_for(coordinator)
    page = client.get(KEYS).get_data(as_text=True)
    with app.app_context():
        assert keys.fingerprint(_user(coordinator.id).public_key) in page
    assert "Your organisation&#39;s key" not in page and "Colleagues" not in page
    assert post_form(client, f"{KEYS}/organisation-key").status_code == 404
    assert post_form(client, f"{KEYS}/recover", {"recovery_code": "x"}).status_code == 404


def test_unauthenticated_is_sent_to_login(app):
    response = app.test_client().get(KEYS)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the first monitor creates the key and sees the recovery code once ------------------------


def test_first_monitor_creates_the_key_and_confirms_the_recovery_code(app, monitor, create_user):
    client = app.test_client()
    response = login(client, monitor)
    # The login lands on the keys page while the organisation has no key.
    assert response.headers["Location"].endswith(KEYS)
    page = client.get(KEYS).get_data(as_text=True)
    assert "Create the organisation" in page
    response = post_form(client, f"{KEYS}/organisation-key", form_page=KEYS)
    assert response.status_code == 302 and response.headers["Location"].endswith("/recovery-code")
    page = client.get(f"{KEYS}/recovery-code")
    assert page.headers["Cache-Control"] == "no-store"
    code = html.unescape(_CODE.search(page.get_data(as_text=True)).group(1))
    assert len(code) == 64
    # Not in the database, not in the session row, not in the audit log.
    with app.app_context():
        rows = db.session.scalars(select(WebSession.data)).all()
        audit = db.session.scalars(select(AuditEntry.data)).all()
        summaries = db.session.scalars(select(AuditEntry.summary)).all()
    assert not any(code in text for text in [*rows, *audit, *summaries])
    assert not any(code.replace("-", "") in text for text in rows)
    # Without the tick the code stays on screen.
    response = post_form(client, f"{KEYS}/recovery-code", {}, form_page=f"{KEYS}/recovery-code")
    assert response.status_code == 200
    assert code in html.unescape(response.get_data(as_text=True))
    assert "Please confirm" in response.get_data(as_text=True)
    response = post_form(client, f"{KEYS}/recovery-code", {"stored": "y"}, form_page=f"{KEYS}/recovery-code")
    assert response.status_code == 302
    # Shown once: gone from now on.
    assert client.get(f"{KEYS}/recovery-code").status_code == 302
    assert code not in html.unescape(client.get(KEYS).get_data(as_text=True))
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "keys.organisation_create" in actions and "keys.recovery_code_stored" in actions
    # The code works for a colleague.
    colleague = create_user(UserRole.monitor, organisation=monitor.organisation)
    other = app.test_client()
    login(other, colleague)
    response = post_form(other, f"{KEYS}/recover", {"recovery_code": code.lower()}, form_page=KEYS)
    assert response.status_code == 302
    key_id, sealed = _canary(app, monitor.organisation_id)
    with session_of(app, other):
        assert _open_canary(colleague.id, key_id, sealed) == b"canary 7f3a"


def test_a_second_organisation_key_cannot_be_created(app, monitor_with_keys, client_for):
    client = client_for(monitor_with_keys)
    assert "Create the organisation" not in client.get(KEYS).get_data(as_text=True)
    response = post_form(client, f"{KEYS}/organisation-key", form_page=KEYS)
    assert response.status_code == 302
    with app.app_context():
        org = db.session.get(Organisation, monitor_with_keys.organisation_id)
        assert [k.version for k in keys.organisation_keys(org)] == [1]


def test_wrong_recovery_codes_are_refused_on_the_page(app, monitor_with_keys, create_user, client_for):
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    client = client_for(colleague)
    code = RECOVERY_CODES[monitor_with_keys.organisation_id]
    typo = ("3" if code[0] != "3" else "4") + code[1:]
    for wrong, message in ((typo, "typing error"), ("ABCD-EFGH", "52 letters"), ("", "")):
        response = post_form(client, f"{KEYS}/recover", {"recovery_code": wrong}, form_page=KEYS)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    with session_of(app, client), pytest.raises(keys.NoKeyAccess):
        key_id, sealed = _canary(app, monitor_with_keys.organisation_id)
        _open_canary(colleague.id, key_id, sealed)


# --- granting a colleague ----------------------------------------------------------------------


def test_granting_a_waiting_colleague(app, monitor_with_keys, create_user, client_for):
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    newcomer_client = client_for(colleague)
    with app.app_context():
        shown = keys.fingerprint(_user(colleague.id).public_key)
    # The newcomer sees their fingerprint and that they lack access; nobody to grant.
    page = newcomer_client.get(KEYS).get_data(as_text=True)
    assert shown in page and "do not have access" in page and "Grant access" not in page
    granter = client_for(monitor_with_keys)
    page = granter.get(KEYS).get_data(as_text=True)
    assert shown in page and _FINGERPRINT.search(page).group(1) == shown
    # A stale fingerprint is refused.
    response = post_form(granter, f"{KEYS}/grants/{colleague.id}", {"fingerprint": "0000"}, form_page=KEYS)
    assert response.status_code == 302
    assert "has changed" in granter.get(KEYS).get_data(as_text=True)
    key_id, sealed = _canary(app, monitor_with_keys.organisation_id)
    with session_of(app, newcomer_client), pytest.raises(keys.NoKeyAccess):
        _open_canary(colleague.id, key_id, sealed)
    response = post_form(granter, f"{KEYS}/grants/{colleague.id}", {"fingerprint": shown}, form_page=KEYS)
    assert response.status_code == 302
    with session_of(app, newcomer_client):
        assert _open_canary(colleague.id, key_id, sealed) == b"canary 7f3a"
    assert "has access" in granter.get(KEYS).get_data(as_text=True)


def test_grant_to_someone_outside_the_organisation_is_404(app, monitor_with_keys, create_user, client_for):
    granter = client_for(monitor_with_keys)
    for outsider in (create_user(UserRole.monitor), create_user(UserRole.coordinator)):
        response = post_form(granter, f"{KEYS}/grants/{outsider.id}", {"fingerprint": "x"}, form_page=KEYS)
        assert response.status_code == 404
    assert (
        post_form(granter, f"{KEYS}/grants/999999", {"fingerprint": "x"}, form_page=KEYS).status_code == 404
    )


# --- the admin-reset scenario ------------------------------------------------------------------


def _admin_resets(app, client_for, admin, target):
    admin_client = client_for(admin)
    response = post_form(admin_client, f"/admin/users/{target.id}/reset-password", form_page="/admin/users")
    assert response.status_code == 302
    temporary = shown_secret(admin_client.get(response.headers["Location"]).get_data(as_text=True))
    assert temporary
    return admin_client, temporary


def _log_in_with_temporary_password(app, user, temporary):
    """Log in with the temporary password and make the forced password change, as anyone could."""
    client = app.test_client()
    login(client, user, temporary)
    new = "the admin chose this one"
    response = post_form(
        client,
        "/account/password",
        {"current_password": temporary, "password": new, "confirm": new},
        form_page="/account/password",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def test_after_an_admin_reset_nothing_opens_until_a_colleague_grants(
    app, monitor_with_keys, create_user, grant_keys, admin, client_for
):
    victim = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    grant_keys(victim)
    key_id, sealed = _canary(app, monitor_with_keys.organisation_id)
    victim_client = client_for(victim)
    with session_of(app, victim_client):
        assert _open_canary(victim.id, key_id, sealed) == b"canary 7f3a"

    admin_client, temporary = _admin_resets(app, client_for, admin, victim)
    # The administrator has no key page and no key of their own for this organisation.
    assert admin_client.get(KEYS).get_data(as_text=True) and admin_client.get(KEYS).status_code == 404
    with session_of(app, admin_client), pytest.raises(keys.NoKeyAccess):
        _open_canary(admin.id, key_id, sealed)
    # The old session is gone, and with it the old unlocked key; the grants are gone too.
    with session_of(app, victim_client):
        with pytest.raises(keys.KeysLocked):
            keys.unlocked_private_key(_user(victim.id))
        with pytest.raises(keys.NoKeyAccess):
            _open_canary(victim.id, key_id, sealed)
    # Whoever logs in with the temporary password has unlocked keys, but opens nothing.
    client = _log_in_with_temporary_password(app, victim, temporary)
    with session_of(app, client):
        assert keys.unlocked_private_key(_user(victim.id))
        with pytest.raises(keys.NoKeyAccess):
            _open_canary(victim.id, key_id, sealed)
    page = client.get(KEYS).get_data(as_text=True)
    assert "do not have access" in page
    # A colleague who compared the new fingerprint grants access: now it opens.
    granter = client_for(monitor_with_keys)
    with app.app_context():
        new_fingerprint = keys.fingerprint(_user(victim.id).public_key)
    assert new_fingerprint in granter.get(KEYS).get_data(as_text=True)
    response = post_form(
        granter, f"{KEYS}/grants/{victim.id}", {"fingerprint": new_fingerprint}, form_page=KEYS
    )
    assert response.status_code == 302
    with session_of(app, client):
        assert _open_canary(victim.id, key_id, sealed) == b"canary 7f3a"


def test_after_an_admin_reset_the_recovery_code_restores_access(
    app, monitor_with_keys, create_user, grant_keys, admin, client_for
):
    victim = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    grant_keys(victim)
    key_id, sealed = _canary(app, monitor_with_keys.organisation_id)
    _admin_client, temporary = _admin_resets(app, client_for, admin, victim)
    client = _log_in_with_temporary_password(app, victim, temporary)
    with session_of(app, client), pytest.raises(keys.NoKeyAccess):
        _open_canary(victim.id, key_id, sealed)
    code = RECOVERY_CODES[monitor_with_keys.organisation_id]
    response = post_form(client, f"{KEYS}/recover", {"recovery_code": code}, form_page=KEYS)
    assert response.status_code == 302
    with session_of(app, client):
        assert _open_canary(victim.id, key_id, sealed) == b"canary 7f3a"


# --- the session-held key ---------------------------------------------------------------------


def test_login_unlocks_and_logout_removes_the_key(app, monitor_with_keys):
    client = app.test_client()
    login(client, monitor_with_keys)
    key_id, sealed = _canary(app, monitor_with_keys.organisation_id)
    name = app.config["SESSION_COOKIE_NAME"]
    sid = client.get_cookie(name).value
    with app.app_context():
        rows = db.session.scalars(select(WebSession).where(WebSession.user_id == monitor_with_keys.id)).all()
        assert len(rows) == 1 and "_unlocked_key" in rows[0].data
    with session_of(app, client):
        assert _open_canary(monitor_with_keys.id, key_id, sealed) == b"canary 7f3a"
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    with app.app_context():
        assert not db.session.scalars(
            select(WebSession.data).where(WebSession.data.contains("_unlocked_key"))
        ).all()
    # Even the old cookie, replayed, opens nothing.
    replay = app.test_client()
    replay.set_cookie(name, sid)
    with session_of(app, replay), pytest.raises(keys.KeysLocked):
        _open_canary(monitor_with_keys.id, key_id, sealed)


def test_password_change_keeps_the_session_unlocked(app, monitor_with_keys, client_for):
    client = client_for(monitor_with_keys)
    new = "a brand new passphrase"
    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "password": new, "confirm": new},
        form_page="/account/password",
    )
    assert response.status_code == 302
    key_id, sealed = _canary(app, monitor_with_keys.organisation_id)
    with session_of(app, client):
        assert _open_canary(monitor_with_keys.id, key_id, sealed) == b"canary 7f3a"
    assert "unlocked" in client.get(KEYS).get_data(as_text=True)


def test_session_row_alone_does_not_open_the_key(app, monitor_with_keys):
    """The database copy of a live session lacks the cookie id, so its blob is useless."""
    import base64
    import json

    client = app.test_client()
    login(client, monitor_with_keys)
    sid = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    with app.app_context():
        row = db.session.scalar(select(WebSession).where(WebSession.user_id == monitor_with_keys.id))
        entry = json.loads(row.data)["_unlocked_key"]
        blob = base64.b64decode(entry["blob"])
        context = ("_unlocked_key", monitor_with_keys.id)
        # What the database and the server's secrets offer: the id's hash, the secret key.
        for guess in (row.sid_hash, str(app.config["SECRET_KEY"]), hash_sid(row.sid_hash)):
            with pytest.raises(crypto.DecryptionError):
                crypto.unwrap_with_key(
                    crypto.derive_key(guess.encode(), purpose="session-secrets"), blob, context=context
                )
        # Only the cookie opens it.
        private = crypto.unwrap_with_key(
            crypto.derive_key(sid.encode(), purpose="session-secrets"), blob, context=context
        )
        assert crypto.public_key_of(private) == db.session.get(User, monitor_with_keys.id).public_key


# --- rotation through the admin pages -----------------------------------------------------------


def test_admin_deactivation_rotates_and_old_data_stays_readable(
    app, monitor_with_keys, create_user, grant_keys, admin, client_for
):
    leaver = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    grant_keys(leaver)
    old_key_id, old_sealed = _canary(app, monitor_with_keys.organisation_id)
    admin_client = client_for(admin)
    response = post_form(admin_client, f"/admin/users/{leaver.id}/deactivate", form_page="/admin/users")
    assert response.status_code == 302
    new_key_id, new_sealed = _canary(app, monitor_with_keys.organisation_id)
    assert new_key_id != old_key_id
    client = client_for(monitor_with_keys)
    with session_of(app, client):
        assert _open_canary(monitor_with_keys.id, old_key_id, old_sealed) == b"canary 7f3a"
        assert _open_canary(monitor_with_keys.id, new_key_id, new_sealed) == b"canary 7f3a"
    page = client.get(KEYS).get_data(as_text=True)
    assert "current" in page and page.count('<th scope="row">') >= 2


@contextmanager
def counting(app):
    """Count SELECTs, except the web session's (they depend on the clock, not on the data)."""
    engine = db.state(app).engine
    count = [0]

    def before(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM web_session" not in statement:
            count[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_keys_page_and_colleague_list_run_a_bounded_number_of_queries(
    app, monitor_with_keys, create_user, grant_keys, client_for, api_client
):
    def add_colleagues(n):
        for i in range(n):
            user = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
            if i % 2:
                grant_keys(user)

    client = client_for(monitor_with_keys)
    api = api_client(monitor_with_keys)
    add_colleagues(2)
    counts = []
    for _round in range(2):
        with counting(app) as page_count:
            assert client.get(KEYS).status_code == 200
        with counting(app) as api_count:
            assert api.get("/api/v1/me/keys/colleagues").status_code == 200
        counts.append((page_count[0], api_count[0]))
        add_colleagues(6)
    assert counts[0] == counts[1]
