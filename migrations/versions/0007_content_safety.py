"""Content safety: the admins' list of sensitive terms; why a comment was held
when posted; project updates that wait for a moderator (state, reasons and
the decision), with their indexes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sensitive_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('hold', name='termkind', native_enum=False, length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_sensitive_terms_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sensitive_terms')),
    sa.UniqueConstraint('key', name=op.f('uq_sensitive_terms_key'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_for', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))

    with op.batch_alter_table('project_updates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.Enum('published', 'held', 'rejected', name='updatestate', native_enum=False, length=20), server_default='published', nullable=False))
        batch_op.add_column(sa.Column('held_for', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('moderated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('moderation_reason', sa.Text(), server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_project_updates_moderated_by_id_users'), 'users', ['moderated_by_id'], ['id'])
        batch_op.drop_index('ix_project_updates_project_id')
        batch_op.create_index('ix_project_updates_project_state_id', ['project_id', 'state', 'id'], unique=False)
        batch_op.create_index('ix_project_updates_state_id', ['state', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('project_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_project_updates_state_id')
        batch_op.drop_index('ix_project_updates_project_state_id')
        batch_op.create_index('ix_project_updates_project_id', ['project_id', 'id'], unique=False)
        batch_op.drop_constraint(batch_op.f('fk_project_updates_moderated_by_id_users'), type_='foreignkey')
        batch_op.drop_column('moderation_reason')
        batch_op.drop_column('moderated_by_id')
        batch_op.drop_column('moderated_at')
        batch_op.drop_column('held_for')
        batch_op.drop_column('state')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('held_for')

    op.drop_table('sensitive_terms')
