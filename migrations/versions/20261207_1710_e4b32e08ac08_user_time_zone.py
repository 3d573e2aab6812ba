"""user time zone

Each user reads times in an IANA zone (``Asia/Bangkok``). NULL, the value of every existing
user, means the usual zone of the organisation's country, so nothing needs filling in.

Revision ID: e4b32e08ac08
Revises: e064c9d20247
Create Date: 2026-12-07 17:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e4b32e08ac08"
down_revision: str | None = "e064c9d20247"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("time_zone")
