"""monitoring.accounts.keys: member key pairs, organisation keys, grants, unlock, recovery, rotation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitoring.accounts import keys, operations
from monitoring.accounts.models import (
    ApiToken,
    KeyOrigin,
    Organisation,
    OrganisationKey,
    OrganisationKeyGrant,
    User,
    UserRole,
)
from monitoring.core import crypto
from monitoring.core.audit import AuditEntry
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from tests.conftest import PASSWORD, RECOVERY_CODES, unlocked_as


def _get(model, row_id):
    return db.session.get(model, row_id)


def _actions(app, since_id=0):
    with app.app_context():
        return db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.id > since_id).order_by(AuditEntry.id)
        ).all()


def _last_audit_id(app):
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEntry.id))) or 0


def _unwrap(app, user, password, pepper=None):
    """Open a user's wrapped private key as the server does: password, then the server pepper."""
    pepper = pepper if pepper is not None else str(app.config["PASSWORD_PEPPER"]).encode()
    return crypto.unwrap_with_password(
        user.private_key_wrapped, password, context=("user", user.id), pepper=pepper
    )


# --- a user's own key pair -------------------------------------------------------------------


def test_a_key_pair_is_wrapped_under_the_password_the_user_chose(app, any_role_user):
    """The factory's users set their own password (as at a first login): that made the pair."""
    with app.app_context():
        user = _get(User, any_role_user.id)
        # A post-quantum hybrid (ML-KEM-768 + X25519) public key.
        assert user.public_key is not None and crypto.suite_of(user.public_key) == crypto.SUITE_HYBRID
        assert user.key_origin is KeyOrigin.own_password and user.key_created_dt is not None
        private = _unwrap(app, user, PASSWORD)
        assert crypto.public_key_of(private) == user.public_key
        with pytest.raises(crypto.DecryptionError):
            _unwrap(app, user, PASSWORD + "x")
        # Bound to the user: the same blob does not open as another user's key.
        with pytest.raises(crypto.DecryptionError):
            crypto.unwrap_with_password(
                user.private_key_wrapped,
                PASSWORD,
                context=("user", user.id + 1),
                pepper=str(app.config["PASSWORD_PEPPER"]).encode(),
            )
        assert private not in user.private_key_wrapped


def test_a_user_whose_password_an_administrator_set_has_no_key_pair(app, create_user):
    user = create_user(UserRole.monitor, must_change_password=True)
    with app.app_context():
        row = _get(User, user.id)
        assert row.public_key is None and row.private_key_wrapped is None
        assert row.key_origin is None and row.key_created_dt is None


