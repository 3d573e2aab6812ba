"""A monitor organisation's key: its versions, the grants to members, rotation and retirement."""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, false, func, select

from monitoring.accounts.key_material import (
    KeysLocked,
    NoKeyAccess,
    _forget_cached,
    _grant_context,
    _recovery_context,
    _rowcount,
    _unwrap_for,
    fingerprint,
    require_own_key,
)
from monitoring.accounts.key_unlock import unlocked_private_key
from monitoring.accounts.models import (
    KeyAlgorithm,
    Organisation,
    OrganisationKey,
    OrganisationKeyGrant,
    OrganisationKind,
    User,
    UserRole,
)
from monitoring.accounts.permissions import is_key_member, sees_organisation_key, visible_pending_member_ids
from monitoring.accounts.recovery_code import (
    RECOVERY_SECRET_BYTES,
    _recovery_private_key,
    format_recovery_code,
)
from monitoring.core import audit, crypto
from monitoring.core.crypto import DecryptionError
from monitoring.core.db import db
from monitoring.core.operations import OperationError
from monitoring.core.types import utcnow

logger = logging.getLogger(__name__)

# --- organisation keys --------------------------------------------------------------------------


def _refuse_pending(user: User) -> None:
    if user.membership_pending:
        raise OperationError(
            _l(
                "A member of %(organisation)s has to approve you as a colleague first. They have been "
                "told of your account.",
                organisation=user.organisation.name,
            )
        )


def current_organisation_key(organisation: Organisation) -> OrganisationKey | None:
    """The newest version that is not retired: new data is sealed to it."""
    return db.session.scalar(
        select(OrganisationKey)
        .where(OrganisationKey.organisation_id == organisation.id, OrganisationKey.retired_dt.is_(None))
        .order_by(OrganisationKey.version.desc())
        .limit(1)
    )


def organisation_keys(organisation: Organisation) -> list[OrganisationKey]:
    """The organisation's key versions in use (not retired), newest first."""
    return list(
        db.session.scalars(
            select(OrganisationKey)
            .where(OrganisationKey.organisation_id == organisation.id, OrganisationKey.retired_dt.is_(None))
            .order_by(OrganisationKey.version.desc())
        )
    )


def organisation_private_key(user: User, organisation_key: OrganisationKey) -> bytes:
    """Open the organisation key version with the user's grant and unlocked private key."""
    if not is_key_member(user, organisation_key.organisation_id) or organisation_key.retired_dt is not None:
        raise NoKeyAccess()
    cache: dict[tuple[int, int], bytes] = (
        g.setdefault("_organisation_keys", {}) if has_request_context() else {}
    )
    if (user.id, organisation_key.id) in cache:
        return cache[(user.id, organisation_key.id)]
    wrapped = db.session.scalar(
        select(OrganisationKeyGrant.wrapped).where(
            OrganisationKeyGrant.organisation_key_id == organisation_key.id,
            OrganisationKeyGrant.user_id == user.id,
        )
    )
    if wrapped is None:
        raise NoKeyAccess()
    user_private = unlocked_private_key(user)
    try:
        private = crypto.unseal(user_private, wrapped, context=_grant_context(organisation_key.id, user.id))
    except DecryptionError as exc:
        logger.warning("grant of organisation key %s to user %s does not open", organisation_key.id, user.id)
        raise NoKeyAccess() from exc
    if not hmac.compare_digest(crypto.public_key_of(private), organisation_key.public_key):
        raise NoKeyAccess()
    cache[(user.id, organisation_key.id)] = private
    return private


def _grant(organisation_key: OrganisationKey, member: User, private: bytes, granter: User | None) -> None:
    """Seal a version's private key to a member's public key (replacing an older grant)."""
    assert member.public_key is not None
    wrapped = crypto.seal(member.public_key, private, context=_grant_context(organisation_key.id, member.id))
    grant = db.session.scalar(
        select(OrganisationKeyGrant).where(
            OrganisationKeyGrant.organisation_key_id == organisation_key.id,
            OrganisationKeyGrant.user_id == member.id,
        )
    )
    if grant is None:
        grant = OrganisationKeyGrant(organisation_key_id=organisation_key.id, user_id=member.id)
        db.session.add(grant)
    grant.wrapped = wrapped
    grant.granted_by_id = granter.id if granter is not None else None
    grant.created_dt = utcnow()


