"""The organisations' hierarchy and the partner admin role: an organisation's
parent and its materialised path (the ids from the top down to it, so a
subtree is one indexed range), and the staff who manage their own
organisation (its staff invitations and resources).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 00:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

#: Compared byte by byte on PostgreSQL, so a range of paths is a prefix its index serves.
PATH_TYPE = sa.String(length=200).with_variant(sa.String(length=200, collation='C'), 'postgresql')


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('path', PATH_TYPE, server_default='', nullable=False))
        batch_op.create_foreign_key(
            batch_op.f('fk_organisations_parent_id_organisations'), 'organisations', ['parent_id'], ['id']
        )
        batch_op.create_index(batch_op.f('ix_organisations_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_path'), ['path'], unique=False)
    # Every existing organisation is at the top of its own tree.
    op.execute("UPDATE organisations SET path = '/' || CAST(id AS VARCHAR(20)) || '/'")

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('manages_organisation', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_users_manager_is_partner'), "role = 'partner' OR NOT manages_organisation"
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_manager_is_partner'), type_='check')
        batch_op.drop_column('manages_organisation')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_path'))
        batch_op.drop_index(batch_op.f('ix_organisations_parent_id'))
        batch_op.drop_constraint(batch_op.f('fk_organisations_parent_id_organisations'), type_='foreignkey')
        batch_op.drop_column('path')
        batch_op.drop_column('parent_id')
