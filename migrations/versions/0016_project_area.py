"""A project's area: where it works, for the public list's area filter.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 01:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_projects_area_id_areas'), 'areas', ['area_id'], ['id'])
        batch_op.create_index('ix_projects_area_id', ['area_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_area_id')
        batch_op.drop_constraint(batch_op.f('fk_projects_area_id_areas'), type_='foreignkey')
        batch_op.drop_column('area_id')
