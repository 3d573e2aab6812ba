"""Work done in batches, each committed on its own: key re-wraps and re-encryptions, routing
jobs, the reminders and escalations of the reports' clocks.

An interrupted run keeps every finished batch and the next run resumes where it stopped, so
these commit once per batch, wherever they are called from: a key page, the API or the
command line (``flask keys rewrap --organisation``, ``flask keys reencrypt``) and
``flask jobs run``. Nothing else in testimony commits.
"""

from __future__ import annotations

import logging
from datetime import datetime

from monitoring.accounts.models import Organisation, User
from monitoring.core.db import db
from monitoring.core.types import utcnow
from monitoring.testimony import clocks, keyless, operations, operations_retaliation, retention, routing
from monitoring.testimony.sealing import KeyOpener

logger = logging.getLogger(__name__)


def commit_batch() -> None:
    """End one batch's transaction."""
    db.session.commit()


def rewrap_organisation_keys(
    actor: User | None,
    *,
    batch_size: int,
    max_batches: int,
    organisation: Organisation | None = None,
    open_version: KeyOpener | None = None,
) -> operations.RewrapResult:
    """Re-seal the organisation's keys to its newest version, committing each batch.

    A monitor's unlocked keys open the older versions (``actor``); on the command line (actor
    None) the operator names the ``organisation`` and ``open_version`` opens them.
    """
    return operations.rewrap_versions(
        actor,
        batch_size=batch_size,
        max_batches=max_batches,
        end_batch=commit_batch,
        organisation=organisation,
        open_version=open_version,
    )


def reencrypt_organisation_reports(
    actor: User | None,
    *,
    batch_size: int,
    max_batches: int,
    organisation: Organisation | None = None,
    open_version: KeyOpener | None = None,
) -> operations.ReencryptResult:
    """Re-encrypt the organisation's older reports under fresh keys, committing each batch."""
    return operations.reencrypt_reports(
        actor,
        batch_size=batch_size,
        max_batches=max_batches,
        end_batch=commit_batch,
        organisation=organisation,
        open_version=open_version,
    )


def run_routing_jobs(now: datetime | None = None) -> str:
    """The routing step of ``flask jobs run``: apply due changes in batches, each committed."""
    decided = 0
    while batch := routing.apply_due_changes(now):
        decided += batch
        commit_batch()
    return f"routing: {decided} changes of who receives worker reports decided after their wait"


# Reports handled per clock, stage and transaction by the clock step.
CLOCK_BATCH = 200


def run_clock_jobs(now: datetime | None = None) -> str:
    """The testimony step of ``flask jobs run``: remind and escalate the reports' clocks, each
    notice once, in batches each committed; then tell of routes to organisations without a key."""
    now = now or utcnow()
    notices = 0
    while batch := clocks.send_due_notices(now, CLOCK_BATCH):
        notices += batch
        commit_batch()
    warned, cleared = keyless.sweep()
    commit_batch()
    return (
        f"worker reports: {notices} deadline reminders and escalations; "
        f"{warned} routes without a usable key reported, {cleared} fixed"
    )


# Retaliation alerts escalated per transaction by the retaliation step.
RETALIATION_BATCH = 200


def run_retaliation_jobs(now: datetime | None = None) -> str:
    """The retaliation step of ``flask jobs run``: escalate alerts left open too long, each once,
    in batches each committed. (Check-ins need no job: the follow-up page shows the one due.)"""
    now = now or utcnow()
    escalated = 0
    escalate_to: list[User] | None = None
    while True:
        if escalate_to is None:
            escalate_to = clocks.coordinators()
        batch = operations_retaliation.escalate_due_alerts(now, RETALIATION_BATCH, escalate_to)
        if not batch:
            break
        escalated += batch
        commit_batch()
    return f"retaliation watch: {escalated} unhandled alerts escalated"


# Reports looked at per transaction by the retention step.
RETENTION_BATCH = 200


def run_retention_jobs(now: datetime | None = None) -> str:
    """The retention step of ``flask jobs run``: erase (crypto-shred) the reports whose retention
    period is over, never one linked to an open case, in batches each committed."""
    now = now or utcnow()
    erased = 0
    after: int | None = 0
    while after is not None:
        batch, after = retention.erase_due_batch(now, after, RETENTION_BATCH)
        erased += batch
        commit_batch()
    return f"retention: {erased} worker reports erased after their retention period"
