"""reports export from its index: the worker reports' CSV reads one index, not each report's row

The export of a monitor's worker reports (a million at full size) lists every metadata column in
the list's order; with them all in one index it no longer reads each report's row, sealed columns
and all (on SQLite three times less work per report at 1/10 size).

Revision ID: e5a7c3f9b1d2
Revises: 7b2e9d4c1a86
Create Date: 2026-12-07 23:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e5a7c3f9b1d2"
down_revision: str | None = "7b2e9d4c1a86"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_worker_report_export"
COLUMNS = [
    "organisation_id",
    "created_dt",
    "id",
    "collected_date",
    "channel",
    "status",
    "country",
    "site_id",
]


def upgrade() -> None:
    op.create_index(NAME, "worker_report", COLUMNS)


def downgrade() -> None:
    op.drop_index(NAME, table_name="worker_report")
