"""lists flat as data grows: indexes that let the list and home pages read only what they show

The monitor home's feedback-overdue count reads the report status from its index rather than
each report's row.

Revision ID: 512a4f2f3cfc
Revises: d41c7a9e3b60
Create Date: 2026-12-07 22:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "512a4f2f3cfc"
down_revision: str | None = "d41c7a9e3b60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns) created by the upgrade.
CREATED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "ix_worker_report_org_feedback_open",
        "worker_report",
        ("organisation_id", "feedback_dt", "feedback_due_dt", "status"),
    ),
)
# Replaced by one of CREATED (the same leading columns), restored by the downgrade.
DROPPED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "ix_worker_report_org_feedback_due",
        "worker_report",
        ("organisation_id", "feedback_dt", "feedback_due_dt"),
    ),
)


def upgrade() -> None:
    for name, table, columns in CREATED:
        op.create_index(name, table, list(columns))
    for name, table, _columns in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in DROPPED:
        op.create_index(name, table, list(columns))
    for name, table, _columns in reversed(CREATED):
        op.drop_index(name, table_name=table)
