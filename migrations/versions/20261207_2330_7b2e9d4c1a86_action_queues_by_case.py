"""action queues by case: a monitor's dashboard counts its cases' actions from an index

The index on the action's case gains its state and closure date, so that the plans awaiting a
decision, the verifications due and the overdue actions of a monitor organisation's cases are
counted from the index alone instead of each action's row.

Revision ID: 7b2e9d4c1a86
Revises: c4f1b2a9d7e3
Create Date: 2026-12-07 23:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7b2e9d4c1a86"
down_revision: str | None = "c4f1b2a9d7e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns) created by the upgrade.
CREATED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_corrective_action_case_state", "corrective_action", ("case_id", "state", "closure_due_date")),
)
# Replaced by one of CREATED (the same leading column), restored by the downgrade.
DROPPED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_corrective_action_case_id", "corrective_action", ("case_id",)),
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
