"""figure snapshots: the dashboards' effectiveness figures, precomputed per scope and breakdown

Also an index for the coordinators' queue of reports overdue for acknowledgement.

Revision ID: 33ddb7307185
Revises: a6c3e1f4d8b2
Create Date: 2026-12-07 21:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "33ddb7307185"
down_revision: str | None = "a6c3e1f4d8b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "figure_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("breakdown", sa.String(length=16), nullable=False),
        sa.Column("computed_dt", monitoring.core.types.UTCDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figure_snapshot")),
        sa.UniqueConstraint(
            "scope",
            "organisation_id",
            "breakdown",
            name=op.f("uq_figure_snapshot_scope_organisation_id_breakdown"),
        ),
    )
    op.create_index("ix_figure_snapshot_computed", "figure_snapshot", ["computed_dt"], unique=False)
    op.create_index(
        "ix_worker_report_ack_due", "worker_report", ["acknowledged_dt", "acknowledge_due_dt"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_worker_report_ack_due", table_name="worker_report")
    op.drop_index("ix_figure_snapshot_computed", table_name="figure_snapshot")
    op.drop_table("figure_snapshot")
