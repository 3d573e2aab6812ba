"""member key origin and membership approval

A user's key pair is made only when they set a password of their own: when and how it was made
is recorded (``key_created_dt``, ``key_origin``; keys from before are marked ``legacy``), and
when an administrator's reset last dropped it (``keys_reset_dt``). A monitor sees their
organisation's reports once a member approved them (``membership_approved_dt``/``_by_id``; every
existing user counts as approved). Members are told of a request (notification kind
``membership_requested``).

The notification kinds extend those of f1e731bb2c97 (which comes before this revision).

Revision ID: 9bb3a9338f39
Revises: 5d0c8e2b7a41
Create Date: 2026-12-07 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "9bb3a9338f39"
down_revision: str | None = "5d0c8e2b7a41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_ORIGINS = ["own_password", "after_reset", "replaced", "legacy"]
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
]
NEW_KINDS = ["membership_requested"]


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _set_notification_kinds(kinds: list[str]) -> None:
    """Allow these kinds; the column is as long as the longest (``membership_requested``: 20)."""
    length = max(len(kind) for kind in kinds)
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch_op.alter_column(
            "kind", existing_type=sa.String(), type_=sa.String(length=length), existing_nullable=False
        )
        batch_op.create_check_constraint(op.f("ck_notification_kind"), _in("kind", kinds))


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("key_created_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("key_origin", sa.String(length=12), nullable=True))
        batch_op.add_column(
            sa.Column("keys_reset_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("membership_approved_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("membership_approved_by_id", sa.Integer(), nullable=True))
    # Everyone here before counts as approved; their keys' origin is unknown.
    op.execute("UPDATE user_account SET membership_approved_dt = created_dt")
    op.execute("UPDATE user_account SET key_origin = 'legacy' WHERE public_key IS NOT NULL")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_user_account_membership_approved_by_id_user_account"),
            "user_account",
            ["membership_approved_by_id"],
            ["id"],
        )
        batch_op.create_check_constraint(op.f("ck_user_account_key_origin"), _in("key_origin", KEY_ORIGINS))
        batch_op.create_check_constraint(
            op.f("ck_user_account_key_origin_if_key"), "(public_key IS NULL) = (key_origin IS NULL)"
        )
        batch_op.create_check_constraint(
            op.f("ck_user_account_key_created_dt_if_key"), "key_created_dt IS NULL OR public_key IS NOT NULL"
        )
        batch_op.create_check_constraint(
            op.f("ck_user_account_approved_by_if_approved"),
            "membership_approved_by_id IS NULL OR membership_approved_dt IS NOT NULL",
        )
    _set_notification_kinds(NOTIFICATION_KINDS + NEW_KINDS)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM notification WHERE kind IN ('membership_requested')"))
    _set_notification_kinds(NOTIFICATION_KINDS)
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_account_approved_by_if_approved"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_account_key_created_dt_if_key"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_account_key_origin_if_key"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_account_key_origin"), type_="check")
        batch_op.drop_constraint(
            op.f("fk_user_account_membership_approved_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("membership_approved_by_id")
        batch_op.drop_column("membership_approved_dt")
        batch_op.drop_column("keys_reset_dt")
        batch_op.drop_column("key_origin")
        batch_op.drop_column("key_created_dt")
