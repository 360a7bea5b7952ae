"""inbound_messages (subscriber_id, received_at) index

Revision ID: b7c1d2e3f4a5
Revises: e031bdecf5f5
Create Date: 2026-11-29 04:45:00

The SMS path reads a number's recent texts with the subscriber (flood count, previous text) and
the loop check reads its last answers: one index on (subscriber_id, received_at) serves all of
them and the foreign key, so it replaces the subscriber_id index. Indexes only: compatible with
the previous release.
"""
from alembic import op


revision = 'b7c1d2e3f4a5'
down_revision = 'e031bdecf5f5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_messages_subscriber_received', ['subscriber_id', 'received_at'],
                              unique=False)
        batch_op.drop_index('ix_inbound_messages_subscriber_id')


def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_messages_subscriber_id', ['subscriber_id'], unique=False)
        batch_op.drop_index('ix_inbound_messages_subscriber_received')
