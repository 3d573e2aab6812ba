"""worker outcomes: released statuses, validation questions, validated closure

A case's monitor releases short statuses from a fixed list to the workers whose reports the
case rests on (``case_status_release``); validation questions put to a report's worker through
the receipt channel, or answered in a survey import, and their answers
(``validation_request``); a priority case's closure records how many validation answers it had
and, when there were none, why the workers could not be asked (``case_closure``).

Revision ID: e8516d463dc0
Revises: 71c24e1d523c
Create Date: 2026-12-07 17:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.crypto
import monitoring.core.types

revision: str = "e8516d463dc0"
down_revision: str | None = "71c24e1d523c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORKER_STATUSES = (
    "looking_into",
    "company_told",
    "plan_agreed",
    "checking_fix",
    "closed_fixed",
    "closed_fees_repaid",
    "closed_documents_returned",
    "closed_wages_paid",
    "closed_partly_fixed",
    "closed_not_fixed",
)
QUESTIONS = (
    "problem_fixed",
    "fee_repaid",
    "passport_returned",
    "free_to_leave",
    "wages_paid",
    "hours_fixed",
    "danger_fixed",
    "job_back",
    "safe_to_speak",
)


def _enum(name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(
        *values, name=name, native_enum=False, create_constraint=True, length=max(len(v) for v in values)
    )


def upgrade() -> None:
    op.create_table(
        "case_status_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("status", _enum("status", WORKER_STATUSES), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("released_by_id", sa.Integer(), nullable=False),
        sa.Column("released_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(withdrawn_dt IS NULL) = (withdrawn_by_id IS NULL)",
            name=op.f("ck_case_status_release_withdrawn_by_and_dt"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["remediation_case.id"], name=op.f("fk_case_status_release_case_id_remediation_case")
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"],
            ["user_account.id"],
            name=op.f("fk_case_status_release_released_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["worker_report.id"], name=op.f("fk_case_status_release_report_id_worker_report")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"],
            ["user_account.id"],
            name=op.f("fk_case_status_release_withdrawn_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_status_release")),
    )
    with op.batch_alter_table("case_status_release", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_status_release_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_case_status_release_case_withdrawn", ["case_id", "withdrawn_dt"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_status_release_report_id"), ["report_id"], unique=False)

    op.create_table(
        "validation_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("question", _enum("question", QUESTIONS), nullable=False),
        sa.Column("source", _enum("source", ("receipt", "survey")), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("asked_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answer", _enum("answer", ("yes", "no", "partly")), nullable=True),
        sa.Column("answered_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment_message_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "source = 'receipt' OR answer IS NOT NULL", name=op.f("ck_validation_request_survey_answered")
        ),
        sa.CheckConstraint(
            "(answer IS NULL) = (answered_dt IS NULL)",
            name=op.f("ck_validation_request_answered_dt_if_answered"),
        ),
        sa.ForeignKeyConstraint(
            ["asked_by_id"], ["user_account.id"], name=op.f("fk_validation_request_asked_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["comment_message_id"],
            ["report_message.id"],
            name=op.f("fk_validation_request_comment_message_id_report_message"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["worker_report.id"],
            name=op.f("fk_validation_request_report_id_worker_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_request")),
    )
    with op.batch_alter_table("validation_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_validation_request_report_id"), ["report_id"], unique=False)
        batch_op.create_index(
            "uq_validation_request_open",
            ["report_id", "question"],
            unique=True,
            sqlite_where=sa.text("answer IS NULL"),
            postgresql_where=sa.text("answer IS NULL"),
        )

    with op.batch_alter_table("case_closure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("validation_answers", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("no_validation_reason_ct", monitoring.core.crypto.ProtectedBytes(), nullable=True)
        )
        batch_op.create_check_constraint(
            op.f("ck_case_closure_validation_answers_not_negative"),
            "validation_answers IS NULL OR validation_answers >= 0",
        )


def downgrade() -> None:
    with op.batch_alter_table("case_closure", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_case_closure_validation_answers_not_negative"), type_="check")
        batch_op.drop_column("no_validation_reason_ct")
        batch_op.drop_column("validation_answers")
    with op.batch_alter_table("validation_request", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_validation_request_open",
            sqlite_where=sa.text("answer IS NULL"),
            postgresql_where=sa.text("answer IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_validation_request_report_id"))
    op.drop_table("validation_request")
    with op.batch_alter_table("case_status_release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_status_release_report_id"))
        batch_op.drop_index("ix_case_status_release_case_withdrawn")
        batch_op.drop_index(batch_op.f("ix_case_status_release_case_id"))
    op.drop_table("case_status_release")
