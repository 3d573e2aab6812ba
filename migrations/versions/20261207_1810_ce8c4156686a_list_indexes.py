"""list indexes: each list's order and the monitor home's deadline counts without a scan

The monitor's report list (newest first within the organisation), the findings, case,
corrective action, site, contract and disclosure lists (their keyset order), and the two
deadline counts of the monitor's home page (not acknowledged / no feedback yet, by due date).

Revision ID: ce8c4156686a
Revises: e8516d463dc0
Create Date: 2026-12-07 18:10:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ce8c4156686a"
down_revision: str | None = "e8516d463dc0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_worker_report_org_created", "worker_report", ("organisation_id", "created_dt", "id")),
    (
        "ix_worker_report_org_ack_due",
        "worker_report",
        ("organisation_id", "acknowledged_dt", "acknowledge_due_dt"),
    ),
    (
        "ix_worker_report_org_feedback_due",
        "worker_report",
        ("organisation_id", "feedback_dt", "feedback_due_dt"),
    ),
    ("ix_finding_created", "finding", ("created_dt", "id")),
    ("ix_remediation_case_opened", "remediation_case", ("opened_dt", "id")),
    ("ix_corrective_action_requested", "corrective_action", ("requested_dt", "id")),
    ("ix_corrective_action_state_changed", "corrective_action", ("state_changed_dt", "id")),
    ("ix_site_name", "site", ("name", "id")),
    ("ix_contract_start", "contract", ("start_date", "id")),
    ("ix_disclosure_disclosed", "disclosure", ("disclosed_dt", "id")),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns))


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
