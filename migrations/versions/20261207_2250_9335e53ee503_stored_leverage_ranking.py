"""stored leverage ranking: every linked site's rank, read a page at a time; a monitor's findings

Ranking every site on each request read all current disclosures (seconds at full size); the
ranking is stored in site_leverage, with leverage_snapshot saying when and for which day.
A monitor's findings list reads its organisation's newest findings from an index
(organisation, created, id), which replaces the one on the organisation alone, and its site
picker looks up each site's findings of the organisation by (site, organisation).

Revision ID: 9335e53ee503
Revises: 512a4f2f3cfc
Create Date: 2026-12-07 22:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "9335e53ee503"
down_revision: str | None = "512a4f2f3cfc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_leverage",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("affiliates", sa.Integer(), nullable=False),
        sa.Column("contracts", sa.Integer(), nullable=False),
        sa.Column("spend_cents", sa.BigInteger(), nullable=False),
        sa.Column("unconverted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_site_leverage_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_site_leverage")),
    )
    op.create_index("ix_site_leverage_rank", "site_leverage", ["rank", "site_id"])
    op.create_table(
        "leverage_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("computed_dt", monitoring.core.types.UTCDateTime(), nullable=False),
        sa.Column("computed_for", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leverage_snapshot")),
    )
    op.create_index("ix_finding_org_created", "finding", ["organisation_id", "created_dt", "id"])
    op.drop_index("ix_finding_organisation_id", table_name="finding")
    op.create_index("ix_finding_site_org", "finding", ["site_id", "organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_finding_site_org", table_name="finding")
    op.create_index("ix_finding_organisation_id", "finding", ["organisation_id"])
    op.drop_index("ix_finding_org_created", table_name="finding")
    op.drop_table("leverage_snapshot")
    op.drop_index("ix_site_leverage_rank", table_name="site_leverage")
    op.drop_table("site_leverage")
