"""held and protected jobs: a job may wait for its columns to be confirmed; an upload may be encrypted

The job_state CHECK is rebuilt allowing ``waiting`` (a stored upload no worker takes until it is
released); ``job.file_key_ct`` keeps the key of an encrypted upload, protected by the keyring.

Revision ID: f6c21823acb2
Revises: a6c3e1f4d8b2
Create Date: 2026-12-07 20:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.crypto

revision: str = "f6c21823acb2"
down_revision: str | None = "a6c3e1f4d8b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATES = ["queued", "running", "done", "failed"]
NEW_STATES = ["waiting", *OLD_STATES]


def _set_states(states: list[str]) -> None:
    allowed = "state IN (" + ", ".join(f"'{state}'" for state in states) + ")"
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_job_job_state"), type_="check")
        batch_op.create_check_constraint(op.f("ck_job_job_state"), allowed)


def upgrade() -> None:
    _set_states(NEW_STATES)
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("file_key_ct", monitoring.core.crypto.ProtectedBytes(), nullable=True))


def downgrade() -> None:
    job = sa.table("job", sa.column("state"), sa.column("error"), sa.column("storage_key"))
    # A held job cannot be kept by the older schema: it fails as cancelled (its upload stays
    # for the collector).
    op.execute(
        job.update()
        .where(job.c.state == "waiting")
        .values(state="failed", error='{"cancelled": true}', storage_key=None)
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_column("file_key_ct")
    _set_states(OLD_STATES)
