"""clause compliance: the clauses a finding breaches, and statuses set by hand per clause and year

Revision ID: 5d2a8c41b7e9
Revises: e3b7d1c05a92
Create Date: 2026-12-07 19:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.crypto
import monitoring.core.types

revision: str = "5d2a8c41b7e9"
down_revision: str | None = "e3b7d1c05a92"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("met", "due_diligence", "breached", "not_assessed")


def upgrade() -> None:
    op.create_table(
        "finding_clause_choice",
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("set_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["finding.id"],
            name=op.f("fk_finding_clause_choice_finding_id_finding"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["user_account.id"], name=op.f("fk_finding_clause_choice_set_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("finding_id", name=op.f("pk_finding_clause_choice")),
    )
    op.create_table(
        "finding_clause",
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clause_id"],
            ["contract_clause.id"],
            name=op.f("fk_finding_clause_clause_id_contract_clause"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["finding.id"],
            name=op.f("fk_finding_clause_finding_id_finding"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("finding_id", "clause_id", name=op.f("pk_finding_clause")),
    )
    op.create_index(op.f("ix_finding_clause_clause_id"), "finding_clause", ["clause_id"], unique=False)
    op.create_table(
        "clause_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="status", native_enum=False, create_constraint=True, length=13),
            nullable=False,
        ),
        sa.Column("reason_ct", monitoring.core.crypto.ProtectedBytes(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("set_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("year >= 2000 AND year <= 2100", name=op.f("ck_clause_assessment_year_range")),
        sa.ForeignKeyConstraint(
            ["clause_id"],
            ["contract_clause.id"],
            name=op.f("fk_clause_assessment_clause_id_contract_clause"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["user_account.id"], name=op.f("fk_clause_assessment_set_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clause_assessment")),
    )
    op.create_index(
        "ix_clause_assessment_clause_year", "clause_assessment", ["clause_id", "year", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_clause_assessment_clause_year", table_name="clause_assessment")
    op.drop_table("clause_assessment")
    op.drop_index(op.f("ix_finding_clause_clause_id"), table_name="finding_clause")
    op.drop_table("finding_clause")
    op.drop_table("finding_clause_choice")
