"""background jobs: imports queued for a worker, with their staged rows

``job`` holds an import waiting for or done by ``flask jobs worker`` (its state, owner,
uploaded file, progress and counts); ``job_row`` the rows a running job has checked and not
yet applied. The notification kind ``import_finished`` tells the owner that an import is over
(the kind CHECK is rebuilt listing every kind, those of 71c24e1d523c and this one).

Revision ID: 4b7e2c9a1f30
Revises: e8516d463dc0
Create Date: 2026-12-07 18:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "4b7e2c9a1f30"
down_revision: str | None = "e8516d463dc0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = [
    "case_opened",
    "case_state_changed",
    "case_closed",
    "case_reopened",
    "action_requested",
    "plan_submitted",
    "plan_accepted",
    "plan_rejected",
    "action_implemented",
    "action_verified",
    "action_not_verified",
    "action_closed",
    "message_posted",
    "deadline_changed",
    "deadline_reminder",
    "deadline_overdue",
    "action_escalated",
    "coverage_change",
    "membership_requested",
    "report_received",
    "survey_imported",
    "worker_message",
    "report_clock_reminder",
    "report_clock_overdue",
    "report_clock_escalated",
    "coverage_without_key",
    "retaliation_alert",
    "retaliation_alert_overdue",
    "retaliation_alert_escalated",
]
NEW_KINDS = ["import_finished"]


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _set_notification_kinds(kinds: list[str]) -> None:
    """Allow these kinds; the column is as long as the longest."""
    length = max(len(kind) for kind in kinds)
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch_op.alter_column(
            "kind", existing_type=sa.String(), type_=sa.String(length=length), existing_nullable=False
        )
        batch_op.create_check_constraint(op.f("ck_notification_kind"), _in("kind", kinds))


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="job_state",
                native_enum=False,
                create_constraint=True,
                length=7,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("created_dt", monitoring.core.types.UTCDateTime(), nullable=False),
        sa.Column("started_dt", monitoring.core.types.UTCDateTime(), nullable=True),
        sa.Column("finished_dt", monitoring.core.types.UTCDateTime(), nullable=True),
        sa.Column("heartbeat_dt", monitoring.core.types.UTCDateTime(), nullable=True),
        sa.Column("bytes_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_job_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_job_owner_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_state"), ["state"], unique=False)

    op.create_table(
        "job_row",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_job_row_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "line", name=op.f("pk_job_row")),
    )
    _set_notification_kinds(OLD_KINDS + NEW_KINDS)


def downgrade() -> None:
    notification = sa.table("notification", sa.column("kind"))
    op.execute(notification.delete().where(notification.c.kind.in_(NEW_KINDS)))
    _set_notification_kinds(OLD_KINDS)
    op.drop_table("job_row")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_state"))
        batch_op.drop_index(batch_op.f("ix_job_owner_id"))
    op.drop_table("job")
