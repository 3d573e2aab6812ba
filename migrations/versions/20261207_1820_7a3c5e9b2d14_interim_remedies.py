"""interim remedies: a remedy recorded on an open case, before it closes

``remedy`` had to hang off a closure. Now exactly one of ``closure_id`` (recorded at closure) and
``case_id`` (an interim remedy, with who recorded it and when) is set.

Revision ID: 7a3c5e9b2d14
Revises: e8516d463dc0
Create Date: 2026-12-07 18:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "7a3c5e9b2d14"
down_revision: str | None = "e8516d463dc0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("remedy", schema=None) as batch_op:
        batch_op.alter_column("closure_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("recorded_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_remedy_case_id"), ["case_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_remedy_case_id_remediation_case"), "remediation_case", ["case_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_remedy_recorded_by_id_user_account"), "user_account", ["recorded_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_remedy_closure_or_case"), "(closure_id IS NULL) <> (case_id IS NULL)"
        )
        batch_op.create_check_constraint(
            op.f("ck_remedy_recorded_dt_if_interim"), "(case_id IS NULL) = (recorded_dt IS NULL)"
        )


def downgrade() -> None:
    # Interim remedies have no closure to hang off: they go with the downgrade.
    op.execute("DELETE FROM remedy WHERE closure_id IS NULL")
    with op.batch_alter_table("remedy", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_remedy_recorded_dt_if_interim"), type_="check")
        batch_op.drop_constraint(op.f("ck_remedy_closure_or_case"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_remedy_recorded_by_id_user_account"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_remedy_case_id_remediation_case"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_remedy_case_id"))
        batch_op.drop_column("recorded_dt")
        batch_op.drop_column("recorded_by_id")
        batch_op.drop_column("case_id")
        batch_op.alter_column("closure_id", existing_type=sa.Integer(), nullable=False)
