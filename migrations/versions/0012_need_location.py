"""The nearby hint of the need form reads published needs in a bounding box of
their position: an index on (is_listed, lat, lon), so that is one range scan.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 10:00:00.000000
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_needs_listed_position', ['is_listed', 'lat', 'lon'], unique=False
        )


def downgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index('ix_needs_listed_position')
