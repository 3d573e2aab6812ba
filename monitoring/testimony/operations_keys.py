"""Operations on a monitor organisation's key versions: rotate, re-wrap, re-encrypt, recovery key.

They take the actor explicitly (None on the command line, which names the organisation) and
flush; batch work ends each batch through ``end_batch`` (see :mod:`.jobs`, which commits).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from monitoring.accounts.models import KeyAlgorithm, Organisation, User
from monitoring.core import crypto
from monitoring.core.operations import OperationError
from monitoring.testimony import sealing
from monitoring.testimony.permissions import can_manage_organisation_keys

logger = logging.getLogger(__name__)


# --- organisation key versions --------------------------------------------------------------


@dataclass(frozen=True)
class KeyVersions:
    current_version: int | None
    current_algorithm: KeyAlgorithm | None
    to_rewrap: int  # keys still sealed to an older version, or not yet bound to their row
    to_reencrypt: int  # reports whose data key is older than the newest version
    recovery_post_quantum: bool  # every version in use is sealed to a hybrid recovery key
    versions: list[sealing.KeyVersionUsage]


@dataclass(frozen=True)
class RewrapResult:
    rewrapped: int
    retired_versions: list[int]
    state: KeyVersions  # after the run

    @property
    def current_version(self) -> int | None:
        return self.state.current_version

    @property
    def to_rewrap(self) -> int:
        return self.state.to_rewrap

    @property
    def versions(self) -> list[sealing.KeyVersionUsage]:
        return self.state.versions


@dataclass(frozen=True)
class ReencryptResult:
    reencrypted: int  # reports
    messages: int
    files: int
    retired_versions: list[int]
    state: KeyVersions  # after the run

    @property
    def to_reencrypt(self) -> int:
        return self.state.to_reencrypt


@dataclass(frozen=True)
class RecoveryUpgradeResult:
    upgraded_versions: list[int]
    state: KeyVersions


def key_versions(organisation: Organisation) -> KeyVersions:
    from monitoring.accounts import keys

    usage = sealing.key_version_usage(organisation)
    current = keys.current_organisation_key(organisation)
    in_use = [u.key for u in usage if u.key.retired_dt is None]
    return KeyVersions(
        current_version=current.version if current is not None else None,
        current_algorithm=current.algorithm if current is not None else None,
        to_rewrap=sealing.keys_to_rewrap(organisation),
        to_reencrypt=sealing.reports_to_reencrypt(organisation),
        recovery_post_quantum=all(
            crypto.suite_of(k.recovery_public_key) == crypto.SUITE_HYBRID for k in in_use
        ),
        versions=usage,
    )


def _key_manager(actor: User | None, organisation: Organisation | None) -> Organisation:
    """The organisation whose keys the actor manages (the command line names it; actor None)."""
    if actor is None:
        if organisation is None:
            raise OperationError(_l("Name the organisation whose keys to manage."))
        return organisation
    if not can_manage_organisation_keys(actor):
        raise OperationError(_l("Only monitors manage their organisation's keys."))
    return actor.organisation


def rewrap_versions(
    actor: User | None,
    *,
    batch_size: int,
    max_batches: int,
    end_batch: Callable[[], None],
    organisation: Organisation | None = None,
    open_version: sealing.KeyOpener | None = None,
) -> RewrapResult:
    """Move the organisation's sealed keys to its newest version, batch by batch.

    ``end_batch`` ends each batch's transaction (the caller's commit), so an interrupted run
    keeps every finished batch and the next run resumes. Once nothing refers to an older
    version any more, that version is retired (its grants deleted). A monitor's unlocked keys
    open the older versions; on the command line (no actor) ``open_version`` does.
    """
    organisation = _key_manager(actor, organisation)
    total = 0
    for _batch in range(max_batches):
        done = sealing.rewrap_batch(actor, organisation, batch_size=batch_size, open_version=open_version)
        end_batch()
        total += done
        if done < batch_size:
            break
    retired = _retire_unused(actor, organisation, end_batch)
    return RewrapResult(rewrapped=total, retired_versions=retired, state=key_versions(organisation))


def _retire_unused(
    actor: User | None, organisation: Organisation, end_batch: Callable[[], None]
) -> list[int]:
    if sealing.keys_to_rewrap(organisation):
        return []
    retired = sorted(key.version for key in sealing.retire_unused_versions(actor, organisation))
    if retired:
        end_batch()
    return retired


def reencrypt_reports(
    actor: User | None,
    *,
    batch_size: int,
    max_batches: int,
    end_batch: Callable[[], None],
    organisation: Organisation | None = None,
    open_version: sealing.KeyOpener | None = None,
) -> ReencryptResult:
    """Re-encrypt the organisation's older reports under fresh keys, batch by batch.

    Each batch is its own transaction (``end_batch`` commits it); the stored files it replaced
    are deleted after the commit. An interrupted run resumes where it stopped. Versions nothing
    refers to any more are retired at the end.
    """
    from monitoring.core.storage import file_store

    organisation = _key_manager(actor, organisation)
    reports = messages = files = 0
    for _batch in range(max_batches):
        done = sealing.reencrypt_batch(actor, organisation, batch_size=batch_size, open_version=open_version)
        end_batch()
        for name in done.replaced_objects:
            file_store().delete(name)
        reports, messages, files = reports + done.reports, messages + done.messages, files + done.files
        if done.reports < batch_size:
            break
    if not sealing.reports_to_reencrypt(organisation) and sealing.keys_to_rewrap(organisation):
        # Reports moved; messages or files sealed to an older version elsewhere move too.
        rewrap_versions(
            actor,
            batch_size=500,
            max_batches=max_batches,
            end_batch=end_batch,
            organisation=organisation,
            open_version=open_version,
        )
    retired = _retire_unused(actor, organisation, end_batch)
    return ReencryptResult(
        reencrypted=reports,
        messages=messages,
        files=files,
        retired_versions=retired,
        state=key_versions(organisation),
    )


def rotate_key(actor: User | None, *, organisation: Organisation | None = None) -> KeyVersions:
    """Make a new (post-quantum) version of the organisation's key for the members who hold it.

    A monitor must hold the newest version, unlocked: a colleague who is not trusted with the
    key yet cannot churn it. On the command line (no actor) the operator names the organisation.
    """
    from monitoring.accounts import keys

    organisation = _key_manager(actor, organisation)
    current = keys.current_organisation_key(organisation)
    if current is None:
        raise OperationError(_l("Your organisation has no key yet."))
    if actor is not None:
        try:
            keys.organisation_private_key(actor, current)
        except (keys.KeysLocked, keys.NoKeyAccess) as exc:
            kind = "locked" if isinstance(exc, keys.KeysLocked) else "no_access"
            raise sealing.SealedAccessError("organisation key", kind, exc.message) from exc
    keys.rotate_organisation_key(actor, organisation)
    return key_versions(organisation)


def upgrade_recovery_key(actor: User, recovery_code: str) -> RecoveryUpgradeResult:
    """Seal every version in use to the post-quantum recovery key of the same code."""
    from monitoring.accounts import keys

    organisation = _key_manager(actor, None)
    upgraded = keys.upgrade_recovery_key(actor, organisation, recovery_code)
    return RecoveryUpgradeResult(upgraded_versions=upgraded, state=key_versions(organisation))
