"""remediation cases and notifications

Revision ID: ed3cf518db93
Revises: 7e3b2a4c9d53
Create Date: 2026-11-22 12:06:05.840374+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import monitoring.core.crypto
import monitoring.core.types

revision: str = 'ed3cf518db93'
down_revision: str | None = '7e3b2a4c9d53'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('remediation_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('monitor_organisation_id', sa.Integer(), nullable=False),
    sa.Column('lead_coordinator_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('open', 'in_dialogue', 'remediation', 'verification', 'closed', name='state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('severity', sa.Enum('priority', 'major', 'minor', name='severity', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('outcome', sa.Enum('resolved', 'partially_resolved', 'unresolved', name='outcome', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state_changed_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(state = 'closed') = (closed_dt IS NOT NULL)", name=op.f('ck_remediation_case_closed_dt_if_closed')),
    sa.CheckConstraint("(state = 'closed') = (outcome IS NOT NULL)", name=op.f('ck_remediation_case_outcome_if_closed')),
    sa.ForeignKeyConstraint(['lead_coordinator_id'], ['user_account.id'], name=op.f('fk_remediation_case_lead_coordinator_id_user_account')),
    sa.ForeignKeyConstraint(['monitor_organisation_id'], ['organisation.id'], name=op.f('fk_remediation_case_monitor_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'], name=op.f('fk_remediation_case_opened_by_id_user_account')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_remediation_case_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remediation_case')),
    sa.UniqueConstraint('reference', name=op.f('uq_remediation_case_reference'))
    )
    with op.batch_alter_table('remediation_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remediation_case_lead_coordinator_id'), ['lead_coordinator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remediation_case_monitor_organisation_id'), ['monitor_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remediation_case_site_id'), ['site_id'], unique=False)
        batch_op.create_index('ix_remediation_case_state_site', ['state', 'site_id'], unique=False)

    op.create_table('case_closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('resolved', 'partially_resolved', 'unresolved', name='outcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('note_ct', monitoring.core.crypto.ProtectedBytes(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=False),
    sa.Column('closed_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('workers_consulted_by_id', sa.Integer(), nullable=True),
    sa.Column('workers_consulted_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reopened_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reopen_reason_ct', monitoring.core.crypto.ProtectedBytes(), nullable=True),
    sa.CheckConstraint('(workers_consulted_by_id IS NULL) = (workers_consulted_dt IS NULL)', name=op.f('ck_case_closure_consulted_by_and_dt')),
    sa.ForeignKeyConstraint(['case_id'], ['remediation_case.id'], name=op.f('fk_case_closure_case_id_remediation_case')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'], name=op.f('fk_case_closure_closed_by_id_user_account')),
    sa.ForeignKeyConstraint(['workers_consulted_by_id'], ['user_account.id'], name=op.f('fk_case_closure_workers_consulted_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_closure'))
    )
    with op.batch_alter_table('case_closure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_closure_case_id'), ['case_id'], unique=False)

    op.create_table('case_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('visibility', sa.Enum('internal', 'buyers', 'parties', name='visibility', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('body_ct', monitoring.core.crypto.ProtectedBytes(), nullable=False),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(visibility = 'parties') = (supplier_id IS NOT NULL)", name=op.f('ck_case_message_supplier_if_parties')),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_case_message_author_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['remediation_case.id'], name=op.f('fk_case_message_case_id_remediation_case')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisation.id'], name=op.f('fk_case_message_supplier_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_message'))
    )
    with op.batch_alter_table('case_message', schema=None) as batch_op:
        batch_op.create_index('ix_case_message_case_created', ['case_id', 'created_dt'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_message_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('standard', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.Enum('priority', 'major', 'minor', name='severity', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('workers_affected', sa.Integer(), nullable=True),
    sa.Column('evidence_type', sa.Enum('offsite_interviews', 'onsite_interviews', 'survey', 'documents', 'observation', 'photos', 'other', name='evidence_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('found_date', sa.Date(), nullable=False),
    sa.Column('summary_ct', monitoring.core.crypto.ProtectedBytes(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('workers_affected IS NULL OR workers_affected >= 0', name=op.f('ck_finding_workers_not_negative')),
    sa.ForeignKeyConstraint(['case_id'], ['remediation_case.id'], name=op.f('fk_finding_case_id_remediation_case')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_finding_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_finding_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_finding_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding'))
    )
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_finding_site_case', ['site_id', 'case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_standard'), ['standard'], unique=False)

    op.create_table('corrective_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('requested', 'plan_submitted', 'plan_accepted', 'plan_rejected', 'implemented', 'verified', 'not_verified', 'closed', name='state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('severity', sa.Enum('priority', 'major', 'minor', name='severity', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('request_ct', monitoring.core.crypto.ProtectedBytes(), nullable=False),
    sa.Column('plan_due_date', sa.Date(), nullable=False),
    sa.Column('closure_due_date', sa.Date(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state_changed_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('implementation_ct', monitoring.core.crypto.ProtectedBytes(), nullable=True),
    sa.Column('implemented_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verification_ct', monitoring.core.crypto.ProtectedBytes(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(state = 'closed') = (closed_dt IS NOT NULL)", name=op.f('ck_corrective_action_closed_dt_if_closed')),
    sa.CheckConstraint('closure_due_date >= plan_due_date', name=op.f('ck_corrective_action_closure_after_plan')),
    sa.ForeignKeyConstraint(['case_id'], ['remediation_case.id'], name=op.f('fk_corrective_action_case_id_remediation_case')),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], name=op.f('fk_corrective_action_finding_id_finding')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_corrective_action_requested_by_id_user_account')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisation.id'], name=op.f('fk_corrective_action_supplier_id_organisation')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['user_account.id'], name=op.f('fk_corrective_action_verified_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrective_action'))
    )
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrective_action_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrective_action_finding_id'), ['finding_id'], unique=False)
        batch_op.create_index('ix_corrective_action_state_due', ['state', 'plan_due_date', 'closure_due_date'], unique=False)
        batch_op.create_index('ix_corrective_action_supplier_state', ['supplier_id', 'state'], unique=False)

    op.create_table('finding_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], name=op.f('fk_finding_report_finding_id_finding'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['worker_report.id'], name=op.f('fk_finding_report_report_id_worker_report')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_report')),
    sa.UniqueConstraint('finding_id', 'report_id', name=op.f('uq_finding_report_finding_id_report_id'))
    )
    with op.batch_alter_table('finding_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_report_finding_id'), ['finding_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finding_report_report_id'), ['report_id'], unique=False)

    op.create_table('remedy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('closure_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('fees_repaid', 'passports_returned', 'back_pay', 'reinstatement', 'other', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('workers_covered', sa.Integer(), nullable=True),
    sa.Column('description_ct', monitoring.core.crypto.ProtectedBytes(), nullable=True),
    sa.CheckConstraint("kind NOT IN ('fees_repaid', 'back_pay') OR amount IS NOT NULL", name=op.f('ck_remedy_money_has_amount')),
    sa.CheckConstraint('(amount IS NULL) = (currency IS NULL)', name=op.f('ck_remedy_amount_has_currency')),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_remedy_amount_not_negative')),
    sa.CheckConstraint('currency IS NULL OR length(currency) = 3', name=op.f('ck_remedy_currency_iso')),
    sa.CheckConstraint('workers_covered IS NULL OR workers_covered >= 0', name=op.f('ck_remedy_workers_not_negative')),
    sa.ForeignKeyConstraint(['closure_id'], ['case_closure.id'], name=op.f('fk_remedy_closure_id_case_closure'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remedy'))
    )
    with op.batch_alter_table('remedy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remedy_closure_id'), ['closure_id'], unique=False)

    op.create_table('case_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('finding_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('case_opened', 'case_state_changed', 'case_reopened', 'case_closed', 'lead_changed', 'finding_added', 'action_requested', 'action_state_changed', 'deadline_changed', 'action_escalated', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=True),
    sa.Column('visibility', sa.Enum('internal', 'buyers', 'parties', name='visibility', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note_ct', monitoring.core.crypto.ProtectedBytes(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(visibility = 'parties') = (supplier_id IS NOT NULL)", name=op.f('ck_case_event_supplier_if_parties')),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_action.id'], name=op.f('fk_case_event_action_id_corrective_action')),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_case_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['remediation_case.id'], name=op.f('fk_case_event_case_id_remediation_case')),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], name=op.f('fk_case_event_finding_id_finding')),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisation.id'], name=op.f('fk_case_event_supplier_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_event_action_id'), ['action_id'], unique=False)
        batch_op.create_index('ix_case_event_case_created', ['case_id', 'created_dt'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_event_finding_id'), ['finding_id'], unique=False)

    op.create_table('case_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('file_key_ct', monitoring.core.crypto.ProtectedBytes(), nullable=False),
    sa.Column('name_ct', monitoring.core.crypto.ProtectedBytes(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(message_id IS NULL) <> (action_id IS NULL)', name=op.f('ck_case_file_one_parent')),
    sa.CheckConstraint('size >= 0', name=op.f('ck_case_file_size_not_negative')),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_action.id'], name=op.f('fk_case_file_action_id_corrective_action')),
    sa.ForeignKeyConstraint(['case_id'], ['remediation_case.id'], name=op.f('fk_case_file_case_id_remediation_case')),
    sa.ForeignKeyConstraint(['message_id'], ['case_message.id'], name=op.f('fk_case_file_message_id_case_message')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_case_file_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_file')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_case_file_storage_key'))
    )
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_file_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_file_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_file_message_id'), ['message_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('case_opened', 'case_state_changed', 'case_closed', 'case_reopened', 'action_requested', 'plan_submitted', 'plan_accepted', 'plan_rejected', 'action_implemented', 'action_verified', 'action_not_verified', 'action_closed', 'message_posted', 'deadline_changed', 'deadline_reminder', 'deadline_overdue', 'action_escalated', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('created_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('mail_state', sa.Enum('pending', 'sent', 'failed', 'skipped', name='mail_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('mail_attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('mailed_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("(mail_state = 'sent') = (mailed_dt IS NOT NULL)", name=op.f('ck_notification_mailed_dt_if_sent')),
    sa.CheckConstraint('mail_attempts >= 0', name=op.f('ck_notification_attempts_not_negative')),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_action.id'], name=op.f('fk_notification_action_id_corrective_action')),
    sa.ForeignKeyConstraint(['case_id'], ['remediation_case.id'], name=op.f('fk_notification_case_id_remediation_case')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_dedupe_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_notification_pending', ['id'], unique=False, sqlite_where=sa.text("mail_state = 'pending'"), postgresql_where=sa.text("mail_state = 'pending'"))
        batch_op.create_index('ix_notification_unread', ['user_id'], unique=False, sqlite_where=sa.text('read_dt IS NULL'), postgresql_where=sa.text('read_dt IS NULL'))
        batch_op.create_index(batch_op.f('ix_notification_user_id'), ['user_id'], unique=False)

    op.create_table('supplier_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('root_cause_ct', monitoring.core.crypto.ProtectedBytes(), nullable=False),
    sa.Column('corrective_ct', monitoring.core.crypto.ProtectedBytes(), nullable=False),
    sa.Column('preventive_ct', monitoring.core.crypto.ProtectedBytes(), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_dt', monitoring.core.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason_ct', monitoring.core.crypto.ProtectedBytes(), nullable=True),
    sa.CheckConstraint('(accepted IS NULL) = (decided_dt IS NULL)', name=op.f('ck_supplier_response_decided_dt_if_decided')),
    sa.CheckConstraint('accepted IS NULL OR accepted OR rejection_reason_ct IS NOT NULL', name=op.f('ck_supplier_response_rejection_has_reason')),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_action.id'], name=op.f('fk_supplier_response_action_id_corrective_action')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_supplier_response_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['user_account.id'], name=op.f('fk_supplier_response_submitted_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_response'))
    )
    with op.batch_alter_table('supplier_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplier_response_action_id'), ['action_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('supplier_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_response_action_id'))

    op.drop_table('supplier_response')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_user_id'))
        batch_op.drop_index('ix_notification_unread', sqlite_where=sa.text('read_dt IS NULL'), postgresql_where=sa.text('read_dt IS NULL'))
        batch_op.drop_index('ix_notification_pending', sqlite_where=sa.text("mail_state = 'pending'"), postgresql_where=sa.text("mail_state = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_notification_case_id'))
        batch_op.drop_index(batch_op.f('ix_notification_action_id'))

    op.drop_table('notification')
    with op.batch_alter_table('case_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_file_message_id'))
        batch_op.drop_index(batch_op.f('ix_case_file_case_id'))
        batch_op.drop_index(batch_op.f('ix_case_file_action_id'))

    op.drop_table('case_file')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_finding_id'))
        batch_op.drop_index('ix_case_event_case_created')
        batch_op.drop_index(batch_op.f('ix_case_event_action_id'))

    op.drop_table('case_event')
    with op.batch_alter_table('remedy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remedy_closure_id'))

    op.drop_table('remedy')
    with op.batch_alter_table('finding_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_report_report_id'))
        batch_op.drop_index(batch_op.f('ix_finding_report_finding_id'))

    op.drop_table('finding_report')
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.drop_index('ix_corrective_action_supplier_state')
        batch_op.drop_index('ix_corrective_action_state_due')
        batch_op.drop_index(batch_op.f('ix_corrective_action_finding_id'))
        batch_op.drop_index(batch_op.f('ix_corrective_action_case_id'))

    op.drop_table('corrective_action')
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_standard'))
        batch_op.drop_index('ix_finding_site_case')
        batch_op.drop_index(batch_op.f('ix_finding_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_finding_case_id'))

    op.drop_table('finding')
    with op.batch_alter_table('case_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_message_supplier_id'))
        batch_op.drop_index('ix_case_message_case_created')

    op.drop_table('case_message')
    with op.batch_alter_table('case_closure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_closure_case_id'))

    op.drop_table('case_closure')
    with op.batch_alter_table('remediation_case', schema=None) as batch_op:
        batch_op.drop_index('ix_remediation_case_state_site')
        batch_op.drop_index(batch_op.f('ix_remediation_case_site_id'))
        batch_op.drop_index(batch_op.f('ix_remediation_case_monitor_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_remediation_case_lead_coordinator_id'))

    op.drop_table('remediation_case')
