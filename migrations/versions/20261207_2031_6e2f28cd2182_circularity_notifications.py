"""circularity notifications: the buyer hears of a filed report, the supplier of its decision

The notification kinds ``circularity_report_submitted`` (to the contract's buyer),
``circularity_report_queried`` and ``circularity_report_confirmed`` (to its supplier) are allowed:
the kind CHECK is rebuilt listing every kind.

Revision ID: 6e2f28cd2182
Revises: 02eaca403c9c
Create Date: 2026-12-07 20:31:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6e2f28cd2182"
down_revision: str | None = "02eaca403c9c"
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
    "disclosure_confirmation_overdue",
    "disclosure_confirmation_escalated",
]
NEW_KINDS = ["circularity_report_submitted", "circularity_report_queried", "circularity_report_confirmed"]


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
    _set_notification_kinds(OLD_KINDS + NEW_KINDS)


def downgrade() -> None:
    notification = sa.table("notification", sa.column("kind"))
    op.execute(notification.delete().where(notification.c.kind.in_(NEW_KINDS)))
    _set_notification_kinds(OLD_KINDS)
