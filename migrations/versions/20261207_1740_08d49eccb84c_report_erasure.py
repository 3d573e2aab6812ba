"""report erasure: crypto-shredded worker reports keep their metadata

An erased report (by its worker, with the receipt, or by the retention job) loses every
wrapped copy of its data key and its sealed columns; ``wrapped_key`` becomes nullable, and
``erased_dt`` / ``erasure_reason`` record when and why, with CHECKs tying them together.

Revision ID: 08d49eccb84c
Revises: e8516d463dc0
Create Date: 2026-12-07 17:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "08d49eccb84c"
down_revision: str | None = "e8516d463dc0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = ("worker_request", "retention")


def upgrade() -> None:
    with op.batch_alter_table("worker_report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("erased_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "erasure_reason",
                sa.Enum(
                    *REASONS, name="erasure_reason", native_enum=False, create_constraint=True, length=14
                ),
                nullable=True,
            )
        )
        batch_op.alter_column("wrapped_key", existing_type=sa.LargeBinary(), nullable=True)
        batch_op.create_check_constraint(
            "erasure_reason_if_erased", "(erased_dt IS NULL) = (erasure_reason IS NULL)"
        )
        batch_op.create_check_constraint(
            "wrapped_key_unless_erased", "(erased_dt IS NULL) = (wrapped_key IS NOT NULL)"
        )
        batch_op.create_check_constraint(
            "nothing_sealed_if_erased",
            "erased_dt IS NULL OR (identity_sealed IS NULL AND testimony_sealed IS NULL"
            " AND workplace_sealed IS NULL AND receipt_lookup IS NULL)",
        )


def downgrade() -> None:
    # An erased report cannot get its data key back, and the older schema has no place for it.
    erased = op.get_bind().scalar(sa.text("SELECT count(*) FROM worker_report WHERE erased_dt IS NOT NULL"))
    if erased:
        raise RuntimeError(f"{erased} worker reports are erased; the older schema cannot hold them")
    with op.batch_alter_table("worker_report", schema=None) as batch_op:
        batch_op.drop_constraint("nothing_sealed_if_erased", type_="check")
        batch_op.drop_constraint("wrapped_key_unless_erased", type_="check")
        batch_op.drop_constraint("erasure_reason_if_erased", type_="check")
        batch_op.drop_constraint("erasure_reason", type_="check")
        batch_op.alter_column("wrapped_key", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("erasure_reason")
        batch_op.drop_column("erased_dt")
