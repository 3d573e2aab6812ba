"""routing consent and worker privacy

Organisation names get a unique confusables skeleton (no look-alike organisations); changes of
who receives a country's reports wait for consent (``coverage_change``) and are notified
(notification kind ``coverage_change``); rate-limit counters are keyed under a random key per
window (``throttle_window_key``), deleted with them.

Revision ID: f1e731bb2c97
Revises: c232c450a01c
Create Date: 2026-12-07 14:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "f1e731bb2c97"
down_revision: str | None = "c232c450a01c"
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
]
NEW_KINDS = ["coverage_change"]


def _kind_check(kinds: list[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _set_notification_kinds(kinds: list[str]) -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_kind"), _kind_check(kinds))


def _backfill_name_skeletons() -> None:
    from monitoring.core.names import name_skeleton

    connection = op.get_bind()
    organisation = sa.table(
        "organisation", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("name_skeleton")
    )
    seen: dict[str, str] = {}
    for org_id, name in connection.execute(sa.select(organisation.c.id, organisation.c.name)).all():
        skeleton = name_skeleton(name)
        if skeleton in seen:
            raise RuntimeError(
                f"the organisations {seen[skeleton]!r} and {name!r} look alike; rename one of them "
                "(after checking which is genuine) and upgrade again"
            )
        seen[skeleton] = name
        connection.execute(
            organisation.update().where(organisation.c.id == org_id).values(name_skeleton=skeleton)
        )


def upgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_skeleton", sa.String(length=64), nullable=True))
    _backfill_name_skeletons()
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.alter_column("name_skeleton", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_organisation_name_skeleton"), ["name_skeleton"])

    op.create_table(
        "coverage_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=2), nullable=False),
        sa.Column("from_organisation_id", sa.Integer(), nullable=True),
        sa.Column("to_organisation_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "confirmed",
                "objected",
                "applied",
                "cancelled",
                name="state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("effective_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("applied_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(state = 'pending') = (decided_dt IS NULL)", name=op.f("ck_coverage_change_decided_dt_unless_pending")
        ),
        sa.CheckConstraint(
            "(state IN ('confirmed', 'applied')) = (applied_dt IS NOT NULL)",
            name=op.f("ck_coverage_change_applied_dt_if_in_force"),
        ),
        sa.CheckConstraint(
            "scope = '*' OR length(scope) = 2", name=op.f("ck_coverage_change_scope_country_or_fallback")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user_account.id"], name=op.f("fk_coverage_change_decided_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["from_organisation_id"],
            ["organisation.id"],
            name=op.f("fk_coverage_change_from_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["user_account.id"], name=op.f("fk_coverage_change_requested_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["to_organisation_id"],
            ["organisation.id"],
            name=op.f("fk_coverage_change_to_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_change")),
    )
    with op.batch_alter_table("coverage_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coverage_change_effective_dt"), ["effective_dt"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_coverage_change_from_organisation_id"), ["from_organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_coverage_change_to_organisation_id"), ["to_organisation_id"], unique=False
        )
        batch_op.create_index(
            "uq_coverage_change_pending_scope",
            ["scope"],
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )

    _set_notification_kinds(NOTIFICATION_KINDS + NEW_KINDS)

    # Counters of the old scheme (keys derived from SECRET_KEY) are dropped: they only ever
    # hold the current windows' counts, and must not outlive the move.
    op.execute(sa.text("DELETE FROM throttle_counter"))
    op.create_table(
        "throttle_window_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("window_start", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("key", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_window_key")),
        sa.UniqueConstraint("scope", "window_start", name=op.f("uq_throttle_window_key_scope_window_start")),
    )
    with op.batch_alter_table("throttle_window_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_throttle_window_key_window_end"), ["window_end"], unique=False)
    with op.batch_alter_table("throttle_counter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("window_key_id", sa.Integer(), nullable=False))
        batch_op.create_index(batch_op.f("ix_throttle_counter_window_key_id"), ["window_key_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_throttle_counter_window_key_id_throttle_window_key"),
            "throttle_window_key",
            ["window_key_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM throttle_counter"))
    with op.batch_alter_table("throttle_counter", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_throttle_counter_window_key_id_throttle_window_key"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_throttle_counter_window_key_id"))
        batch_op.drop_column("window_key_id")
    with op.batch_alter_table("throttle_window_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_throttle_window_key_window_end"))
    op.drop_table("throttle_window_key")

    op.execute(sa.text("DELETE FROM notification WHERE kind IN ('coverage_change')"))
    _set_notification_kinds(NOTIFICATION_KINDS)

    with op.batch_alter_table("coverage_change", schema=None) as batch_op:
        batch_op.drop_index("uq_coverage_change_pending_scope")
        batch_op.drop_index(batch_op.f("ix_coverage_change_to_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_coverage_change_from_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_coverage_change_effective_dt"))
    op.drop_table("coverage_change")

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_organisation_name_skeleton"), type_="unique")
        batch_op.drop_column("name_skeleton")

