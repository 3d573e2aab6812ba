"""retaliation watch: check-ins and alerts

Check-ins shown to the worker on the follow-up page after a report and after a linked case
closes (``retaliation_check_in``), and the alerts a "yes" or a worker's flag raises
(``retaliation_alert``), with three notification kinds for them.

The notification kinds extend those of 9bb3a9338f39 and of 1aa29699b1db (worker alerts and
clocks, a sibling of this revision until the branches are chained): whichever of the two runs
last must allow every kind, so this one allows both sets.

Revision ID: 71c24e1d523c
Revises: 1aa29699b1db
Create Date: 2026-12-07 17:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "71c24e1d523c"
down_revision: str | None = "1aa29699b1db"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFICATION_KINDS = [
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
    # 1aa29699b1db (worker alerts and clocks)
    "report_received",
    "survey_imported",
    "worker_message",
    "report_clock_reminder",
    "report_clock_overdue",
    "report_clock_escalated",
    "coverage_without_key",
]
NEW_KINDS = ["retaliation_alert", "retaliation_alert_overdue", "retaliation_alert_escalated"]


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


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(
        *values, name=name, native_enum=False, create_constraint=True, length=max(len(v) for v in values)
    )


def upgrade() -> None:
    op.create_table(
        "retaliation_check_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("series", _enum("series", "report_filed", "case_closed"), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("anchor_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("due_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer", _enum("answer", "yes", "no", "rather_not_say"), nullable=True),
        sa.Column("answered_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(answer IS NULL) = (answered_dt IS NULL)",
            name=op.f("ck_retaliation_check_in_answered_dt_if_answered"),
        ),
        sa.CheckConstraint("days > 0", name=op.f("ck_retaliation_check_in_days_positive")),
        sa.CheckConstraint(
            "(series = 'case_closed') = (case_id IS NOT NULL)",
            name=op.f("ck_retaliation_check_in_case_if_after_closure"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["report_message.id"],
            name=op.f("fk_retaliation_check_in_message_id_report_message"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["worker_report.id"],
            name=op.f("fk_retaliation_check_in_report_id_worker_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retaliation_check_in")),
        sa.UniqueConstraint(
            "report_id", "anchor_dt", "days", name=op.f("uq_retaliation_check_in_report_id_anchor_dt_days")
        ),
    )
    with op.batch_alter_table("retaliation_check_in", schema=None) as batch_op:
        batch_op.create_index("ix_retaliation_check_in_report_due", ["report_id", "due_dt"], unique=False)

    op.create_table(
        "retaliation_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("source", _enum("source", "check_in", "flag"), nullable=False),
        sa.Column("check_in_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("raised_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", _enum("state", "open", "finding_filed", "handled"), nullable=False),
        sa.Column("handled_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("escalated_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state = 'open') = (handled_dt IS NULL)",
            name=op.f("ck_retaliation_alert_handled_dt_unless_open"),
        ),
        sa.CheckConstraint(
            "(state = 'finding_filed') = (finding_id IS NOT NULL)",
            name=op.f("ck_retaliation_alert_finding_if_filed"),
        ),
        sa.ForeignKeyConstraint(
            ["check_in_id"],
            ["retaliation_check_in.id"],
            name=op.f("fk_retaliation_alert_check_in_id_retaliation_check_in"),
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"],
            ["user_account.id"],
            name=op.f("fk_retaliation_alert_handled_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["report_message.id"], name=op.f("fk_retaliation_alert_message_id_report_message")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["worker_report.id"],
            name=op.f("fk_retaliation_alert_report_id_worker_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retaliation_alert")),
    )
    with op.batch_alter_table("retaliation_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retaliation_alert_report_id"), ["report_id"], unique=False)
        batch_op.create_index("ix_retaliation_alert_state_raised", ["state", "raised_dt"], unique=False)

    _set_notification_kinds(NOTIFICATION_KINDS + NEW_KINDS)


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM notification WHERE kind IN "
            "('retaliation_alert', 'retaliation_alert_overdue', 'retaliation_alert_escalated')"
        )
    )
    _set_notification_kinds(NOTIFICATION_KINDS)
    with op.batch_alter_table("retaliation_alert", schema=None) as batch_op:
        batch_op.drop_index("ix_retaliation_alert_state_raised")
        batch_op.drop_index(batch_op.f("ix_retaliation_alert_report_id"))
    op.drop_table("retaliation_alert")
    with op.batch_alter_table("retaliation_check_in", schema=None) as batch_op:
        batch_op.drop_index("ix_retaliation_check_in_report_due")
    op.drop_table("retaliation_check_in")
