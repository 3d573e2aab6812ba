"""case publication: the public status page's opt-in per case

One row per case (``case_publication``): proposed by the lead coordinator, approved by a
monitor of the case's organisation, withdrawn by either; the case is public while approved and
not withdrawn.

Revision ID: c52e28596ee3
Revises: e8516d463dc0
Create Date: 2026-12-07 17:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "c52e28596ee3"
down_revision: str | None = "e8516d463dc0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _user_fk(column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["user_account.id"], name=op.f(f"fk_case_publication_{column}_user_account")
    )


def upgrade() -> None:
    op.create_table(
        "case_publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(approved_dt IS NULL) = (approved_by_id IS NULL)",
            name=op.f("ck_case_publication_approved_by_and_dt"),
        ),
        sa.CheckConstraint(
            "(withdrawn_dt IS NULL) = (withdrawn_by_id IS NULL)",
            name=op.f("ck_case_publication_withdrawn_by_and_dt"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["remediation_case.id"], name=op.f("fk_case_publication_case_id_remediation_case")
        ),
        _user_fk("proposed_by_id"),
        _user_fk("approved_by_id"),
        _user_fk("withdrawn_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_publication")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_publication_case_id")),
    )


def downgrade() -> None:
    op.drop_table("case_publication")
