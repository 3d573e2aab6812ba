"""disclosure confirmation: a contract's supplier confirms its disclosure, with a clock

``contract`` gains ``disclosure_confirmed_dt`` (the supplier's last "still true") and the due
dates whose overdue notice and escalation went out (``disclosure_overdue_notified_for``,
``disclosure_escalated_for``). The notification kinds ``disclosure_confirmation_overdue`` and
``disclosure_confirmation_escalated`` tell the supplier, then the buyer (the kind CHECK is
rebuilt listing every kind).

Revision ID: 9c41e7d2b5a8
Revises: 5d2a8c41b7e9
Create Date: 2026-12-07 19:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "9c41e7d2b5a8"
down_revision: str | None = "5d2a8c41b7e9"
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
    "import_finished",
]
NEW_KINDS = ["disclosure_confirmation_overdue", "disclosure_confirmation_escalated"]


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
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "disclosure_confirmed_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("disclosure_overdue_notified_for", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("disclosure_escalated_for", sa.Date(), nullable=True))
    _set_notification_kinds(OLD_KINDS + NEW_KINDS)


def downgrade() -> None:
    notification = sa.table("notification", sa.column("kind"))
    op.execute(notification.delete().where(notification.c.kind.in_(NEW_KINDS)))
    _set_notification_kinds(OLD_KINDS)
    with op.batch_alter_table("contract", schema=None) as batch_op:
        batch_op.drop_column("disclosure_escalated_for")
        batch_op.drop_column("disclosure_overdue_notified_for")
        batch_op.drop_column("disclosure_confirmed_dt")
