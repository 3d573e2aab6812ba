"""social audits: the editable crosswalk (seeded with the code's mapping), imported audits and their findings

Revision ID: e9a812c280ef
Revises: a6c3e1f4d8b2
Create Date: 2026-12-07 20:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.crypto
import monitoring.core.types

revision: str = "e9a812c280ef"
down_revision: str | None = "a6c3e1f4d8b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATEGORIES = (
    "forced_labour",
    "recruitment_fees",
    "retained_documents",
    "student_labour",
    "child_labour",
    "freedom_of_association",
    "discrimination",
    "harassment",
    "wages",
    "working_hours",
    "health_safety",
    "chemicals",
    "dormitory",
    "agency_work",
    "retaliation",
    "other",
)
SEVERITIES = ("priority", "major", "minor")
STATUSES = ("open", "in_progress", "closed")

# The crosswalk as the code held it until now (monitoring.cases.standards): RBA Code 8.0 section,
# standard, worker issue category.
SEED = [
    ("A1", "FL", "forced_labour"),
    ("A1", "FL-1", "recruitment_fees"),
    ("A1", "FL-2", "retained_documents"),
    ("A1", "FL-3", None),
    ("A1", "FL-4", "student_labour"),
    ("A2", "FL-4", None),
    ("A1", "FL-5", None),
    ("A2", "CL", "child_labour"),
    ("A2", "CL-1", None),
    ("A2", "CL-2", None),
    ("A2", "CL-3", None),
    ("A7", "FA", "freedom_of_association"),
    ("A7", "FA-1", None),
    ("A7", "FA-2", None),
    ("A5", "DI", None),
    ("A6", "DI", None),
    ("A6", "DI-1", "discrimination"),
    ("A6", "DI-2", None),
    ("A5", "DI-3", "harassment"),
    ("A4", "WB", "wages"),
    ("A4", "WB-1", None),
    ("A4", "WB-2", None),
    ("A4", "WB-3", None),
    ("A4", "WB-4", None),
    ("A3", "WH", "working_hours"),
    ("A3", "WH-1", None),
    ("A3", "WH-2", None),
    ("A3", "WH-3", None),
    ("B1", "HS", "health_safety"),
    ("B3", "HS", None),
    ("B4", "HS", None),
    ("B8", "HS", None),
    ("B4", "HS-1", "chemicals"),
    ("C3", "HS-1", None),
    ("B1", "HS-2", None),
    ("B8", "HS-2", None),
    ("B2", "HS-3", None),
    ("B6", "HS-4", None),
    ("B7", "HS-5", "dormitory"),
    ("A1", "AG", "agency_work"),
    ("A4", "AG", None),
    ("A1", "AG-1", None),
    ("A4", "AG-1", None),
    ("A1", "AG-2", None),
    ("A4", "AG-2", None),
    ("D8", "GR", None),
    ("E10", "GR", None),
    ("E10", "GR-1", None),
    ("D8", "GR-2", "retaliation"),
]


def upgrade() -> None:
    crosswalk = op.create_table(
        "crosswalk_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rba_section", sa.String(length=8), nullable=True),
        sa.Column("standard", sa.String(length=16), nullable=False),
        sa.Column(
            "issue_category",
            sa.Enum(*CATEGORIES, name="issue_category", native_enum=False, create_constraint=True, length=22),
            nullable=True,
        ),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "rba_section IS NOT NULL OR issue_category IS NOT NULL",
            name=op.f("ck_crosswalk_entry_section_or_category"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user_account.id"], name=op.f("fk_crosswalk_entry_updated_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crosswalk_entry")),
    )
    op.create_index("ix_crosswalk_entry_section", "crosswalk_entry", ["rba_section"], unique=False)
    op.create_index(op.f("ix_crosswalk_entry_standard"), "crosswalk_entry", ["standard"], unique=False)
    op.bulk_insert(
        crosswalk,
        [
            {"rba_section": section, "standard": code, "issue_category": category}
            for section, code, category in SEED
        ],
    )
    op.create_table(
        "social_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("audit_date", sa.Date(), nullable=False),
        sa.Column("firm", sa.String(length=200), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("imported_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by_id"], ["user_account.id"], name=op.f("fk_social_audit_imported_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_social_audit_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_audit")),
    )
    op.create_index("ix_social_audit_site_date", "social_audit", ["site_id", "audit_date"], unique=False)
    op.create_table(
        "social_audit_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("rba_section", sa.String(length=8), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(*SEVERITIES, name="severity", native_enum=False, create_constraint=True, length=8),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="status", native_enum=False, create_constraint=True, length=11),
            nullable=False,
        ),
        sa.Column("text_ct", monitoring.core.crypto.ProtectedBytes(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["social_audit.id"],
            name=op.f("fk_social_audit_finding_audit_id_social_audit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_audit_finding")),
    )
    op.create_index(
        op.f("ix_social_audit_finding_audit_id"), "social_audit_finding", ["audit_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_social_audit_finding_audit_id"), table_name="social_audit_finding")
    op.drop_table("social_audit_finding")
    op.drop_index("ix_social_audit_site_date", table_name="social_audit")
    op.drop_table("social_audit")
    op.drop_index(op.f("ix_crosswalk_entry_standard"), table_name="crosswalk_entry")
    op.drop_index("ix_crosswalk_entry_section", table_name="crosswalk_entry")
    op.drop_table("crosswalk_entry")
