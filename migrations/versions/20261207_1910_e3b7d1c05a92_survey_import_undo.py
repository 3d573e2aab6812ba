"""survey import undo and site proposals: who undid an import and when; a report's proposed site

``survey_import`` gets ``undone_dt`` and ``undone_by_id``; a report shredded because its import
was undone says so (the erasure_reason CHECK is rebuilt listing every reason). ``worker_report``
gets ``proposed_site_id``: the site fuzzy matching proposes for review.

Revision ID: e3b7d1c05a92
Revises: b5e1d9c3a7f2
Create Date: 2026-12-07 19:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "e3b7d1c05a92"
down_revision: str | None = "b5e1d9c3a7f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_REASONS = ["worker_request", "retention"]
NEW_REASONS = [*OLD_REASONS, "import_undone"]


def _set_reasons(reasons: list[str]) -> None:
    allowed = "erasure_reason IN (" + ", ".join(f"'{reason}'" for reason in reasons) + ")"
    with op.batch_alter_table("worker_report", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_worker_report_erasure_reason"), type_="check")
        batch_op.create_check_constraint(op.f("ck_worker_report_erasure_reason"), allowed)


def upgrade() -> None:
    with op.batch_alter_table("survey_import", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("undone_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("undone_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_survey_import_undone_by_id_user_account"), "user_account", ["undone_by_id"], ["id"]
        )
    _set_reasons(NEW_REASONS)
    with op.batch_alter_table("worker_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposed_site_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_worker_report_proposed_site_id_site"), "site", ["proposed_site_id"], ["id"]
        )


def downgrade() -> None:
    undone = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM worker_report WHERE erasure_reason = 'import_undone'")
    )
    if undone:
        raise RuntimeError(f"{undone} reports were erased by an undone import; the older schema cannot")
    with op.batch_alter_table("worker_report", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_worker_report_proposed_site_id_site"), type_="foreignkey")
        batch_op.drop_column("proposed_site_id")
    _set_reasons(OLD_REASONS)
    with op.batch_alter_table("survey_import", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_survey_import_undone_by_id_user_account"), type_="foreignkey")
        batch_op.drop_column("undone_by_id")
        batch_op.drop_column("undone_dt")
