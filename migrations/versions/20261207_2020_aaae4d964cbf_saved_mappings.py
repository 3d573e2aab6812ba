"""saved mappings: named column mappings an organisation keeps for the next file of the same form

Revision ID: aaae4d964cbf
Revises: a6c3e1f4d8b2
Create Date: 2026-12-07 20:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "aaae4d964cbf"
down_revision: str | None = "a6c3e1f4d8b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_saved_mapping_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_saved_mapping_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_mapping")),
        sa.UniqueConstraint(
            "organisation_id", "kind", "name", name=op.f("uq_saved_mapping_organisation_id_kind_name")
        ),
    )
    op.create_index(
        op.f("ix_saved_mapping_organisation_id"), "saved_mapping", ["organisation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_saved_mapping_organisation_id"), table_name="saved_mapping")
    op.drop_table("saved_mapping")
