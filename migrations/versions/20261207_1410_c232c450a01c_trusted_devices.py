"""trusted devices: device cookies that keep their own allowance of failed logins

Revision ID: c232c450a01c
Revises: 3f9c2d7a8b14
Create Date: 2026-12-07 14:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "c232c450a01c"
down_revision: str | None = "3f9c2d7a8b14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trusted_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("created_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_trusted_device_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_device")),
        sa.UniqueConstraint("nonce_hash", name=op.f("uq_trusted_device_nonce_hash")),
    )
    with op.batch_alter_table("trusted_device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trusted_device_created_dt"), ["created_dt"], unique=False)
        batch_op.create_index(batch_op.f("ix_trusted_device_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trusted_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trusted_device_user_id"))
        batch_op.drop_index(batch_op.f("ix_trusted_device_created_dt"))
    op.drop_table("trusted_device")
