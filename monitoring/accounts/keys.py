"""Member key pairs, monitor organisations' keys, grants, the session unlock and recovery.

This module is the one entry point: it re-exports the parts (``key_material``: a member's key
pair; ``key_unlock``: the session and API tokens; ``organisation_keys``: versions, grants and
rotation; ``recovery_code`` and ``key_recovery``: the recovery code) and holds what the
"Keys and access" page shows.

Sealed data (DESIGN.md, "Confidentiality levels") is sealed to a monitor organisation's
public key: ML-KEM-768 + X25519 for versions made since December 2026, X25519 before (the
suite is stored with each version). The server never holds a usable private key at rest:

- each user has a key pair (the same two suites) whose private key is stored only wrapped under argon2id of
  their password and the server's password pepper (``User.private_key_wrapped``). The pair is
  made only when the user sets a password of their own, never under a temporary password an
  administrator saw; an administrator's reset drops it (and every grant to it);
- each version of an organisation's private key is sealed to every member's public key
  (:class:`OrganisationKeyGrant`) and to the organisation's recovery key, whose private half
  exists only as the recovery code shown once to the monitor who created the key;
- at login the user's private key is unwrapped and kept in the server-side session, encrypted
  under a key derived from the session cookie's id, which the database never stores (it holds
  only the id's SHA-256); an API token made while the keys were unlocked carries the private
  key wrapped under a key derived from the token itself.

So a copy of the database together with every server secret opens nothing: each wrapped blob
needs a password, a session cookie, an API token or the recovery code.

Removing a member rotates the organisation's key: new data is sealed to the new version, which
the removed member never held. Data sealed to older versions stays readable for the remaining
members until it is re-wrapped and the old version retired (:func:`retire_organisation_key`).
Re-wrapping keeps the data keys, which a departed member may have copied with the old version;
re-encryption (:func:`monitoring.testimony.sealing.reencrypt_batch`) replaces them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from monitoring.accounts.key_material import (
    KeysLocked,
    NoKeyAccess,
    _drop_user_keys,
    _forget_cached,
    _password_kdf,
    _unwrap_for,
    _wrap_for,
    create_user_keys,
    fingerprint,
    require_own_key,
    reset_user_keys,
    set_own_password_keys,
)
from monitoring.accounts.key_recovery import (
    forget_recovery_code,
    pending_recovery_code,
    recover,
    recovery_opener,
    remember_recovery_code,
    upgrade_recovery_key,
)
from monitoring.accounts.key_unlock import attach_to_token, unlock, unlock_kept, unlocked_private_key
from monitoring.accounts.models import KeyOrigin, OrganisationKey, OrganisationKeyGrant, User
from monitoring.accounts.organisation_keys import (
    colleague_ids,
    create_organisation_key,
    current_organisation_key,
    grant_member,
    member_ids,
    organisation_keys,
    organisation_private_key,
    pending_member_ids,
    remove_member,
    retire_organisation_key,
    rotate_organisation_key,
)
from monitoring.accounts.permissions import sees_organisation_key
from monitoring.accounts.recovery_code import (
    RECOVERY_CODE_LENGTH,
    RECOVERY_SECRET_BYTES,
    _recovery_private_key,
    format_recovery_code,
    parse_recovery_code,
)
from monitoring.core.db import db

__all__ = [
    "RECOVERY_CODE_LENGTH",
    "RECOVERY_SECRET_BYTES",
    "ColleagueStatus",
    "KeyStatus",
    "KeysLocked",
    "NoKeyAccess",
    "VersionStatus",
    "_drop_user_keys",
    "_forget_cached",
    "_password_kdf",
    "_recovery_private_key",
    "_unwrap_for",
    "_wrap_for",
    "attach_to_token",
    "colleague_ids",
    "create_organisation_key",
    "create_user_keys",
    "current_organisation_key",
    "fingerprint",
    "forget_recovery_code",
    "format_recovery_code",
    "grant_member",
    "key_status",
    "member_ids",
    "organisation_keys",
    "organisation_private_key",
    "parse_recovery_code",
    "pending_member_ids",
    "pending_recovery_code",
    "recover",
    "recovery_opener",
    "remember_recovery_code",
    "remove_member",
    "require_own_key",
    "reset_user_keys",
    "retire_organisation_key",
    "rotate_organisation_key",
    "set_own_password_keys",
    "unlock",
    "unlock_kept",
    "unlocked_private_key",
    "upgrade_recovery_key",
]

logger = logging.getLogger(__name__)


# --- what the "Keys and access" page shows ------------------------------------------------------


@dataclass(frozen=True)
class VersionStatus:
    key: OrganisationKey
    fingerprint: str
    has_access: bool
    members_with_access: int


@dataclass(frozen=True)
class ColleagueStatus:
    user: User
    fingerprint: str
    has_access: bool  # holds a grant of the newest version

    @property
    def key_created_dt(self) -> datetime | None:
        return self.user.key_created_dt

    @property
    def key_origin(self) -> KeyOrigin | None:
        return self.user.key_origin


@dataclass(frozen=True)
class KeyStatus:
    has_keys: bool
    unlocked: bool
    fingerprint: str
    organisation_has_key: bool
    has_access: bool  # to the newest version
    versions: list[VersionStatus]
    colleagues: list[ColleagueStatus]
    key_created_dt: datetime | None = None
    key_origin: KeyOrigin | None = None
    keys_reset_dt: datetime | None = None
    membership_pending: bool = False  # a monitor not yet approved by their organisation
    pending: list[User] = field(default_factory=list)  # colleagues waiting for approval

    @property
    def has_every_version(self) -> bool:
        return all(v.has_access for v in self.versions)

    @property
    def waiting(self) -> list[ColleagueStatus]:
        """Colleagues who have a key but no access yet."""
        return [c for c in self.colleagues if not c.has_access and c.fingerprint]


def key_status(user: User) -> KeyStatus:
    """The state of the user's keys and, for a monitor, of their organisation's (bounded queries)."""
    try:
        unlocked_private_key(user)
        unlocked = True
    except KeysLocked:
        unlocked = False
    versions: list[VersionStatus] = []
    colleagues: list[ColleagueStatus] = []
    has_access = False
    organisation_has_key = False
    pending: list[User] = []
    if sees_organisation_key(user):
        keys = organisation_keys(user.organisation)
        organisation_has_key = bool(keys)
        grants = (
            db.session.execute(
                select(OrganisationKeyGrant.organisation_key_id, OrganisationKeyGrant.user_id).where(
                    OrganisationKeyGrant.organisation_key_id.in_([k.id for k in keys])
                )
            ).all()
            if keys
            else []
        )
        holders: dict[int, set[int]] = {}
        for key_id, user_id in grants:
            holders.setdefault(key_id, set()).add(user_id)
        versions = [
            VersionStatus(
                k, fingerprint(k.public_key), user.id in holders.get(k.id, set()), len(holders.get(k.id, ()))
            )
            for k in keys
        ]
        newest = holders.get(keys[0].id, set()) if keys else set()
        has_access = user.id in newest
        members = db.session.scalars(
            select(User).where(User.id.in_(colleague_ids(user))).order_by(User.name, User.id)
        ).all()
        colleagues = [ColleagueStatus(m, fingerprint(m.public_key), m.id in newest) for m in members]
        pending = list(
            db.session.scalars(
                select(User).where(User.id.in_(pending_member_ids(user))).order_by(User.created_dt, User.id)
            )
        )
    return KeyStatus(
        has_keys=user.public_key is not None,
        unlocked=unlocked,
        fingerprint=fingerprint(user.public_key),
        organisation_has_key=organisation_has_key,
        has_access=has_access,
        versions=versions,
        colleagues=colleagues,
        key_created_dt=user.key_created_dt,
        key_origin=user.key_origin,
        keys_reset_dt=user.keys_reset_dt,
        membership_pending=user.membership_pending,
        pending=pending,
    )
