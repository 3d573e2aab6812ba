"""stored buyer sites: the sites each buyer's contracts in force reach, looked up by key

Walking up a buyer's chains on each request grew with the registry (a third of all sites for
the generated buyer at full size); the set is stored per buyer in buyer_site, with
buyer_site_snapshot saying when and for which day.

Revision ID: c4f1b2a9d7e3
Revises: 9335e53ee503
Create Date: 2026-12-07 23:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "c4f1b2a9d7e3"
down_revision: str | None = "9335e53ee503"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "buyer_site",
        sa.Column("affiliate_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["affiliate_id"],
            ["organisation.id"],
            name=op.f("fk_buyer_site_affiliate_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_buyer_site_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("affiliate_id", "site_id", name=op.f("pk_buyer_site")),
    )
    op.create_table(
        "buyer_site_snapshot",
        sa.Column("affiliate_id", sa.Integer(), nullable=False),
        sa.Column("computed_dt", monitoring.core.types.UTCDateTime(), nullable=False),
        sa.Column("computed_for", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["affiliate_id"],
            ["organisation.id"],
            name=op.f("fk_buyer_site_snapshot_affiliate_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("affiliate_id", name=op.f("pk_buyer_site_snapshot")),
    )


def downgrade() -> None:
    op.drop_table("buyer_site_snapshot")
    op.drop_table("buyer_site")
