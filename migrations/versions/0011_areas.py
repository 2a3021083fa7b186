"""Areas: the admins' tree of areas (city → district → street → community) with
bilingual names, codes, an optional centre point and a materialised path of
ids (byte-ordered on PostgreSQL, so a subtree is one index range), and a need's
area (needs.area_id), indexed for the public list by area and for an area's
needs by state.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

PATH_TYPE = sa.String(length=200).with_variant(sa.String(length=200, collation='C'), 'postgresql')


def upgrade():
    op.create_table(
        'areas',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('name_zh', sa.String(length=100), nullable=False),
        sa.Column('name_en', sa.String(length=100), nullable=False),
        sa.Column('depth', sa.Integer(), nullable=False),
        sa.Column('path', PATH_TYPE, nullable=False),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('lon', sa.Float(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('depth >= 0', name=op.f('ck_areas_depth_not_negative')),
        sa.CheckConstraint(
            'lat IS NULL OR (lat >= -90 AND lat <= 90)', name=op.f('ck_areas_lat_in_range')
        ),
        sa.CheckConstraint(
            'lon IS NULL OR (lon >= -180 AND lon <= 180)', name=op.f('ck_areas_lon_in_range')
        ),
        sa.ForeignKeyConstraint(['parent_id'], ['areas.id'], name=op.f('fk_areas_parent_id_areas')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
        sa.UniqueConstraint('code', name=op.f('uq_areas_code')),
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_index(
            'ix_areas_parent_position', ['parent_id', 'position', 'code'], unique=False
        )
        batch_op.create_index('ix_areas_path', ['path'], unique=True)

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_needs_area_status', ['area_id', 'status'], unique=False)
        batch_op.create_index(
            'ix_needs_listed_area_id', ['is_listed', 'area_id', 'id'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_needs_area_id_areas'), 'areas', ['area_id'], ['id']
        )


def downgrade():
    # Needs keep their free-text place; only the link to the tree goes.
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_needs_area_id_areas'), type_='foreignkey')
        batch_op.drop_index('ix_needs_listed_area_id')
        batch_op.drop_index('ix_needs_area_status')
        batch_op.drop_column('area_id')

    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index('ix_areas_path')
        batch_op.drop_index('ix_areas_parent_position')

    op.drop_table('areas')
