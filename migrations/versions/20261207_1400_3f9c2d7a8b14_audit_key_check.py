"""audit head key check

The audit head remembers an HMAC of a fixed label under the audit key, so that
``flask audit verify`` can tell a wrong MONITORING_AUDIT_KEY from a tampered chain.

Revision ID: 3f9c2d7a8b14
Revises: ed3cf518db93
Create Date: 2026-12-07 14:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f9c2d7a8b14"
down_revision: str | None = "ed3cf518db93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_check", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("key_check")
