"""call_sessions trials_zip, caller_verified

Revision ID: i14v0a1b2c3d4
Revises: i18a_patient_label
Create Date: 2026-12-07 02:50:00

Issue 14: the trials ZIP search is part of the one call flow (service/channels/voice_flow.py); the
ZIP a caller typed is kept on the call while they choose 9 (text the list), 1 or 0. Nullable: the
previous release ignores it. Issue 17: caller_verified (Twilio's StirVerstat showed full
attestation) decides whether "press 9" may text the caller ID at once; false by default.
"""
from alembic import op
import sqlalchemy as sa


revision = 'i14v0a1b2c3d4'
down_revision = 'i18a_patient_label'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trials_zip', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('caller_verified', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('call_sessions', schema=None) as batch_op:
        batch_op.drop_column('caller_verified')
        batch_op.drop_column('trials_zip')