def _new_version(
    organisation: Organisation, recovery_public_key: bytes, created_by: User | None
) -> tuple[OrganisationKey, bytes]:
    latest = db.session.scalar(
        select(func.max(OrganisationKey.version)).where(OrganisationKey.organisation_id == organisation.id)
    )
    version = (latest or 0) + 1
    # Every new version is a post-quantum hybrid, whatever the versions before it were.
    private, public = crypto.generate_key_pair(KeyAlgorithm.mlkem768_x25519.value)
    key = OrganisationKey(
        organisation_id=organisation.id,
        version=version,
        algorithm=KeyAlgorithm.mlkem768_x25519,
        public_key=public,
        recovery_public_key=recovery_public_key,
        recovery_wrapped=crypto.seal(
            recovery_public_key, private, context=_recovery_context(organisation.id, version)
        ),
        created_by_id=created_by.id if created_by is not None else None,
    )
    db.session.add(key)
    db.session.flush()
    return key, private


def create_organisation_key(actor: User, organisation: Organisation, *, password: str | None = None) -> str:
    """Create the organisation's key, granted to ``actor``; return the recovery code to show once.

    Only a monitor of the organisation does this (never an administrator), with their keys
    unlocked, and only while the organisation has no key in use. Outside a request (the demo
    data) the monitor's ``password`` stands in for the unlocked key.
    """
    if actor.organisation_id == organisation.id:
        _refuse_pending(actor)
    if organisation.kind is not OrganisationKind.monitor or not is_key_member(actor, organisation.id):
        raise OperationError(_l("Only a monitor of this organisation can create its key."))
    if current_organisation_key(organisation) is not None:
        raise OperationError(_l("Your organisation has a key already."))
    require_own_key(actor)
    # Prove that the actor can open the grant made below.
    if password is None:
        unlocked_private_key(actor)
    else:
        try:
            _unwrap_for(actor, password)
        except DecryptionError as exc:
            raise KeysLocked() from exc
    secret = secrets.token_bytes(RECOVERY_SECRET_BYTES)
    recovery_private = _recovery_private_key(secret)
    key, private = _new_version(organisation, crypto.public_key_of(recovery_private), actor)
    _grant(key, actor, private, actor)
    db.session.flush()
    audit.record(
        "keys.organisation_create",
        f"{actor.email} created version {key.version} of the key of {organisation.name!r} "
        "and was shown its recovery code",
        actor=actor,
        obj=key,
        data={
            "organisation_id": organisation.id,
            "version": key.version,
            "fingerprint": fingerprint(key.public_key),
        },
    )
    return format_recovery_code(secret)


def grant_member(granter: User, member: User, *, expected_fingerprint: str | None = None) -> None:
    """Give a colleague access: seal every version the granter holds to the colleague's key.

    ``expected_fingerprint`` is the fingerprint the granter saw (and compared); the grant is
    refused if the colleague's key has changed since.
    """
    organisation = granter.organisation
    if not is_key_member(granter, organisation.id):
        raise OperationError(_l("Only a monitor of this organisation can grant access to its key."))
    if member.organisation_id == organisation.id and member.is_active and member.membership_pending:
        raise OperationError(
            _l("Approve %(name)s as a colleague first; then you can grant them access.", name=member.name)
        )
    if member.id == granter.id or not is_key_member(member, organisation.id):
        raise OperationError(_l("You can grant access only to an active colleague of your organisation."))
    require_own_key(member, actor=granter)
    if expected_fingerprint is not None and expected_fingerprint != fingerprint(member.public_key):
        raise OperationError(
            _l(
                "The key of %(name)s has changed since you looked at it. Compare the new fingerprint.",
                name=member.name,
            )
        )
    versions = organisation_keys(organisation)
    if not versions:
        raise OperationError(_l("Your organisation has no key yet."))
    granted = []
    for key in versions:
        try:
            private = organisation_private_key(granter, key)
        except NoKeyAccess:
            continue
        _grant(key, member, private, granter)
        granted.append(key.version)
    if not granted:
        raise NoKeyAccess()
    db.session.flush()
    audit.record(
        "keys.grant",
        f"{granter.email} granted {member.email} access to the key of {organisation.name!r}",
        actor=granter,
        obj=member,
        data={
            "organisation_id": organisation.id,
            "versions": granted,
            "fingerprint": fingerprint(member.public_key),
        },
    )


