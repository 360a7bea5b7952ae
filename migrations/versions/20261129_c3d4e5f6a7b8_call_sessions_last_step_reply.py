"""call_sessions last_step, last_reply

Revision ID: c3d4e5f6a7b8
Revises: b7c1d2e3f4a5
Create Date: 2026-11-29 05:30:00

A Twilio retry of a voice request (same CallSid, same ?step=) gets the TwiML it was answered with
the first time instead of moving the call on twice (service/channels/voice.py). Nullable columns:
the previous release ignores them.
"""
from alembic import op
import sqlalchemy as sa


revision = 'c3d4e5f6a7b8'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_reply', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('call_sessions', schema=None) as batch_op:
        batch_op.drop_column('last_reply')
        batch_op.drop_column('last_step')
