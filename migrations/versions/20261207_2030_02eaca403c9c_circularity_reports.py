"""circularity reports: per contract, product and year, devices delivered, repaired, taken back, and the sites

Revision ID: 02eaca403c9c
Revises: a6c3e1f4d8b2
Create Date: 2026-12-07 20:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "02eaca403c9c"
down_revision: str | None = "a6c3e1f4d8b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = ("submitted", "confirmed", "queried")
FATES = ("reused", "refurbished", "recycled", "disposed", "unknown")
COUNTS = (
    "delivered",
    "repaired",
    "replaced",
    "accessories_not_bought",
    "second_life_supplied",
    "taken_back",
    "reused",
    "refurbished",
    "recycled",
    "disposed",
    "unknown_fate",
)
FATE_COUNTS = ("reused", "refurbished", "recycled", "disposed", "unknown_fate")


def upgrade() -> None:
    op.create_table(
        "circularity_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(*STATES, name="state", native_enum=False, create_constraint=True, length=9),
            nullable=False,
        ),
        sa.Column("warranty_years", sa.Integer(), nullable=False),
        sa.Column("spare_part_years", sa.Integer(), nullable=False),
        sa.Column("os_update_years", sa.Integer(), nullable=False),
        sa.Column("repairability_info", sa.Text(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("repaired", sa.Integer(), nullable=False),
        sa.Column("repair_median_days", sa.Integer(), nullable=True),
        sa.Column("replaced", sa.Integer(), nullable=False),
        sa.Column("accessories_not_bought", sa.Integer(), nullable=False),
        sa.Column("second_life_supplied", sa.Integer(), nullable=False),
        sa.Column("taken_back", sa.Integer(), nullable=False),
        sa.Column("reused", sa.Integer(), nullable=False),
        sa.Column("refurbished", sa.Integer(), nullable=False),
        sa.Column("recycled", sa.Integer(), nullable=False),
        sa.Column("disposed", sa.Integer(), nullable=False),
        sa.Column("unknown_fate", sa.Integer(), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("query_reason", sa.String(length=2000), nullable=True),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_circularity_report_year_range")),
        sa.CheckConstraint(
            "warranty_years >= 0 AND spare_part_years >= 0 AND os_update_years >= 0",
            name=op.f("ck_circularity_report_years_not_negative"),
        ),
        sa.CheckConstraint(
            " AND ".join(f"{name} >= 0" for name in COUNTS)
            + " AND (repair_median_days IS NULL OR repair_median_days >= 0)",
            name=op.f("ck_circularity_report_counts_not_negative"),
        ),
        sa.CheckConstraint(
            f"{' + '.join(FATE_COUNTS)} <= taken_back",
            name=op.f("ck_circularity_report_fates_within_taken_back"),
        ),
        sa.CheckConstraint(
            "(state = 'queried') = (query_reason IS NOT NULL)",
            name=op.f("ck_circularity_report_reason_iff_queried"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name=op.f("fk_circularity_report_contract_id_contract"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_circularity_report_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["user_account.id"],
            name=op.f("fk_circularity_report_submitted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_circularity_report_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circularity_report")),
        sa.UniqueConstraint(
            "contract_id",
            "product_id",
            "year",
            name=op.f("uq_circularity_report_contract_id_product_id_year"),
        ),
    )
    op.create_index(
        op.f("ix_circularity_report_contract_id"), "circularity_report", ["contract_id"], unique=False
    )
    op.create_index(
        op.f("ix_circularity_report_product_id"), "circularity_report", ["product_id"], unique=False
    )
    op.create_table(
        "circularity_site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column(
            "fate",
            sa.Enum(*FATES, name="fate", native_enum=False, create_constraint=True, length=11),
            nullable=False,
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("count > 0", name=op.f("ck_circularity_site_count_positive")),
        sa.CheckConstraint("fate <> 'unknown'", name=op.f("ck_circularity_site_known_fate")),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["circularity_report.id"],
            name=op.f("fk_circularity_site_report_id_circularity_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_circularity_site_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circularity_site")),
        sa.UniqueConstraint(
            "report_id", "site_id", "fate", name=op.f("uq_circularity_site_report_id_site_id_fate")
        ),
    )
    op.create_index(op.f("ix_circularity_site_site_id"), "circularity_site", ["site_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_circularity_site_site_id"), table_name="circularity_site")
    op.drop_table("circularity_site")
    op.drop_index(op.f("ix_circularity_report_product_id"), table_name="circularity_report")
    op.drop_index(op.f("ix_circularity_report_contract_id"), table_name="circularity_report")
    op.drop_table("circularity_report")
