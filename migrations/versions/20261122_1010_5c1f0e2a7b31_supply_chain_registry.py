"""supply chain registry

Revision ID: 5c1f0e2a7b31
Revises: a90b449aeace
Create Date: 2026-11-22 10:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "5c1f0e2a7b31"
down_revision: str | None = "a90b449aeace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('currency_rate',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('eur_per_unit', sa.Numeric(precision=18, scale=8), nullable=False),
    sa.Column('updated_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('eur_per_unit > 0', name=op.f('ck_currency_rate_rate_positive')),
    sa.CheckConstraint('length(currency) = 3 AND currency = upper(currency)', name=op.f('ck_currency_rate_currency_iso')),
    sa.PrimaryKeyConstraint('currency', name=op.f('pk_currency_rate'))
    )
    op.create_table('site',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('city', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('os_id', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.Enum('final_assembly', 'component', 'recycling', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('workers_approx', sa.Integer(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('match_key', sa.String(length=900), nullable=False),
    sa.Column('name_key', sa.String(length=400), nullable=False),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('merged_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(latitude IS NULL) = (longitude IS NULL)', name=op.f('ck_site_coordinates_paired')),
    sa.CheckConstraint('(merged_into_id IS NULL) = (merged_dt IS NULL)', name=op.f('ck_site_merged_dt_if_merged')),
    sa.CheckConstraint('latitude IS NULL OR (latitude >= -90 AND latitude <= 90)', name=op.f('ck_site_latitude_range')),
    sa.CheckConstraint('length(country) = 2 AND country = upper(country)', name=op.f('ck_site_country_iso_alpha2')),
    sa.CheckConstraint('longitude IS NULL OR (longitude >= -180 AND longitude <= 180)', name=op.f('ck_site_longitude_range')),
    sa.CheckConstraint('merged_into_id IS NULL OR merged_into_id <> id', name=op.f('ck_site_not_merged_into_self')),
    sa.CheckConstraint('workers_approx IS NULL OR workers_approx >= 0', name=op.f('ck_site_workers_not_negative')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['site.id'], name=op.f('fk_site_merged_into_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site')),
    sa.UniqueConstraint('os_id', name=op.f('uq_site_os_id'))
    )
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.create_index('ix_site_country_kind', ['country', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_site_match_key'), ['match_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_site_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_site_name_key'), ['name_key'], unique=False)

    op.create_table('contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('affiliate_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('annual_spend', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('labour_conditions', sa.Boolean(), nullable=False),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('affiliate_id <> supplier_id', name=op.f('ck_contract_two_parties')),
    sa.CheckConstraint('annual_spend IS NULL OR annual_spend >= 0', name=op.f('ck_contract_spend_not_negative')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_contract_ends_after_start')),
    sa.CheckConstraint('length(currency) = 3 AND currency = upper(currency)', name=op.f('ck_contract_currency_iso')),
    sa.ForeignKeyConstraint(['affiliate_id'], ['organisation.id'], name=op.f('fk_contract_affiliate_id_organisation')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisation.id'], name=op.f('fk_contract_supplier_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract')),
    sa.UniqueConstraint('affiliate_id', 'reference', name=op.f('uq_contract_affiliate_id_reference'))
    )
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_affiliate_id'), ['affiliate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('contract_clause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('labour_standards', 'monitoring', 'remediation', 'disclosure', 'circularity', 'other', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_clause_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_clause')),
    sa.UniqueConstraint('contract_id', 'position', name=op.f('uq_contract_clause_contract_id_position'))
    )
    with op.batch_alter_table('contract_clause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_clause_contract_id'), ['contract_id'], unique=False)

    op.create_table('product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand', sa.String(length=200), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('brand_key', sa.String(length=200), nullable=False),
    sa.Column('model_key', sa.String(length=200), nullable=False),
    sa.Column('category', sa.Enum('smartphone', 'laptop', 'tablet', 'desktop', 'server', 'printer', 'audio_visual', 'other', name='category', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_product_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product')),
    sa.UniqueConstraint('brand_key', 'model_key', name=op.f('uq_product_brand_key_model_key'))
    )
    op.create_table('site_duplicate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('state', sa.Enum('proposed', 'merged', 'dismissed', name='state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(state = 'proposed') = (decided_dt IS NULL)", name=op.f('ck_site_duplicate_decided_dt_if_decided')),
    sa.CheckConstraint('site_id <> candidate_id', name=op.f('ck_site_duplicate_different_sites')),
    sa.ForeignKeyConstraint(['candidate_id'], ['site.id'], name=op.f('fk_site_duplicate_candidate_id_site')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_site_duplicate_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_site_duplicate_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_duplicate')),
    sa.UniqueConstraint('site_id', 'candidate_id', name=op.f('uq_site_duplicate_site_id_candidate_id'))
    )
    with op.batch_alter_table('site_duplicate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_duplicate_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_site_duplicate_site_id'), ['site_id'], unique=False)

    op.create_table('contract_product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('added_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity IS NULL OR quantity > 0', name=op.f('ck_contract_product_quantity_positive')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_product_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_contract_product_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_product')),
    sa.UniqueConstraint('contract_id', 'product_id', name=op.f('uq_contract_product_contract_id_product_id'))
    )
    with op.batch_alter_table('contract_product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_product_contract_id'), ['contract_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_product_product_id'), ['product_id'], unique=False)

    op.create_table('disclosure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.Enum('final_assembly', 'battery', 'display', 'printed_circuit_board', 'semiconductor', 'camera_module', 'casing', 'power_supply', 'cable', 'packaging', 'other', name='part', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('disclosed_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('disclosed_by_id', sa.Integer(), nullable=False),
    sa.Column('withdrawn_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(withdrawn_dt IS NULL) = (withdrawn_by_id IS NULL)', name=op.f('ck_disclosure_withdrawn_by_if_withdrawn')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_disclosure_valid_to_after_from')),
    sa.ForeignKeyConstraint(['disclosed_by_id'], ['user_account.id'], name=op.f('fk_disclosure_disclosed_by_id_user_account')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_disclosure_product_id_product')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_disclosure_site_id_site')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisation.id'], name=op.f('fk_disclosure_supplier_id_organisation')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['user_account.id'], name=op.f('fk_disclosure_withdrawn_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure'))
    )
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_site_id'), ['site_id'], unique=False)
        batch_op.create_index('ix_disclosure_site_product', ['site_id', 'product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_supplier_id'), ['supplier_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_supplier_id'))
        batch_op.drop_index('ix_disclosure_site_product')
        batch_op.drop_index(batch_op.f('ix_disclosure_site_id'))
        batch_op.drop_index(batch_op.f('ix_disclosure_product_id'))

    op.drop_table('disclosure')
    with op.batch_alter_table('contract_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_product_product_id'))
        batch_op.drop_index(batch_op.f('ix_contract_product_contract_id'))

    op.drop_table('contract_product')
    with op.batch_alter_table('site_duplicate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_duplicate_site_id'))
        batch_op.drop_index(batch_op.f('ix_site_duplicate_candidate_id'))

    op.drop_table('site_duplicate')
    op.drop_table('product')
    with op.batch_alter_table('contract_clause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_clause_contract_id'))

    op.drop_table('contract_clause')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_contract_affiliate_id'))

    op.drop_table('contract')
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_name_key'))
        batch_op.drop_index(batch_op.f('ix_site_merged_into_id'))
        batch_op.drop_index(batch_op.f('ix_site_match_key'))
        batch_op.drop_index('ix_site_country_kind')

    op.drop_table('site')
    op.drop_table('currency_rate')
