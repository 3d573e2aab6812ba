"""site alternative names and search keys

A site has alternative names (``site_name``: the Chinese name of a Chinese factory, a trading
or former name). The site's name and each alternative name carry a search key: the name folded
by ``monitoring.core.names.search_text`` (NFKC, case-folded, accents and punctuation dropped),
so a search in any script is a ``LIKE`` on both SQLite and PostgreSQL. Existing sites get
their key here.

Revision ID: e064c9d20247
Revises: 9bb3a9338f39
Create Date: 2026-12-07 17:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types
from monitoring.core.names import search_text

revision: str = "e064c9d20247"
down_revision: str | None = "9bb3a9338f39"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_KEY_LENGTH = 600
BATCH = 1000


def _fill_site_keys() -> None:
    """The search key of every existing site, from its name, a thousand at a time."""
    connection = op.get_bind()
    site = sa.table("site", sa.column("id", sa.Integer), sa.column("name"), sa.column("search_key"))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(site.c.id, site.c.name).where(site.c.id > last).order_by(site.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            site.update().where(site.c.id == sa.bindparam("site_id")),
            [{"site_id": row.id, "search_key": search_text(row.name)[:SEARCH_KEY_LENGTH]} for row in rows],
        )
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_key", sa.String(length=SEARCH_KEY_LENGTH), nullable=True))
    _fill_site_keys()
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.alter_column("search_key", existing_type=sa.String(length=SEARCH_KEY_LENGTH), nullable=False)
        batch_op.create_index(batch_op.f("ix_site_search_key"), ["search_key"], unique=False)

    op.create_table(
        "site_name",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("search_key", sa.String(length=SEARCH_KEY_LENGTH), nullable=False),
        sa.Column("name_key", sa.String(length=400), nullable=False),
        sa.Column("created_dt", monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_site_name_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_site_name_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_name")),
        sa.UniqueConstraint("site_id", "search_key", name=op.f("uq_site_name_site_id_search_key")),
    )
    with op.batch_alter_table("site_name", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_name_name_key"), ["name_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_name_search_key"), ["search_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_name_site_id"), ["site_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("site_name", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_name_site_id"))
        batch_op.drop_index(batch_op.f("ix_site_name_search_key"))
        batch_op.drop_index(batch_op.f("ix_site_name_name_key"))
    op.drop_table("site_name")

    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_search_key"))
        batch_op.drop_column("search_key")
