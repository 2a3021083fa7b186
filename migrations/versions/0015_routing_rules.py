"""Routing rules: needs of a category (or any) in an area's subtree (or
anywhere) go to an organisation; the most specific rule wins, the admins'
order breaks ties, and the category's default partner stays the fallback.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 01:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'routing_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('area_id', sa.Integer(), nullable=True),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_routing_rules_area_id_areas')),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_routing_rules_category_id_categories')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_routing_rules_created_by_id_users')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_routing_rules_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules')),
        sa.UniqueConstraint('category_id', 'area_id', 'organisation_id', name='uq_routing_rules_what'),
    )
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.create_index('ix_routing_rules_position', ['position', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('routing_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_routing_rules_position')
    op.drop_table('routing_rules')
