"""sealed testimony

Revision ID: 7e3b2a4c9d53
Revises: 6d2a1f3b8c42
Create Date: 2026-11-22 10:12:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitoring.core.types

revision: str = "7e3b2a4c9d53"
down_revision: str | None = "6d2a1f3b8c42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('throttle_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('window_start', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_throttle_counter')),
    sa.UniqueConstraint('key', 'window_start', name=op.f('uq_throttle_counter_key_window_start'))
    )
    with op.batch_alter_table('throttle_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_throttle_counter_window_start'), ['window_start'], unique=False)

    op.create_table('monitor_coverage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('is_fallback', sa.Boolean(), nullable=False),
    sa.CheckConstraint('(country IS NULL) = is_fallback', name=op.f('ck_monitor_coverage_fallback_has_no_country')),
    sa.CheckConstraint('country IS NULL OR length(country) = 2', name=op.f('ck_monitor_coverage_country_iso_alpha2')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_monitor_coverage_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_coverage')),
    sa.UniqueConstraint('country', name=op.f('uq_monitor_coverage_country'))
    )
    with op.batch_alter_table('monitor_coverage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitor_coverage_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('uq_monitor_coverage_fallback', ['is_fallback'], unique=True, sqlite_where=sa.text('is_fallback'), postgresql_where=sa.text('is_fallback'))

    op.create_table('survey_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('imported_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['user_account.id'], name=op.f('fk_survey_import_imported_by_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_survey_import_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_survey_import_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_import'))
    )
    with op.batch_alter_table('survey_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_import_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('worker_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('organisation_key_id', sa.Integer(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(length=256), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('channel', sa.Enum('offsite_interview', 'onsite_interview', 'survey', 'hotline', 'web', 'document', name='channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('collected_date', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('consent_share_buyers', sa.Boolean(), nullable=False),
    sa.Column('consent_share_supplier', sa.Boolean(), nullable=False),
    sa.Column('consent_contact', sa.Boolean(), nullable=False),
    sa.Column('retaliation_risk', sa.Enum('low', 'medium', 'high', name='retaliation_risk', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('status', sa.Enum('received', 'acknowledged', 'investigating', 'closed', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('identity_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('testimony_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('workplace_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('survey_import_id', sa.Integer(), nullable=True),
    sa.Column('source_digest', sa.String(length=64), nullable=True),
    sa.Column('receipt_lookup', sa.String(length=64), nullable=True),
    sa.Column('receipt_public_key', sa.LargeBinary(length=32), nullable=True),
    sa.Column('acknowledge_due_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('feedback_due_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('feedback_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'received') = (acknowledged_dt IS NULL)", name=op.f('ck_worker_report_acknowledged_dt_unless_received')),
    sa.CheckConstraint('(receipt_lookup IS NULL) = (receipt_public_key IS NULL)', name=op.f('ck_worker_report_receipt_key_if_receipt')),
    sa.CheckConstraint('country IS NULL OR length(country) = 2', name=op.f('ck_worker_report_country_iso_alpha2')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_worker_report_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_worker_report_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['organisation_key_id'], ['organisation_key.id'], name=op.f('fk_worker_report_organisation_key_id_organisation_key')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_worker_report_site_id_site')),
    sa.ForeignKeyConstraint(['survey_import_id'], ['survey_import.id'], name=op.f('fk_worker_report_survey_import_id_survey_import')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_report')),
    sa.UniqueConstraint('organisation_id', 'source_digest', name=op.f('uq_worker_report_organisation_id_source_digest')),
    sa.UniqueConstraint('receipt_lookup', name=op.f('uq_worker_report_receipt_lookup'))
    )
    with op.batch_alter_table('worker_report', schema=None) as batch_op:
        batch_op.create_index('ix_worker_report_org_status', ['organisation_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_worker_report_organisation_key_id'), ['organisation_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_worker_report_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_worker_report_survey_import_id'), ['survey_import_id'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('organisation_key_id', sa.Integer(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(length=256), nullable=False),
    sa.Column('name_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('uploaded_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('size >= 0', name=op.f('ck_evidence_size_not_negative')),
    sa.ForeignKeyConstraint(['organisation_key_id'], ['organisation_key.id'], name=op.f('fk_evidence_organisation_key_id_organisation_key')),
    sa.ForeignKeyConstraint(['report_id'], ['worker_report.id'], name=op.f('fk_evidence_report_id_worker_report')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_evidence_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_evidence_storage_key'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_organisation_key_id'), ['organisation_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_report_id'), ['report_id'], unique=False)

    op.create_table('report_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.Enum('forced_labour', 'recruitment_fees', 'retained_documents', 'student_labour', 'child_labour', 'freedom_of_association', 'discrimination', 'harassment', 'wages', 'working_hours', 'health_safety', 'chemicals', 'dormitory', 'agency_work', 'retaliation', 'other', name='category', native_enum=False, create_constraint=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['worker_report.id'], name=op.f('fk_report_category_report_id_worker_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_category')),
    sa.UniqueConstraint('report_id', 'category', name=op.f('uq_report_category_report_id_category'))
    )
    with op.batch_alter_table('report_category', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_category_report_id'), ['report_id'], unique=False)

    op.create_table('report_grant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(length=256), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=False),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user_account.id'], name=op.f('fk_report_grant_granted_by_id_user_account')),
    sa.ForeignKeyConstraint(['report_id'], ['worker_report.id'], name=op.f('fk_report_grant_report_id_worker_report')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_report_grant_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_grant')),
    sa.UniqueConstraint('report_id', 'user_id', name=op.f('uq_report_grant_report_id_user_id'))
    )
    with op.batch_alter_table('report_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_grant_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_grant_user_id'), ['user_id'], unique=False)

    op.create_table('report_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('from_worker', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('organisation_key_id', sa.Integer(), nullable=False),
    sa.Column('organisation_wrapped_key', sa.LargeBinary(length=256), nullable=False),
    sa.Column('receipt_wrapped_key', sa.LargeBinary(length=256), nullable=True),
    sa.Column('body_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('from_worker OR author_id IS NOT NULL', name=op.f('ck_report_message_author_unless_worker')),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_report_message_author_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_key_id'], ['organisation_key.id'], name=op.f('fk_report_message_organisation_key_id_organisation_key')),
    sa.ForeignKeyConstraint(['report_id'], ['worker_report.id'], name=op.f('fk_report_message_report_id_worker_report')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_message'))
    )
    with op.batch_alter_table('report_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_message_organisation_key_id'), ['organisation_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_message_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_message_report_id'))
        batch_op.drop_index(batch_op.f('ix_report_message_organisation_key_id'))

    op.drop_table('report_message')
    with op.batch_alter_table('report_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_grant_user_id'))
        batch_op.drop_index(batch_op.f('ix_report_grant_report_id'))

    op.drop_table('report_grant')
    with op.batch_alter_table('report_category', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_category_report_id'))

    op.drop_table('report_category')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_report_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_organisation_key_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('worker_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worker_report_survey_import_id'))
        batch_op.drop_index(batch_op.f('ix_worker_report_site_id'))
        batch_op.drop_index(batch_op.f('ix_worker_report_organisation_key_id'))
        batch_op.drop_index('ix_worker_report_org_status')

    op.drop_table('worker_report')
    with op.batch_alter_table('survey_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_import_organisation_id'))

    op.drop_table('survey_import')
    with op.batch_alter_table('monitor_coverage', schema=None) as batch_op:
        batch_op.drop_index('uq_monitor_coverage_fallback', sqlite_where=sa.text('is_fallback'), postgresql_where=sa.text('is_fallback'))
        batch_op.drop_index(batch_op.f('ix_monitor_coverage_organisation_id'))

    op.drop_table('monitor_coverage')
    with op.batch_alter_table('throttle_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttle_counter_window_start'))

    op.drop_table('throttle_counter')
