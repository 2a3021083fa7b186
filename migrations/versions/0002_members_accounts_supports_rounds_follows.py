"""Members: account verification and session versions, notification settings,
supports, priority rounds (items, ballots, votes), follows and digest runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:01:52.616338

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('digest_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_digest_runs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_runs')),
    sa.UniqueConstraint('user_id', 'day', name='uq_digest_runs_user_day')
    )
    op.create_table('priority_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('votes_per_member', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('show_live_counts', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voter_count', sa.Integer(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_priority_rounds_ends_after_start')),
    sa.CheckConstraint('votes_per_member > 0', name=op.f('ck_priority_rounds_votes_per_member_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_priority_rounds_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_priority_rounds'))
    )
    with op.batch_alter_table('priority_rounds', schema=None) as batch_op:
        batch_op.create_index('ix_priority_rounds_ends_at', ['ends_at'], unique=False)

    op.create_table('follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_follows_need_id_needs')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follows_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follows')),
    sa.UniqueConstraint('user_id', 'need_id', name='uq_follows_user_need')
    )
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follows_need_id'), ['need_id'], unique=False)
        batch_op.create_index('ix_follows_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('round_ballots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('votes_used', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('votes_used >= 0', name=op.f('ck_round_ballots_votes_used_not_negative')),
    sa.ForeignKeyConstraint(['round_id'], ['priority_rounds.id'], name=op.f('fk_round_ballots_round_id_priority_rounds')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_round_ballots_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_ballots')),
    sa.UniqueConstraint('round_id', 'user_id', name='uq_round_ballots_round_user')
    )
    with op.batch_alter_table('round_ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_ballots_user_id'), ['user_id'], unique=False)

    op.create_table('round_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('vote_count', sa.Integer(), nullable=False),
    sa.CheckConstraint('vote_count >= 0', name=op.f('ck_round_items_vote_count_not_negative')),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_round_items_need_id_needs')),
    sa.ForeignKeyConstraint(['round_id'], ['priority_rounds.id'], name=op.f('fk_round_items_round_id_priority_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_items')),
    sa.UniqueConstraint('round_id', 'need_id', name='uq_round_items_round_need')
    )
    op.create_table('supports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_supports_need_id_needs')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_supports_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supports')),
    sa.UniqueConstraint('user_id', 'need_id', name='uq_supports_user_need')
    )
    with op.batch_alter_table('supports', schema=None) as batch_op:
        batch_op.create_index('ix_supports_need_created', ['need_id', 'created_at'], unique=False)
        batch_op.create_index('ix_supports_user_created', ['user_id', 'created_at'], unique=False)

    op.create_table('round_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['round_items.id'], name=op.f('fk_round_votes_item_id_round_items')),
    sa.ForeignKeyConstraint(['round_id'], ['priority_rounds.id'], name=op.f('fk_round_votes_round_id_priority_rounds')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_round_votes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_votes')),
    sa.UniqueConstraint('item_id', 'user_id', name='uq_round_votes_item_user')
    )
    with op.batch_alter_table('round_votes', schema=None) as batch_op:
        batch_op.create_index('ix_round_votes_user_round', ['user_id', 'round_id'], unique=False)

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index('ix_needs_listed_support', ['is_listed', 'support_count', 'id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('consent_notice_version', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('notify_own', sa.Enum('immediate', 'daily', 'off', name='delivery', native_enum=False, length=20), nullable=False, server_default='immediate'))
        batch_op.add_column(sa.Column('notify_followed', sa.Enum('immediate', 'daily', 'off', name='delivery', native_enum=False, length=20), nullable=False, server_default='daily'))
        batch_op.add_column(sa.Column('last_digest_at', sa.DateTime(timezone=True), nullable=True))




def downgrade():

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_digest_at')
        batch_op.drop_column('notify_followed')
        batch_op.drop_column('notify_own')
        batch_op.drop_column('consent_at')
        batch_op.drop_column('consent_notice_version')
        batch_op.drop_column('session_version')
        batch_op.drop_column('email_verified_at')

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index('ix_needs_listed_support')

    with op.batch_alter_table('round_votes', schema=None) as batch_op:
        batch_op.drop_index('ix_round_votes_user_round')

    op.drop_table('round_votes')
    with op.batch_alter_table('supports', schema=None) as batch_op:
        batch_op.drop_index('ix_supports_user_created')
        batch_op.drop_index('ix_supports_need_created')

    op.drop_table('supports')
    op.drop_table('round_items')
    with op.batch_alter_table('round_ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_ballots_user_id'))

    op.drop_table('round_ballots')
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.drop_index('ix_follows_user_created')
        batch_op.drop_index(batch_op.f('ix_follows_need_id'))

    op.drop_table('follows')
    with op.batch_alter_table('priority_rounds', schema=None) as batch_op:
        batch_op.drop_index('ix_priority_rounds_ends_at')

    op.drop_table('priority_rounds')
    op.drop_table('digest_runs')

