"""supply tiers and country risk: a disclosure names the site its part goes to

``disclosure`` gains ``supplies_site_id`` (so chains component → sub-assembly → assembly are
held), ``value_share`` (the part's share of the product's value, percent) and
``units_per_product``. The new table ``country_risk`` holds the coordinators' risk level (1 to 5)
and source note per country.

Revision ID: 7ab3becfe3fb
Revises: a6c3e1f4d8b2
Create Date: 2026-12-07 20:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "7ab3becfe3fb"
down_revision: str | None = "a6c3e1f4d8b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "country_risk",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("updated_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "length(country) = 2 AND country = upper(country)",
            name=op.f("ck_country_risk_country_iso_alpha2"),
        ),
        sa.CheckConstraint("level >= 1 AND level <= 5", name=op.f("ck_country_risk_level_range")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user_account.id"], name=op.f("fk_country_risk_updated_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("country", name=op.f("pk_country_risk")),
    )
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supplies_site_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("value_share", sa.Numeric(precision=5, scale=2), nullable=True))
        batch_op.add_column(sa.Column("units_per_product", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_disclosure_supplies_site_id"), ["supplies_site_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_disclosure_supplies_site_id_site"), "site", ["supplies_site_id"], ["id"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_disclosure_supplies_another_site"),
            "supplies_site_id IS NULL OR supplies_site_id <> site_id",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_disclosure_value_share_percent"),
            "value_share IS NULL OR (value_share > 0 AND value_share <= 100)",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_disclosure_units_positive"), "units_per_product IS NULL OR units_per_product > 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_disclosure_units_positive"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_disclosure_value_share_percent"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_disclosure_supplies_another_site"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_disclosure_supplies_site_id_site"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_disclosure_supplies_site_id"))
        batch_op.drop_column("units_per_product")
        batch_op.drop_column("value_share")
        batch_op.drop_column("supplies_site_id")
    op.drop_table("country_risk")
