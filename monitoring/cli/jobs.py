"""``flask jobs run``: every due background job once, meant for cron or a systemd timer.

Each job is a transaction of its own, committed when it is done, so one that fails later in
the run does not undo the work of those before it; the run then stops with the error.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError, IntegrityError

from monitoring.cli.audit import write_checkpoint
from monitoring.cli.keys import rewrap_protected
from monitoring.core.db import db

jobs_cli = AppGroup("jobs", help="Background jobs, meant for cron or a systemd timer.")


def _purge_sessions_and_attempts() -> str:
    from monitoring.accounts.devices import purge_expired_devices
    from monitoring.accounts.operations import purge_login_attempts
    from monitoring.core.sessions import purge_expired_sessions

    sessions = purge_expired_sessions(current_app)
    attempts = purge_login_attempts()
    trusted = purge_expired_devices()
    return (
        f"purged {sessions} expired sessions, {attempts} old login attempts "
        f"and {trusted} expired device cookies"
    )


def _purge_throttle_counters() -> str:
    from monitoring.testimony.throttle import purge_throttle_counters

    return f"purged {purge_throttle_counters()} rate-limit counters of ended windows"


def _collect_garbage() -> str:
    from monitoring.core.storage import collect_garbage, file_store

    return collect_garbage(file_store()).summary()


def _rewrap_protected() -> str:
    # Values left under an older key after `flask keys rotate` move on a few batches per run.
    rewrapped = rewrap_protected(batch_size=500, max_batches=10)
    return f"re-encrypted {rewrapped} protected values under the active key" if rewrapped else ""


def _routing() -> str:
    # Routing changes whose wait for objections is over take effect (their notices go out below).
    from monitoring.testimony.jobs import run_routing_jobs

    return run_routing_jobs()


def _report_clocks() -> str:
    # Reminders and escalations of the worker reports' clocks, keyless routes (mailed below).
    from monitoring.testimony.jobs import run_clock_jobs

    return run_clock_jobs()


def _retaliation_watch() -> str:
    # Retaliation alerts left unhandled too long go to every member and the coordinators.
    from monitoring.testimony.jobs import run_retaliation_jobs

    return run_retaliation_jobs()


def _retention() -> str:
    # Worker reports whose retention period is over are erased (crypto-shredded).
    from monitoring.testimony.jobs import run_retention_jobs

    return run_retention_jobs()


def _disclosure_confirmations() -> str:
    # Overdue disclosure confirmations: the supplier is told, later the buyer (mailed below).
    from monitoring.notifications.disclosure_jobs import run_disclosure_jobs

    return run_disclosure_jobs()


def _notifications() -> str:
    # Deadline reminders, overdue notices and escalations, then the outbox by e-mail.
    from monitoring.cases.jobs import run_notification_jobs

    return run_notification_jobs().summary()


# In this order; the checkpoint comes last so that it covers this run's audit entries.
JOBS: tuple[Callable[[], str], ...] = (
    _purge_sessions_and_attempts,
    _purge_throttle_counters,
    _collect_garbage,
    _rewrap_protected,
    _routing,
    _report_clocks,
    _retaliation_watch,
    _retention,
    _disclosure_confirmations,
    _notifications,
    write_checkpoint,
)


@jobs_cli.command("run")
def jobs_run() -> None:
    """Run every due job once: purge expired sessions, old login attempts, rate-limit windows and
    the files of abandoned uploads (unknown files are reported, never deleted); move protected
    values to the active key; remind, escalate and send e-mail."""
    for job in JOBS:
        summary = job()
        db.session.commit()
        if summary:
            click.echo(summary)


FIGURE_SNAPSHOTS_PER_TURN = 5


def _refresh_leverage() -> bool:
    """Recompute the stored leverage ranking if it is out of date; commit. A request storing it
    at the same moment wins: the worker leaves it to that one."""
    from monitoring.supplychain import leverage

    try:
        refreshed = leverage.refresh_if_stale()
        db.session.commit()
    except (IntegrityError, DBAPIError):
        db.session.rollback()
        return False
    return refreshed


@jobs_cli.command("worker")
@click.option("--once", is_flag=True, help="Run what is queued now, then stop.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between looks at the queue.")
def jobs_worker(once: bool, interval: float) -> None:
    """Run queued imports (and those of a worker that stopped) one at a time, in batches.

    Between looks at the queue it recomputes the stale figure snapshots of the dashboards.
    Several workers may run side by side on PostgreSQL. Stop it with Ctrl-C or SIGTERM: a job
    it was running is taken over by the next worker, and nothing of it is applied."""
    from monitoring.cli.figures import refresh_snapshots
    from monitoring.core import jobs

    while True:
        for outcome in jobs.work_once():
            click.echo(f"job {outcome.job_id}: {outcome.state.value}")
        # The dashboards' figures older than FIGURES_MAX_AGE_SECONDS, a few per turn so that the
        # queue is not kept waiting long.
        refreshed = refresh_snapshots(limit=FIGURE_SNAPSHOTS_PER_TURN)
        if refreshed:
            click.echo(f"refreshed {refreshed} figure snapshots")
        # The stored leverage ranking, out of date after a change to the supply chains, so that
        # no coordinator waits for it on the next read.
        if _refresh_leverage():
            click.echo("refreshed the leverage ranking")
        if once:
            return
        db.session.remove()
        time.sleep(interval)
