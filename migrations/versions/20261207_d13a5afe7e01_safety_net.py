"""red-flag classes and the safety window

Revision ID: d13a5afe7e01
Revises: c3d4e5f6a7b8
Create Date: 2026-12-07 02:00:00

Issue 13: each red flag has a class (emergency, crisis, urgent); a subscriber remembers the class
and time of the last safety reply, so a "yes" right after it is never taken as consent; a clinic's
urgent task carries the class and the person's own words; a call remembers the safety reply it
said, so * repeats it instead of a menu. Nullable columns: the previous release
ignores them.
"""
from alembic import op
import sqlalchemy as sa

import service.db


revision = 'd13a5afe7e01'
down_revision = 'c3d4e5f6a7b8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('safety', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('safety_at', service.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('call_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('safety', sa.String(length=20), nullable=True))
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('red_flag_class', sa.String(length=12), nullable=True))
    with op.batch_alter_table('follow_up_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('red_flag_class', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('red_flag_words', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('follow_up_tasks', schema=None) as batch_op:
        batch_op.drop_column('red_flag_words')
        batch_op.drop_column('red_flag_class')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('red_flag_class')
    with op.batch_alter_table('call_sessions', schema=None) as batch_op:
        batch_op.drop_column('safety')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('safety_at')
        batch_op.drop_column('safety')
