"""``flask figures refresh``: recompute the dashboards' figure snapshots now.

``flask jobs worker`` refreshes stale snapshots on its own (see ``reporting.snapshots``); this
command is for cron without a worker, for after a bulk import, and for filling the snapshots of
every organisation before the first dashboards are opened (``--all``).
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from monitoring.core.db import db
from monitoring.reporting import snapshots

figures_cli = AppGroup("figures", help="The effectiveness figures' snapshots read by the dashboards.")


@figures_cli.command("refresh")
@click.option("--stale", is_flag=True, help="Only those older than FIGURES_MAX_AGE_SECONDS.")
@click.option(
    "--all", "everyone", is_flag=True, help="Also store the network's and every organisation's missing ones."
)
def figures_refresh(stale: bool, everyone: bool) -> None:
    """Recompute the stored snapshots (each committed when done)."""
    added = 0
    if everyone:
        for scope, organisation_id in snapshots.missing_scopes():
            snapshots.store(scope, organisation_id)
            db.session.commit()
            added += 1
    refreshed = refresh_snapshots(older_than=None if stale else timedelta(0))
    click.echo(f"refreshed {refreshed} figure snapshots, added {added}")


def refresh_snapshots(older_than: timedelta | None = None, limit: int | None = None) -> int:
    """Recompute the snapshots older than ``older_than`` (FIGURES_MAX_AGE_SECONDS by default), at
    most ``limit``, oldest first, committing each; return how many."""
    done = 0
    for snapshot in snapshots.stale_snapshots(older_than, limit):
        snapshots.refresh(snapshot)
        db.session.commit()
        done += 1
    return done
