"""The areas a partner organisation serves.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 01:45:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'organisation_areas',
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_organisation_areas_area_id_areas')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organisation_areas_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('organisation_id', 'area_id', name=op.f('pk_organisation_areas')),
    )
    with op.batch_alter_table('organisation_areas', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_areas_area', ['area_id', 'organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('organisation_areas', schema=None) as batch_op:
        batch_op.drop_index('ix_organisation_areas_area')
    op.drop_table('organisation_areas')
