"""bound and post-quantum sealing, re-encryption generations

Organisation key versions record their HPKE suite (rows so far: X25519; new versions use the
ML-KEM-768 + X25519 hybrid). Reports and messages record whether their sealed keys are bound
to their own row (2) or in the older form (1, every existing row, until re-wrapped), and
reports the key version under which their data key was made (existing rows: their
organisation's oldest version, so that any rotation since offers their re-encryption).

Raw keys and sealed blobs live in LargeBinary columns, which are BYTEA and BLOB without a
length limit on PostgreSQL and SQLite: the larger hybrid keys need no change of type.

Revision ID: a6ecc3857968
Revises: f1e731bb2c97
Create Date: 2026-12-07 15:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a6ecc3857968"
down_revision: str | None = "f1e731bb2c97"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisation_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("algorithm", sa.String(length=15), nullable=True))
    op.execute("UPDATE organisation_key SET algorithm = 'x25519'")
    with op.batch_alter_table("organisation_key", schema=None) as batch_op:
        batch_op.alter_column("algorithm", existing_type=sa.String(length=15), nullable=False)
        batch_op.create_check_constraint("algorithm", "algorithm IN ('x25519', 'mlkem768-x25519')")

    with op.batch_alter_table("worker_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_binding", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("data_key_generation", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE worker_report SET key_binding = 1, data_key_generation = COALESCE("
        "(SELECT MIN(organisation_key.version) FROM organisation_key "
        "WHERE organisation_key.organisation_id = worker_report.organisation_id), 1)"
    )
    with op.batch_alter_table("worker_report", schema=None) as batch_op:
        batch_op.alter_column("key_binding", existing_type=sa.SmallInteger(), nullable=False)
        batch_op.alter_column("data_key_generation", existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint("key_binding_known", "key_binding IN (1, 2)")

    with op.batch_alter_table("report_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_binding", sa.SmallInteger(), nullable=True))
    op.execute("UPDATE report_message SET key_binding = 1")
    with op.batch_alter_table("report_message", schema=None) as batch_op:
        batch_op.alter_column("key_binding", existing_type=sa.SmallInteger(), nullable=False)
        batch_op.create_check_constraint("key_binding_known", "key_binding IN (1, 2)")


def downgrade() -> None:
    # The older code opens only X25519 versions and unbound keys: re-wrap to such a version
    # before going back, or the hybrid-sealed and bound rows stay unreadable to it.
    with op.batch_alter_table("report_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_report_message_key_binding_known"), type_="check")
        batch_op.drop_column("key_binding")
    with op.batch_alter_table("worker_report", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_worker_report_key_binding_known"), type_="check")
        batch_op.drop_column("data_key_generation")
        batch_op.drop_column("key_binding")
    with op.batch_alter_table("organisation_key", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_organisation_key_algorithm"), type_="check")
        batch_op.drop_column("algorithm")