def test_wrap_uses_the_configured_argon2_cost(app, monitor):
    with app.app_context():
        user = _get(User, monitor.id)
        _version, iterations, memory_kib, _lanes = __import__("struct").unpack(
            ">BIIB", user.private_key_wrapped[:10]
        )
    assert (iterations, memory_kib) == (app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"])


def test_password_change_rewraps_the_same_private_key(app, monitor):
    """A key made under the user's own password stays theirs across their password changes."""
    new = "another long passphrase"
    with app.app_context():
        user = _get(User, monitor.id)
        before = _unwrap(app, user, PASSWORD)
        public = user.public_key
        operations.change_password(user, PASSWORD, new)
        db.session.commit()
        after = _unwrap(app, user, new)
        assert after == before and user.public_key == public
        with pytest.raises(crypto.DecryptionError):
            _unwrap(app, user, PASSWORD)


def test_password_change_keeps_organisation_access(app, monitor_with_keys):
    new = "another long passphrase"
    with app.app_context():
        operations.change_password(_get(User, monitor_with_keys.id), PASSWORD, new)
        db.session.commit()
    with unlocked_as(app, monitor_with_keys, new) as user:
        key = keys.current_organisation_key(user.organisation)
        assert crypto.public_key_of(keys.organisation_private_key(user, key)) == key.public_key


def test_unlock_makes_no_key_pair_for_a_user_without_one(app, create_user):
    """A login is no moment to make a key: the password may be one an administrator gave out."""
    user = create_user(UserRole.monitor, must_change_password=True)
    with unlocked_as(app, user) as loaded:
        assert loaded.public_key is None and loaded.private_key_wrapped is None
        with pytest.raises(keys.KeysLocked):
            keys.unlocked_private_key(loaded)
        db.session.commit()
    with app.app_context():
        assert _get(User, user.id).public_key is None


def test_setting_ones_own_password_makes_the_key_pair(app, create_user):
    user = create_user(UserRole.monitor, must_change_password=True)
    since = _last_audit_id(app)
    with app.app_context():
        row = _get(User, user.id)
        operations.change_password(row, PASSWORD, "my own fresh passphrase 7")
        db.session.commit()
        assert row.key_origin is KeyOrigin.own_password and row.key_created_dt is not None
        assert crypto.public_key_of(_unwrap(app, row, "my own fresh passphrase 7")) == row.public_key
        with pytest.raises(crypto.DecryptionError):
            _unwrap(app, row, PASSWORD)
    assert "keys.user_create" in _actions(app, since)


# --- unlocking ---------------------------------------------------------------------------------


def test_unlocked_key_is_held_only_encrypted_under_the_cookie_id(app, monitor):
    with unlocked_as(app, monitor) as user:
        from flask import session

        private = keys.unlocked_private_key(user)
        entry = session["_unlocked_key"]
        assert entry["user"] == user.id
        assert private.hex() not in str(entry) and str(private) not in str(entry)
        # Without this request's cookie id (e.g. from the database alone) the entry is useless.
        other = crypto.derive_key(b"some other session id", purpose="session-secrets")
        blob = __import__("base64").b64decode(entry["blob"])
        with pytest.raises(crypto.DecryptionError):
            crypto.unwrap_with_key(other, blob, context=("_unlocked_key", user.id))


def test_a_session_entry_of_another_user_does_not_unlock(app, monitor, create_user):
    other = create_user(UserRole.monitor, organisation=monitor.organisation)
    with unlocked_as(app, monitor):
        from flask import g

        g.pop("_unlocked_keys", None)
        with pytest.raises(keys.KeysLocked):
            keys.unlocked_private_key(_get(User, other.id))


def test_without_unlock_the_keys_are_locked(app, monitor):
    with app.test_request_context("/"), pytest.raises(keys.KeysLocked):
        keys.unlocked_private_key(_get(User, monitor.id))
    # no request at all (the command line)
    with app.app_context(), pytest.raises(keys.KeysLocked):
        keys.unlocked_private_key(_get(User, monitor.id))


def test_unlock_with_a_wrong_password_leaves_the_keys_locked(app, monitor):
    with app.test_request_context("/"):
        user = _get(User, monitor.id)
        keys.unlock(user, PASSWORD + "x")
        with pytest.raises(keys.KeysLocked):
            keys.unlocked_private_key(user)
        assert db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "keys.unlock_failed")
        )


def test_unlock_kept_survives_a_session_regeneration(app, monitor):
    from flask import g, session

    with unlocked_as(app, monitor) as user:
        first_id = session.cookie_id
        with keys.unlock_kept(user):
            session.clear()
            session.regenerate()
        g.pop("_unlocked_keys")
        assert session.cookie_id != first_id
        assert crypto.public_key_of(keys.unlocked_private_key(user)) == user.public_key


def test_regeneration_without_unlock_kept_locks(app, monitor):
    from flask import g, session

    with unlocked_as(app, monitor) as user:
        entry = dict(session["_unlocked_key"])
        session.regenerate()
        session["_unlocked_key"] = entry  # the old entry, now under a different cookie id
        g.pop("_unlocked_keys")
        with pytest.raises(keys.KeysLocked):
            keys.unlocked_private_key(user)


# --- organisation keys -----------------------------------------------------------------------


def test_create_organisation_key_grants_the_creator_and_returns_a_recovery_code(app, monitor):
    since = _last_audit_id(app)
    with unlocked_as(app, monitor) as user:
        code = keys.create_organisation_key(user, user.organisation)
        db.session.commit()
        key = keys.current_organisation_key(user.organisation)
        assert key.version == 1 and key.created_by_id == user.id
        assert crypto.public_key_of(keys.organisation_private_key(user, key)) == key.public_key
    assert len(code) == 52 + 12 and all(len(group) == 4 for group in code.split("-"))
    assert "keys.organisation_create" in _actions(app, since)
    with app.app_context():
        # The code is nowhere in the database.
        assert code not in str(db.session.scalars(select(AuditEntry.data)).all())
        stored = db.session.scalar(select(OrganisationKey).where(OrganisationKey.id == key.id))
        recovery_private = keys._recovery_private_key(keys.parse_recovery_code(code))
        assert crypto.public_key_of(recovery_private) == stored.recovery_public_key


