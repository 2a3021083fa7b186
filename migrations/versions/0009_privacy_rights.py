"""The privacy law's rights: deleted accounts (users.erased_at), erased contact
details (needs.contact_erased_at), the end of a need as a stored time
(needs.ended_at), indexed together for the retention run, consent only when it was given
(need_contacts.consent_at nullable), and outbox mails tied to their need and
found by address, so erasing someone's data cancels what waits for them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

ENDED = "('closed', 'rejected', 'withdrawn', 'duplicate')"


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column('contact_erased_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            'ix_needs_contact_retention', ['contact_erased_at', 'ended_at'], unique=False
        )

    with op.batch_alter_table('need_contacts', schema=None) as batch_op:
        batch_op.alter_column(
            'consent_at', existing_type=sa.DateTime(timezone=True), nullable=True
        )

    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('need_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_outbox_emails_need_id_needs'), 'needs', ['need_id'], ['id']
        )
        batch_op.create_index('ix_outbox_emails_to_address', ['to_address'], unique=False)

    # Needs that ended before this migration: the time of the move into their
    # present state, from the timeline (one statement; the timeline is indexed
    # by need).
    op.execute(
        f"""
        UPDATE needs SET ended_at = COALESCE(
            (SELECT MAX(e.created_at) FROM timeline_events e
             WHERE e.need_id = needs.id AND e.to_status = needs.status),
            needs.updated_at)
        WHERE status IN {ENDED}
        """
    )


def downgrade():
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_emails_to_address')
        batch_op.drop_constraint(batch_op.f('fk_outbox_emails_need_id_needs'), type_='foreignkey')
        batch_op.drop_column('need_id')

    # A consent time is required again: contacts without one get the time of
    # their need, as before this revision every contact claimed.
    op.execute(
        "UPDATE need_contacts SET consent_at = "
        "(SELECT created_at FROM needs WHERE needs.id = need_contacts.need_id) "
        "WHERE consent_at IS NULL"
    )
    op.execute("UPDATE outbox_emails SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table('need_contacts', schema=None) as batch_op:
        batch_op.alter_column(
            'consent_at', existing_type=sa.DateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index('ix_needs_contact_retention')
        batch_op.drop_column('contact_erased_at')
        batch_op.drop_column('ended_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
