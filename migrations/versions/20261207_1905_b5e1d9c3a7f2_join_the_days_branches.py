"""join the day's branches: erasure, publication, jobs, list indexes and interim remedies

These five were written side by side from e8516d463dc0 and touch different tables; this revision
makes them one line again, so that the migrations after it have a single parent. It changes
nothing in the schema.

Revision ID: b5e1d9c3a7f2
Revises: 08d49eccb84c, c52e28596ee3, 4b7e2c9a1f30, ce8c4156686a, 7a3c5e9b2d14
Create Date: 2026-12-07 19:05:00+00:00
"""

from collections.abc import Sequence

revision: str = "b5e1d9c3a7f2"
down_revision: str | Sequence[str] | None = (
    "08d49eccb84c",
    "c52e28596ee3",
    "4b7e2c9a1f30",
    "ce8c4156686a",
    "7a3c5e9b2d14",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the branches are only joined."""


def downgrade() -> None:
    """Nothing to change: the branches are only parted again."""