def test_only_one_key_in_use_and_only_by_a_monitor_of_the_organisation(
    app, monitor_with_keys, create_user, admin
):
    with unlocked_as(app, monitor_with_keys) as user, pytest.raises(OperationError):
        keys.create_organisation_key(user, user.organisation)
    with unlocked_as(app, admin) as user:
        org = _get(Organisation, monitor_with_keys.organisation_id)
        with pytest.raises(OperationError):
            keys.create_organisation_key(user, org)
    stranger = create_user(UserRole.monitor)
    with unlocked_as(app, stranger) as user, pytest.raises(OperationError):
        keys.create_organisation_key(user, _get(Organisation, monitor_with_keys.organisation_id))


def test_creating_the_key_needs_unlocked_keys(app, monitor):
    with app.test_request_context("/"):
        user = _get(User, monitor.id)
        with pytest.raises(keys.KeysLocked):
            keys.create_organisation_key(user, user.organisation)


def test_a_new_colleague_has_no_access_until_granted(app, monitor_with_keys, create_user):
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    with unlocked_as(app, colleague) as user:
        key = keys.current_organisation_key(user.organisation)
        with pytest.raises(keys.NoKeyAccess):
            keys.organisation_private_key(user, key)
    since = _last_audit_id(app)
    with unlocked_as(app, monitor_with_keys) as granter:
        member = _get(User, colleague.id)
        keys.grant_member(granter, member, expected_fingerprint=keys.fingerprint(member.public_key))
        db.session.commit()
    assert "keys.grant" in _actions(app, since)
    with unlocked_as(app, colleague) as user:
        key = keys.current_organisation_key(user.organisation)
        assert crypto.public_key_of(keys.organisation_private_key(user, key)) == key.public_key


def test_grant_refuses_a_changed_fingerprint_strangers_and_locked_granters(
    app, monitor_with_keys, create_user
):
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    stranger = create_user(UserRole.monitor)
    supplier = create_user(UserRole.supplier)
    with unlocked_as(app, monitor_with_keys) as granter:
        with pytest.raises(OperationError):
            keys.grant_member(granter, _get(User, colleague.id), expected_fingerprint="0000 0000")
        with pytest.raises(OperationError):
            keys.grant_member(granter, _get(User, stranger.id))
        with pytest.raises(OperationError):
            keys.grant_member(granter, _get(User, supplier.id))
        with pytest.raises(OperationError):
            keys.grant_member(granter, granter)
    with app.test_request_context("/"), pytest.raises(keys.KeysLocked):
        keys.grant_member(_get(User, monitor_with_keys.id), _get(User, colleague.id))
    # A colleague without access cannot grant it either.
    other = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    with unlocked_as(app, other) as granter, pytest.raises(keys.NoKeyAccess):
        keys.grant_member(granter, _get(User, colleague.id))
    with app.app_context():
        assert not db.session.scalar(
            select(func.count())
            .select_from(OrganisationKeyGrant)
            .where(OrganisationKeyGrant.user_id.in_([colleague.id, stranger.id, supplier.id, other.id]))
        )


def test_organisation_private_key_refuses_non_members(app, monitor_with_keys, create_user, admin):
    org_id = monitor_with_keys.organisation_id
    for intruder in (admin, create_user(UserRole.monitor), create_user(UserRole.coordinator)):
        with unlocked_as(app, intruder) as user:
            key = keys.current_organisation_key(_get(Organisation, org_id))
            with pytest.raises(keys.NoKeyAccess):
                keys.organisation_private_key(user, key)


def test_organisation_private_key_needs_unlocked_keys(app, monitor_with_keys):
    with app.test_request_context("/"):
        user = _get(User, monitor_with_keys.id)
        key = keys.current_organisation_key(user.organisation)
        with pytest.raises(keys.KeysLocked):
            keys.organisation_private_key(user, key)


# --- recovery --------------------------------------------------------------------------------


