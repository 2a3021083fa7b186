"""Initial schema: organisations, categories, users, needs and their contacts,
the timeline of every move, and the e-mail outbox.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 08:38:44.759557

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('union', 'youth_league', 'womens_federation', 'science_association', 'company', 'university', 'ngo', 'government', 'community', 'other', name='organisationkind', native_enum=False, length=30), nullable=False),
    sa.Column('description_zh', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    op.create_table('outbox_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('status', sa.Enum('queued', 'sent', 'failed', name='outboxstatus', native_enum=False, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_emails'))
    )
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_emails_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('description_zh', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('response_sla_days', sa.Integer(), nullable=False),
    sa.Column('resolution_sla_days', sa.Integer(), nullable=False),
    sa.Column('default_partner_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('resolution_sla_days > 0', name=op.f('ck_categories_resolution_sla_positive')),
    sa.CheckConstraint('response_sla_days > 0', name=op.f('ck_categories_response_sla_positive')),
    sa.ForeignKeyConstraint(['default_partner_id'], ['organisations.id'], name=op.f('fk_categories_default_partner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_categories_code'))
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_categories_default_partner_id'), ['default_partner_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('member', 'partner', 'admin', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role != 'partner' OR organisation_id IS NOT NULL", name=op.f('ck_users_partner_has_organisation')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=20), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'open', 'routed', 'accepted', 'in_progress', 'resolved', 'closed', 'rejected', 'duplicate', 'withdrawn', name='needstatus', native_enum=False, length=20), nullable=False),
    sa.Column('outcome', sa.Enum('resolved', 'not_resolved', name='outcome', native_enum=False, length=20), nullable=True),
    sa.Column('visibility', sa.Enum('public', 'private', name='visibility', native_enum=False, length=20), nullable=False),
    sa.Column('is_listed', sa.Boolean(), nullable=False),
    sa.Column('channel', sa.Enum('web', 'phone', 'walk_in', 'api', 'staff', name='channel', native_enum=False, length=20), nullable=False),
    sa.Column('support_count', sa.Integer(), nullable=False),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('assigned_organisation_id', sa.Integer(), nullable=True),
    sa.Column('submitter_id', sa.Integer(), nullable=True),
    sa.Column('tracking_token_hash', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('support_count >= 0', name=op.f('ck_needs_support_count_not_negative')),
    sa.ForeignKeyConstraint(['assigned_organisation_id'], ['organisations.id'], name=op.f('fk_needs_assigned_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_needs_category_id_categories')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['needs.id'], name=op.f('fk_needs_duplicate_of_id_needs')),
    sa.ForeignKeyConstraint(['submitter_id'], ['users.id'], name=op.f('fk_needs_submitter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_needs')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_needs_idempotency_key')),
    sa.UniqueConstraint('ref', name=op.f('uq_needs_ref')),
    sa.UniqueConstraint('tracking_token_hash', name=op.f('uq_needs_tracking_token_hash'))
    )
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_needs_assigned_organisation_id'), ['assigned_organisation_id'], unique=False)
        batch_op.create_index('ix_needs_listed_category_id', ['is_listed', 'category_id', 'id'], unique=False)
        batch_op.create_index('ix_needs_listed_id', ['is_listed', 'id'], unique=False)
        batch_op.create_index('ix_needs_listed_status_id', ['is_listed', 'status', 'id'], unique=False)
        batch_op.create_index('ix_needs_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_needs_submitter_id'), ['submitter_id'], unique=False)

    op.create_table('need_contacts',
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('consent_notice_version', sa.String(length=20), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_need_contacts_need_id_needs')),
    sa.PrimaryKeyConstraint('need_id', name=op.f('pk_need_contacts'))
    )
    op.create_table('timeline_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('move', sa.String(length=30), nullable=False),
    sa.Column('from_status', sa.Enum('submitted', 'open', 'routed', 'accepted', 'in_progress', 'resolved', 'closed', 'rejected', 'duplicate', 'withdrawn', name='needstatus', native_enum=False, length=20), nullable=True),
    sa.Column('to_status', sa.Enum('submitted', 'open', 'routed', 'accepted', 'in_progress', 'resolved', 'closed', 'rejected', 'duplicate', 'withdrawn', name='needstatus', native_enum=False, length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_timeline_events_actor_id_users')),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_timeline_events_need_id_needs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_events'))
    )
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.create_index('ix_timeline_events_move_created', ['move', 'created_at'], unique=False)
        batch_op.create_index('ix_timeline_events_need_id_id', ['need_id', 'id'], unique=False)




def downgrade():
    
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_index('ix_timeline_events_need_id_id')
        batch_op.drop_index('ix_timeline_events_move_created')

    op.drop_table('timeline_events')
    op.drop_table('need_contacts')
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_needs_submitter_id'))
        batch_op.drop_index('ix_needs_status_created')
        batch_op.drop_index('ix_needs_listed_status_id')
        batch_op.drop_index('ix_needs_listed_id')
        batch_op.drop_index('ix_needs_listed_category_id')
        batch_op.drop_index(batch_op.f('ix_needs_assigned_organisation_id'))

    op.drop_table('needs')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_organisation_id'))

    op.drop_table('users')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_categories_default_partner_id'))

    op.drop_table('categories')
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_emails_status_next')

    op.drop_table('outbox_emails')
    op.drop_table('organisations')

