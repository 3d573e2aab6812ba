"""Snapshots of the effectiveness figures, so that dashboards read them instead of computing them.

One row per scope and breakdown: the network's (coordinators), or one organisation's as a monitor,
an affiliate or a supplier sees it. ``data`` holds the raw figures (counts, medians, shares) of the
whole period; labels and small-cell suppression are applied when a user reads them, as for live
figures. A row with ``breakdown`` "dashboard" holds the rest of a scope's dashboard instead (the
remedy ledger, its totals per kind, the leverage ranking, an affiliate's portfolio; see
``reporting.snapshots``). The jobs worker and ``flask figures refresh`` recompute the stale ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from monitoring.core.db import Base
from monitoring.core.types import UTCDateTime, utcnow
from monitoring.testimony.models import WorkerReport


class FigureSnapshot(Base):
    __tablename__ = "figure_snapshot"
    __table_args__ = (
        UniqueConstraint("scope", "organisation_id", "breakdown"),
        Index("ix_figure_snapshot_computed", "computed_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "network", "monitor", "affiliate" or "supplier" (the role whose view of the data it is)
    scope: Mapped[str] = mapped_column(String(16))
    # 0 for the network (a real organisation's id otherwise); not NULL, so the unique key holds
    organisation_id: Mapped[int] = mapped_column(default=0)
    breakdown: Mapped[str] = mapped_column(String(16))
    computed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


# The coordinator's queue of reports overdue for acknowledgement, across organisations: without
# this index it walks every worker report to count the few unacknowledged ones.
Index(
    "ix_worker_report_ack_due",
    WorkerReport.__table__.c.acknowledged_dt,
    WorkerReport.__table__.c.acknowledge_due_dt,
)