def test_recovery_code_format_catches_typos():
    secret = bytes(range(30))
    code = keys.format_recovery_code(secret)
    assert len(code.replace("-", "")) == 52
    assert keys.parse_recovery_code(code) == secret
    assert keys.parse_recovery_code(code.lower().replace("-", " ")) == secret
    # O, I and L are read as 0 and 1.
    assert keys.parse_recovery_code(code.replace("0", "O").replace("1", "l")) == secret
    groups = code.split("-")
    for position in range(0, 52, 5):
        chars = list(code.replace("-", ""))
        chars[position] = "2" if chars[position] != "2" else "3"
        with pytest.raises(OperationError) as excinfo:
            keys.parse_recovery_code("".join(chars))
        assert excinfo.value.field == "recovery_code"
    swapped = groups[:]
    swapped[0], swapped[1] = swapped[1], swapped[0]
    if swapped != groups:
        with pytest.raises(OperationError):
            keys.parse_recovery_code("-".join(swapped))
    for wrong in ("", code[:-1], code + "A", code.replace(code[0], "U", 1)):
        with pytest.raises(OperationError):
            keys.parse_recovery_code(wrong)


def test_recover_with_the_code_grants_access(app, monitor_with_keys, create_user):
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    since = _last_audit_id(app)
    with unlocked_as(app, colleague) as user:
        keys.recover(user, user.organisation, RECOVERY_CODES[user.organisation_id].lower())
        db.session.commit()
        key = keys.current_organisation_key(user.organisation)
        assert crypto.public_key_of(keys.organisation_private_key(user, key)) == key.public_key
    assert "keys.recover" in _actions(app, since)


def test_recover_refuses_another_organisations_code_and_non_members(app, monitor_with_keys, create_user):
    elsewhere = create_user(UserRole.monitor)
    other_code = keys.format_recovery_code(bytes(30))
    # a monitor of another organisation, with a well-formed code of none
    with unlocked_as(app, elsewhere) as user, pytest.raises(OperationError):
        keys.recover(user, _get(Organisation, monitor_with_keys.organisation_id), other_code)
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    with unlocked_as(app, colleague) as user:
        with pytest.raises(OperationError) as excinfo:
            keys.recover(user, user.organisation, other_code)
        assert excinfo.value.field == "recovery_code"
    coordinator = create_user(UserRole.coordinator)
    with unlocked_as(app, coordinator) as user, pytest.raises(OperationError):
        keys.recover(
            user,
            _get(Organisation, monitor_with_keys.organisation_id),
            RECOVERY_CODES[monitor_with_keys.organisation_id],
        )


# --- the database and every server secret, but nobody logged in --------------------------------


def test_database_and_server_secrets_do_not_open_the_organisation_key(app, monitor_with_keys, create_user):
    """Everything the server holds at rest: rows, SECRET_KEY, AUDIT_KEY, the keyring. Nothing opens."""
    colleague = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    with unlocked_as(app, monitor_with_keys) as granter:
        keys.grant_member(granter, _get(User, colleague.id))
        db.session.commit()
    from monitoring.core.keyring import current_keyring
    from monitoring.core.sessions import WebSession

    with app.test_request_context("/"):
        org = _get(Organisation, monitor_with_keys.organisation_id)
        key = keys.current_organisation_key(org)
        # The API: no logged-in monitor, so no key.
        for member_id in (monitor_with_keys.id, colleague.id):
            with pytest.raises(keys.KeysLocked):
                keys.organisation_private_key(_get(User, member_id), key)
        # Every secret the server has, tried on every wrapped blob in the database.
        pepper = str(app.config["PASSWORD_PEPPER"]).encode()
        server_secrets = [
            str(app.config["SECRET_KEY"]).encode(),
            str(app.config["AUDIT_KEY"]).encode(),
            pepper,
            *current_keyring().keys.values(),
        ]
        candidates = []
        for secret in server_secrets:
            candidates.append(secret)
            for purpose in ("session-secrets", "api-token-private-key", "organisation-recovery-key"):
                candidates.append(crypto.derive_key(secret, purpose=purpose))
        session_rows = db.session.scalars(select(WebSession.data)).all()
        grants = db.session.scalars(
            select(OrganisationKeyGrant).where(OrganisationKeyGrant.organisation_key_id == key.id)
        ).all()
        users = db.session.scalars(
            select(User).where(User.id.in_([monitor_with_keys.id, colleague.id]))
        ).all()
        assert len(grants) == 2
        opened = 0
        for candidate in candidates:
            for grant in grants:
                opened += _opens(
                    lambda c=candidate, g=grant: crypto.unseal(
                        c[:32].ljust(32, b"\0"),
                        g.wrapped,
                        context=("organisation_key_grant", key.id, g.user_id),
                    )
                )
            opened += _opens(
                lambda c=candidate: crypto.unseal(
                    c[:32].ljust(32, b"\0"),
                    key.recovery_wrapped,
                    context=("organisation_key_recovery", org.id, key.version),
                )
            )
            for user in users:
                opened += _opens(
                    lambda c=candidate, u=user: crypto.unwrap_with_password(
                        u.private_key_wrapped, c.decode("latin-1"), context=("user", u.id), pepper=pepper
                    )
                )
        assert opened == 0
        # Session rows hold no key material a secret opens (here none: nobody is logged in).
        assert all("_unlocked_key" not in row for row in session_rows)


