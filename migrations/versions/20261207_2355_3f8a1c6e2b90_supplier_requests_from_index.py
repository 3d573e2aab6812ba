"""supplier requests from an index: a supplier's counts, requests and list read by index

The index on the action's supplier and state gains the two deadlines and the id, so that a
supplier's home counts and the keys of its requests (sorted by what is due when) are read from
the index alone; a second index on (supplier, requested, id) serves its list of actions, newest
first, without sorting all of the supplier's actions.

Revision ID: 3f8a1c6e2b90
Revises: e5a7c3f9b1d2
Create Date: 2026-12-07 23:55:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3f8a1c6e2b90"
down_revision: str | None = "e5a7c3f9b1d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# (name, table, columns) created by the upgrade.
CREATED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "ix_corrective_action_supplier_due",
        "corrective_action",
        ("supplier_id", "state", "plan_due_date", "closure_due_date", "id"),
    ),
    ("ix_corrective_action_supplier_requested", "corrective_action", ("supplier_id", "requested_dt", "id")),
)
# Replaced by the first of CREATED (the same leading columns), restored by the downgrade.
DROPPED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_corrective_action_supplier_state", "corrective_action", ("supplier_id", "state")),
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
