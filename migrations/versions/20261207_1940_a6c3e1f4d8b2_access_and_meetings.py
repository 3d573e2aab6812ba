"""access and meetings: monitors' factory access records, contract follow-up meetings and their actions

Revision ID: a6c3e1f4d8b2
Revises: 9c41e7d2b5a8
Create Date: 2026-12-07 19:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.crypto
import monitoring.core.types

revision: str = "a6c3e1f4d8b2"
down_revision: str | None = "9c41e7d2b5a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = ("granted", "refused", "no_answer")


def upgrade() -> None:
    op.create_table(
        "site_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("requested_of_id", sa.Integer(), nullable=False),
        sa.Column("access_date", sa.Date(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(*OUTCOMES, name="outcome", native_enum=False, create_constraint=True, length=9),
            nullable=False,
        ),
        sa.Column("note_ct", monitoring.core.crypto.ProtectedBytes(), nullable=True),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(outcome = 'refused') = (finding_id IS NOT NULL)",
            name=op.f("ck_site_access_finding_iff_refused"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_site_access_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["finding.id"], name=op.f("fk_site_access_finding_id_finding")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_site_access_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["requested_of_id"], ["organisation.id"], name=op.f("fk_site_access_requested_of_id_organisation")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_site_access_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_access")),
        sa.UniqueConstraint("finding_id", name=op.f("uq_site_access_finding_id")),
    )
    op.create_index(op.f("ix_site_access_organisation_id"), "site_access", ["organisation_id"], unique=False)
    op.create_index(op.f("ix_site_access_requested_of_id"), "site_access", ["requested_of_id"], unique=False)
    op.create_index("ix_site_access_site_date", "site_access", ["site_id", "access_date", "id"], unique=False)
    op.create_table(
        "contract_meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("participants_ct", monitoring.core.crypto.ProtectedBytes(), nullable=False),
        sa.Column("notes_ct", monitoring.core.crypto.ProtectedBytes(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contract.id"],
            name=op.f("fk_contract_meeting_contract_id_contract"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_contract_meeting_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_meeting")),
    )
    op.create_index(
        "ix_contract_meeting_contract_date",
        "contract_meeting",
        ["contract_id", "meeting_date", "id"],
        unique=False,
    )
    op.create_table(
        "meeting_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text_ct", monitoring.core.crypto.ProtectedBytes(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["contract_meeting.id"],
            name=op.f("fk_meeting_action_meeting_id_contract_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_action")),
        sa.UniqueConstraint("meeting_id", "position", name=op.f("uq_meeting_action_meeting_id_position")),
    )


def downgrade() -> None:
    op.drop_table("meeting_action")
    op.drop_index("ix_contract_meeting_contract_date", table_name="contract_meeting")
    op.drop_table("contract_meeting")
    op.drop_index("ix_site_access_site_date", table_name="site_access")
    op.drop_index(op.f("ix_site_access_requested_of_id"), table_name="site_access")
    op.drop_index(op.f("ix_site_access_organisation_id"), table_name="site_access")
    op.drop_table("site_access")