def _opens(attempt) -> int:
    try:
        attempt()
    except (crypto.DecryptionError, ValueError):
        return 0
    return 1


# --- rotation on removal ---------------------------------------------------------------------


def test_deactivating_a_member_rotates_the_key(app, monitor_with_keys, create_user, admin):
    stays = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    leaves = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    waiting = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)  # never granted
    with unlocked_as(app, monitor_with_keys) as granter:
        for member in (stays, leaves):
            keys.grant_member(granter, _get(User, member.id))
        db.session.commit()
        old_key_id = keys.current_organisation_key(granter.organisation).id
        old_private = keys.organisation_private_key(granter, _get(OrganisationKey, old_key_id))
    since = _last_audit_id(app)
    with app.app_context():
        operations.set_user_active(_get(User, admin.id), _get(User, leaves.id), False)
        db.session.commit()
        org = _get(Organisation, monitor_with_keys.organisation_id)
        new = keys.current_organisation_key(org)
        assert new.version == 2 and new.id != old_key_id
        assert new.recovery_public_key == _get(OrganisationKey, old_key_id).recovery_public_key
        holders = set(
            db.session.scalars(
                select(OrganisationKeyGrant.user_id).where(OrganisationKeyGrant.organisation_key_id == new.id)
            )
        )
        assert holders == {monitor_with_keys.id, stays.id}  # not the leaver, not the unvetted newcomer
        assert not db.session.scalar(
            select(func.count())
            .select_from(OrganisationKeyGrant)
            .where(OrganisationKeyGrant.user_id == leaves.id)
        )
    assert "keys.organisation_rotate" in _actions(app, since)
    assert waiting  # present in the organisation, yet not granted by the rotation
    for member in (monitor_with_keys, stays):
        with unlocked_as(app, member) as user:
            # New data goes to version 2; data sealed to version 1 stays readable.
            current = keys.current_organisation_key(user.organisation)
            assert crypto.public_key_of(keys.organisation_private_key(user, current)) == current.public_key
            assert keys.organisation_private_key(user, _get(OrganisationKey, old_key_id)) == old_private
    # The recovery code opens the new version as well.
    with unlocked_as(app, waiting) as user:
        keys.recover(user, user.organisation, RECOVERY_CODES[user.organisation_id])
        for version in keys.organisation_keys(user.organisation):
            assert crypto.public_key_of(keys.organisation_private_key(user, version)) == version.public_key


def test_deactivating_someone_without_access_does_not_rotate(app, monitor_with_keys, create_user, admin):
    newcomer = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    with app.app_context():
        operations.set_user_active(_get(User, admin.id), _get(User, newcomer.id), False)
        db.session.commit()
        assert (
            keys.current_organisation_key(_get(Organisation, monitor_with_keys.organisation_id)).version == 1
        )


def test_remove_member_after_a_move_rotates(app, monitor_with_keys, create_user, create_organisation):
    mover = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    with unlocked_as(app, monitor_with_keys) as granter:
        keys.grant_member(granter, _get(User, mover.id))
        db.session.commit()
    elsewhere = create_organisation()
    with app.app_context():
        user = _get(User, mover.id)
        old_org = user.organisation
        user.organisation = _get(Organisation, elsewhere.id)
        db.session.flush()
        new = keys.remove_member(None, user, old_org)
        db.session.commit()
        assert new is not None and new.version == 2
        assert not db.session.scalar(
            select(func.count())
            .select_from(OrganisationKeyGrant)
            .where(OrganisationKeyGrant.user_id == mover.id)
        )


