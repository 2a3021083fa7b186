"""The outbox gets a channel (e-mail today; SMS or WeChat later), each served by
its own sender: outbox_emails.channel, and the senders' index on (status,
channel, next_attempt_at) in place of (status, next_attempt_at).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        # Every row written before this revision is an e-mail.
        batch_op.add_column(
            sa.Column(
                'channel',
                sa.Enum('email', name='outboxchannel', native_enum=False, length=20),
                server_default='email',
                nullable=False,
            )
        )
        batch_op.drop_index('ix_outbox_emails_status_next')
        batch_op.create_index(
            'ix_outbox_emails_status_channel_next',
            ['status', 'channel', 'next_attempt_at'],
            unique=False,
        )


def downgrade():
    # Rows of other channels cannot be kept in an outbox that only sends
    # e-mail: they are dropped rather than mailed to a phone number.
    op.execute("DELETE FROM outbox_emails WHERE channel <> 'email'")
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_emails_status_channel_next')
        batch_op.create_index(
            'ix_outbox_emails_status_next', ['status', 'next_attempt_at'], unique=False
        )
        batch_op.drop_column('channel')
