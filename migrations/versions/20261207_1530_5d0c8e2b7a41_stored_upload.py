"""stored upload: objects recorded before they are written to the file store

Revision ID: 5d0c8e2b7a41
Revises: a6ecc3857968
Create Date: 2026-12-07 15:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import monitoring.core.types

revision: str = '5d0c8e2b7a41'
down_revision: str | None = "a6ecc3857968"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stored_upload',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('started_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_stored_upload'))
    )
    with op.batch_alter_table('stored_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_upload_started_dt'), ['started_dt'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stored_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_upload_started_dt'))

    op.drop_table('stored_upload')