def rotate_organisation_key(actor: User | None, organisation: Organisation) -> OrganisationKey:
    """Make a new version for the members who remain, and the recovery key.

    Called when a member leaves. The new version is sealed to each remaining active member who
    held access (a grant of a version in use), so that nobody gains access through a rotation.
    Grants of people who are no longer members are deleted.
    """
    current = current_organisation_key(organisation)
    if current is None:
        raise ValueError(f"organisation {organisation.id} has no key to rotate")
    version_ids = select(OrganisationKey.id).where(OrganisationKey.organisation_id == organisation.id)
    in_use_ids = version_ids.where(OrganisationKey.retired_dt.is_(None))
    former = db.session.execute(
        delete(OrganisationKeyGrant)
        .where(
            OrganisationKeyGrant.organisation_key_id.in_(version_ids),
            OrganisationKeyGrant.user_id.not_in(_member_ids(organisation)),
        )
        .execution_options(synchronize_session=False)
    )
    members = db.session.scalars(
        select(User).where(
            User.id.in_(_member_ids(organisation)),
            User.public_key.is_not(None),
            User.id.in_(
                select(OrganisationKeyGrant.user_id).where(
                    OrganisationKeyGrant.organisation_key_id.in_(in_use_ids)
                )
            ),
        )
    ).all()
    key, private = _new_version(organisation, current.recovery_public_key, actor)
    for member in members:
        _grant(key, member, private, None)
    _forget_cached()
    db.session.flush()
    audit.record(
        "keys.organisation_rotate",
        f"Rotated the key of {organisation.name!r} to version {key.version} for {len(members)} members",
        actor=actor,
        obj=key,
        data={
            "organisation_id": organisation.id,
            "version": key.version,
            "members": [m.id for m in members],
            "former_grants_removed": _rowcount(former),
            "fingerprint": fingerprint(key.public_key),
            "algorithm": key.algorithm.value,
        },
    )
    return key


def _member_ids(organisation: Organisation) -> Any:
    """The active, approved monitors of the organisation."""
    return select(User.id).where(
        User.organisation_id == organisation.id,
        User.is_active.is_(True),
        User.role == UserRole.monitor,
        User.membership_approved_dt.is_not(None),
    )


def member_ids(organisation: Organisation) -> Any:
    """The ids of the organisation's active, approved monitors (a subquery)."""
    return _member_ids(organisation)


def colleague_ids(user: User) -> Any:
    """The other active, approved monitors of the user's organisation (none for other roles).

    A monitor awaiting approval has no colleagues yet, and is nobody's colleague.
    """
    if not sees_organisation_key(user):
        return select(User.id).where(false())
    return _member_ids(user.organisation).where(User.id != user.id)


def pending_member_ids(user: User) -> Any:
    """The monitors of the user's organisation who wait for approval (for an approved member)."""
    return visible_pending_member_ids(user)


def remove_member(actor: User | None, user: User, organisation: Organisation) -> OrganisationKey | None:
    """A member left (deactivated or moved): delete their grants and rotate if they had any.

    Call it after the change, when the user no longer counts as a member. Returns the new
    version, or None when the user held no grant (nothing to rotate).
    """
    version_ids = select(OrganisationKey.id).where(OrganisationKey.organisation_id == organisation.id)
    held = _rowcount(
        db.session.execute(
            delete(OrganisationKeyGrant)
            .where(
                OrganisationKeyGrant.user_id == user.id,
                OrganisationKeyGrant.organisation_key_id.in_(version_ids),
            )
            .execution_options(synchronize_session=False)
        )
    )
    _forget_cached()
    if not held or current_organisation_key(organisation) is None:
        return None
    return rotate_organisation_key(actor, organisation)


def retire_organisation_key(key: OrganisationKey, *, actor: User | None = None) -> None:
    """Retire a version nothing is sealed to any more: delete its grants; it opens nothing since.

    The caller makes sure no data uses it (re-wrap first). The newest version cannot be retired.
    """
    if key.retired_dt is not None:
        return
    current = current_organisation_key(key.organisation)
    if current is not None and current.id == key.id:
        raise ValueError("the newest key version of an organisation cannot be retired")
    grants = db.session.execute(
        delete(OrganisationKeyGrant)
        .where(OrganisationKeyGrant.organisation_key_id == key.id)
        .execution_options(synchronize_session=False)
    )
    key.retired_dt = utcnow()
    _forget_cached()
    db.session.flush()
    audit.record(
        "keys.organisation_retire",
        f"Retired version {key.version} of the key of {key.organisation.name!r}",
        actor=actor,
        obj=key,
        data={
            "organisation_id": key.organisation_id,
            "version": key.version,
            "grants_removed": _rowcount(grants),
        },
    )
