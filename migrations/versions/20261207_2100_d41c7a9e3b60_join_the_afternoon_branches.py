"""join the afternoon's branches: held jobs, saved mappings, circularity, tiers, audits, figures

Six branches were written side by side from a6c3e1f4d8b2 (circularity's notifications follow its
report tables on the same branch) and touch different tables: held and protected jobs, saved
column mappings, circularity reports, supply tiers and country risk, social audits with the
crosswalk, and figure snapshots. This revision makes them one line again, so that the migrations
after it have a single parent. It changes nothing in the schema.

Revision ID: d41c7a9e3b60
Revises: f6c21823acb2, aaae4d964cbf, 6e2f28cd2182, 7ab3becfe3fb, e9a812c280ef, 33ddb7307185
Create Date: 2026-12-07 21:00:00+00:00
"""

from collections.abc import Sequence

revision: str = "d41c7a9e3b60"
down_revision: str | Sequence[str] | None = (
    "f6c21823acb2",
    "aaae4d964cbf",
    "6e2f28cd2182",
    "7ab3becfe3fb",
    "e9a812c280ef",
    "33ddb7307185",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches are only joined."""


def downgrade() -> None:
    """Nothing to change: the branches are only parted again."""