def test_retire_deletes_grants_and_refuses_the_newest(app, monitor_with_keys):
    with app.app_context():
        org = _get(Organisation, monitor_with_keys.organisation_id)
        first = keys.current_organisation_key(org)
        with pytest.raises(ValueError):
            keys.retire_organisation_key(first)
        second = keys.rotate_organisation_key(None, org)
        db.session.commit()
        assert {g.user_id for g in db.session.scalars(select(OrganisationKeyGrant))} >= {monitor_with_keys.id}
        keys.retire_organisation_key(first)
        db.session.commit()
        assert first.retired_dt is not None
        assert keys.current_organisation_key(org).id == second.id
        assert keys.organisation_keys(org) == [second]
        assert not db.session.scalar(
            select(func.count())
            .select_from(OrganisationKeyGrant)
            .where(OrganisationKeyGrant.organisation_key_id == first.id)
        )
    with unlocked_as(app, monitor_with_keys) as user:
        with pytest.raises(keys.NoKeyAccess):
            keys.organisation_private_key(user, _get(OrganisationKey, first.id))
        assert keys.organisation_private_key(user, _get(OrganisationKey, second.id))


# --- admin reset -------------------------------------------------------------------------------


def test_reset_drops_the_key_pair_grants_and_token_keys_and_makes_no_new_pair(
    app, monitor_with_keys, admin, api_client
):
    """The old behaviour made a new pair under the temporary password: the administrator's."""
    api_client(monitor_with_keys, unlocked=True)
    with app.app_context():
        user = _get(User, monitor_with_keys.id)
        old_public = user.public_key
        assert db.session.scalar(
            select(func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.private_key_wrapped.is_not(None))
        )
        temporary = operations.reset_password(_get(User, admin.id), user)
        db.session.commit()
        assert user.public_key is None and user.private_key_wrapped is None
        assert user.key_origin is None and user.keys_reset_dt is not None
        assert not db.session.scalar(
            select(func.count())
            .select_from(OrganisationKeyGrant)
            .where(OrganisationKeyGrant.user_id == user.id)
        )
        assert not db.session.scalar(
            select(func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.private_key_wrapped.is_not(None))
        )
    # Whoever knows the temporary password (the administrator) has no key at all.
    with unlocked_as(app, monitor_with_keys, temporary) as user:
        with pytest.raises(keys.KeysLocked):
            keys.unlocked_private_key(user)
        with pytest.raises(keys.NoKeyAccess):
            keys.organisation_private_key(user, keys.current_organisation_key(user.organisation))
    # The member sets their own password: a new pair, made "after an administrator reset".
    with app.app_context():
        user = _get(User, monitor_with_keys.id)
        operations.change_password(user, temporary, "my own passphrase after the reset")
        db.session.commit()
        assert user.public_key not in (None, old_public) and user.key_origin is KeyOrigin.after_reset
    with unlocked_as(app, monitor_with_keys, "my own passphrase after the reset") as user:
        assert keys.unlocked_private_key(user)
        with pytest.raises(keys.NoKeyAccess):
            keys.organisation_private_key(user, keys.current_organisation_key(user.organisation))


def test_key_status_lists_versions_and_colleagues(app, monitor_with_keys, create_user):
    waiting = create_user(UserRole.monitor, organisation=monitor_with_keys.organisation)
    create_user(UserRole.monitor)  # another organisation: not listed
    with unlocked_as(app, monitor_with_keys) as user:
        status = keys.key_status(user)
        assert status.unlocked and status.has_access and status.organisation_has_key
        assert status.fingerprint == keys.fingerprint(user.public_key)
        assert [v.key.version for v in status.versions] == [1]
        assert [c.user.id for c in status.waiting] == [waiting.id]
    with app.test_request_context("/"):
        status = keys.key_status(_get(User, waiting.id))
        assert not status.unlocked and not status.has_access
        assert [c.user.id for c in status.colleagues] == [monitor_with_keys.id]
        assert status.waiting == []
