"""member keys and two factor

Revision ID: 6d2a1f3b8c42
Revises: 5c1f0e2a7b31
Create Date: 2026-11-22 10:11:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "6d2a1f3b8c42"
down_revision: str | None = "5c1f0e2a7b31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organisation_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('recovery_public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('recovery_wrapped', sa.LargeBinary(length=256), nullable=False),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('retired_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('retired_dt IS NULL OR retired_dt >= created_dt', name=op.f('ck_organisation_key_retired_after_created')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_organisation_key_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_organisation_key_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_key')),
    sa.UniqueConstraint('organisation_id', 'version', name=op.f('uq_organisation_key_organisation_id_version'))
    )
    with op.batch_alter_table('organisation_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_key_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('organisation_key_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_key_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(length=256), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user_account.id'], name=op.f('fk_organisation_key_grant_granted_by_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_key_id'], ['organisation_key.id'], name=op.f('fk_organisation_key_grant_organisation_key_id_organisation_key'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_organisation_key_grant_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_key_grant')),
    sa.UniqueConstraint('organisation_key_id', 'user_id', name=op.f('uq_organisation_key_grant_organisation_key_id_user_id'))
    )
    with op.batch_alter_table('organisation_key_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_key_grant_organisation_key_id'), ['organisation_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_key_grant_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('private_key_wrapped', sa.LargeBinary(length=256), nullable=True))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_key', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('private_key_wrapped', sa.LargeBinary(length=256), nullable=True))
        batch_op.add_column(sa.Column('totp_secret_ct', sa.LargeBinary(length=256), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('totp_enabled_dt')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret_ct')
        batch_op.drop_column('private_key_wrapped')
        batch_op.drop_column('public_key')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('private_key_wrapped')

    with op.batch_alter_table('organisation_key_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_key_grant_user_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_key_grant_organisation_key_id'))

    op.drop_table('organisation_key_grant')
    with op.batch_alter_table('organisation_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_key_organisation_id'))

    op.drop_table('organisation_key')
