"""The recovery code of an organisation's key: its format, and regaining access with it."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

from flask import session
from flask_babel import lazy_gettext as _l

from monitoring.accounts.key_material import NoKeyAccess, _forget_cached, _recovery_context, require_own_key
from monitoring.accounts.key_unlock import _session_get, _session_put
from monitoring.accounts.models import (
    Organisation,
    OrganisationKey,
    User,
)
from monitoring.accounts.organisation_keys import _grant, _refuse_pending, organisation_keys
from monitoring.accounts.permissions import is_key_member
from monitoring.accounts.recovery_code import (
    _recovery_private_for,
    _recovery_private_key,
    parse_recovery_code,
)
from monitoring.core import audit, crypto
from monitoring.core.crypto import DecryptionError
from monitoring.core.db import db
from monitoring.core.operations import OperationError

logger = logging.getLogger(__name__)

# Where a recovery code awaiting confirmation lives in the session.
_SESSION_RECOVERY = "_new_recovery_code"


def recover(user: User, organisation: Organisation, recovery_code: str) -> None:
    """Grant the user every version in use, opened with the organisation's recovery code."""
    if user.organisation_id == organisation.id:
        _refuse_pending(user)
    if not is_key_member(user, organisation.id):
        raise OperationError(_l("Only a monitor of this organisation can use its recovery code."))
    require_own_key(user)
    matches = _versions_of_recovery_code(user, organisation, parse_recovery_code(recovery_code))
    versions = [key for key, _recovery in matches]
    for key, recovery_private in matches:
        _grant(key, user, _open_with_recovery(key, recovery_private), user)
    _forget_cached()
    db.session.flush()
    audit.record(
        "keys.recover",
        f"{user.email} regained access to the key of {organisation.name!r} with the recovery code",
        actor=user,
        obj=user,
        data={"organisation_id": organisation.id, "versions": [k.version for k in versions]},
    )


def _versions_of_recovery_code(
    actor: User | None, organisation: Organisation, secret: bytes
) -> list[tuple[OrganisationKey, bytes]]:
    """The versions in use whose recovery key the code gives, each with that private key."""
    found = []
    for key in organisation_keys(organisation):
        private = _recovery_private_for(secret, key.recovery_public_key)
        if private is not None:
            found.append((key, private))
    if not found:
        logger.warning("user %s entered a recovery code that is not their organisation's", actor and actor.id)
        raise OperationError(
            _l("This is not the recovery code of your organisation's key."), field="recovery_code"
        )
    return found


def _open_with_recovery(key: OrganisationKey, recovery_private: bytes) -> bytes:
    """Open a version's private key with its recovery key; an OperationError if it does not."""
    context = _recovery_context(key.organisation_id, key.version)
    try:
        private = crypto.unseal(recovery_private, key.recovery_wrapped, context=context)
        if not hmac.compare_digest(crypto.public_key_of(private), key.public_key):
            raise DecryptionError()
    except DecryptionError as exc:
        logger.error(
            "version %s of organisation %s does not open with its recovery key", key.id, key.organisation_id
        )
        raise OperationError(_l("The recovery key does not open your organisation's key.")) from exc
    return private


def recovery_opener(organisation: Organisation, recovery_code: str) -> Callable[[OrganisationKey], bytes]:
    """Open the organisation's versions in use with its recovery code (the command line's way).

    Raises OperationError at once if the code is not the organisation's; the function returned
    raises NoKeyAccess for a version the code does not open.
    """
    secret = parse_recovery_code(recovery_code)
    _versions_of_recovery_code(None, organisation, secret)
    opened: dict[int, bytes] = {}

    def open_version(key: OrganisationKey) -> bytes:
        if key.organisation_id != organisation.id or key.retired_dt is not None:
            raise NoKeyAccess()
        if key.id not in opened:
            recovery_private = _recovery_private_for(secret, key.recovery_public_key)
            if recovery_private is None:
                raise NoKeyAccess()
            try:
                opened[key.id] = _open_with_recovery(key, recovery_private)
            except OperationError as exc:
                raise NoKeyAccess() from exc
        return opened[key.id]

    return open_version


def upgrade_recovery_key(actor: User, organisation: Organisation, recovery_code: str) -> list[int]:
    """Seal every version in use to the post-quantum recovery key of the same recovery code.

    Versions made before December 2026 are sealed to an X25519 recovery key, which a quantum
    computer could break from the database alone. The code stays the same: the hybrid recovery
    key is derived from it too. Returns the versions re-sealed.
    """
    if not is_key_member(actor, organisation.id):
        raise OperationError(_l("Only a monitor of this organisation can use its recovery code."))
    secret = parse_recovery_code(recovery_code)
    hybrid_private = _recovery_private_key(secret)
    hybrid_public = crypto.public_key_of(hybrid_private)
    upgraded = []
    for key, recovery_private in _versions_of_recovery_code(actor, organisation, secret):
        if hmac.compare_digest(key.recovery_public_key, hybrid_public):
            continue
        private = _open_with_recovery(key, recovery_private)
        key.recovery_public_key = hybrid_public
        key.recovery_wrapped = crypto.seal(
            hybrid_public, private, context=_recovery_context(organisation.id, key.version)
        )
        upgraded.append(key.version)
    db.session.flush()
    if upgraded:
        audit.record(
            "keys.recovery_upgrade",
            f"{actor.email} sealed versions {upgraded} of the key of {organisation.name!r} to the "
            "post-quantum recovery key",
            actor=actor,
            obj=organisation,
            data={"organisation_id": organisation.id, "versions": upgraded},
        )
    return upgraded


def remember_recovery_code(user: User, code: str) -> None:
    """Keep a new recovery code in the session (encrypted like the key) until it is confirmed."""
    _session_put(_SESSION_RECOVERY, user, code.encode())


def pending_recovery_code(user: User) -> str | None:
    secret = _session_get(_SESSION_RECOVERY, user)
    return secret.decode() if secret is not None else None


def forget_recovery_code() -> None:
    session.pop(_SESSION_RECOVERY, None)
