"""Co-handlers (主办/协办): the supporting partners of a need beside the lead
of its assignment, with the latest request for their input and its due date.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 00:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'co_handlers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('need_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('input_question', sa.Text(), nullable=False),
        sa.Column('input_asked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('input_due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('input_given_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_co_handlers_added_by_id_users')),
        sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_co_handlers_need_id_needs')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_co_handlers_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_co_handlers')),
        sa.UniqueConstraint('need_id', 'organisation_id', name='uq_co_handlers_need_org'),
    )
    with op.batch_alter_table('co_handlers', schema=None) as batch_op:
        batch_op.create_index('ix_co_handlers_org_need', ['organisation_id', 'need_id'], unique=False)
        batch_op.create_index('ix_co_handlers_awaited', ['input_given_at', 'input_due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('co_handlers', schema=None) as batch_op:
        batch_op.drop_index('ix_co_handlers_awaited')
        batch_op.drop_index('ix_co_handlers_org_need')
    op.drop_table('co_handlers')
