"""worker alerts, report clocks and keyless routes

Monitors are told of new web reports, survey imports and worker replies, and each has a read
marker per report (``report_read_marker``) for the unread-messages flag of the report list.
The reminders and escalations of the reports' acknowledgement and feedback clocks are recorded
once each (``report_clock_notice``). Coordinators and administrators are told once of a route
to an organisation without a usable key until it is fixed (``keyless_coverage_alert``).

The notification kinds extend those of 9bb3a9338f39.

Revision ID: 1aa29699b1db
Revises: e4b32e08ac08
Create Date: 2026-12-07 17:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "1aa29699b1db"
down_revision: str | None = "e4b32e08ac08"
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
]
NEW_KINDS = [
    "report_received",
    "survey_imported",
    "worker_message",
    "report_clock_reminder",
    "report_clock_overdue",
    "report_clock_escalated",
    "coverage_without_key",
]


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
        "report_read_marker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_message_id", sa.Integer(), nullable=False),
        sa.Column("read_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["worker_report.id"],
            name=op.f("fk_report_read_marker_report_id_worker_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_report_read_marker_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_read_marker")),
        sa.UniqueConstraint("report_id", "user_id", name=op.f("uq_report_read_marker_report_id_user_id")),
    )
    with op.batch_alter_table("report_read_marker", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_read_marker_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_read_marker_user_id"), ["user_id"], unique=False)

    op.create_table(
        "report_clock_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column(
            "clock",
            sa.Enum(
                "acknowledge", "feedback", name="clock", native_enum=False, create_constraint=True, length=11
            ),
            nullable=False,
        ),
        sa.Column(
            "stage",
            sa.Enum(
                "reminder", "escalation", name="stage", native_enum=False, create_constraint=True, length=10
            ),
            nullable=False,
        ),
        sa.Column("due_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["worker_report.id"],
            name=op.f("fk_report_clock_notice_report_id_worker_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_clock_notice")),
        sa.UniqueConstraint(
            "report_id",
            "clock",
            "stage",
            "due_dt",
            name=op.f("uq_report_clock_notice_report_id_clock_stage_due_dt"),
        ),
    )
    with op.batch_alter_table("report_clock_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_clock_notice_report_id"), ["report_id"], unique=False)

    op.create_table(
        "keyless_coverage_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=2), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("raised_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "scope = '*' OR length(scope) = 2",
            name=op.f("ck_keyless_coverage_alert_scope_country_or_fallback"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_keyless_coverage_alert_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keyless_coverage_alert")),
        sa.UniqueConstraint(
            "scope", "organisation_id", name=op.f("uq_keyless_coverage_alert_scope_organisation_id")
        ),
    )
    with op.batch_alter_table("keyless_coverage_alert", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_keyless_coverage_alert_organisation_id"), ["organisation_id"], unique=False
        )

    _set_notification_kinds(NOTIFICATION_KINDS + NEW_KINDS)


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM notification WHERE kind IN ('report_received', 'survey_imported', "
            "'worker_message', 'report_clock_reminder', 'report_clock_overdue', "
            "'report_clock_escalated', 'coverage_without_key')"
        )
    )
    _set_notification_kinds(NOTIFICATION_KINDS)
    with op.batch_alter_table("keyless_coverage_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_keyless_coverage_alert_organisation_id"))
    op.drop_table("keyless_coverage_alert")
    with op.batch_alter_table("report_clock_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_clock_notice_report_id"))
    op.drop_table("report_clock_notice")
    with op.batch_alter_table("report_read_marker", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_read_marker_user_id"))
        batch_op.drop_index(batch_op.f("ix_report_read_marker_report_id"))
    op.drop_table("report_read_marker")
