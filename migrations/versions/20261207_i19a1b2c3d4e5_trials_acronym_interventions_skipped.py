"""trial_studies acronym, interventions; trial_syncs skipped, skip_reasons

Revision ID: i19a1b2c3d4e5
Revises: d13a5afe7e01
Create Date: 2026-12-07 02:00:00

Issue 19: a text names a study by its acronym and the treatments tested ("INAVO122: Inavolisib +
Phesgo") instead of a cut title, and `trials sync` records how many studies it skipped and why.
Columns with server defaults: the previous release ignores them and the next sync fills them.
"""
from alembic import op
import sqlalchemy as sa


revision = 'i19a1b2c3d4e5'
down_revision = 'd13a5afe7e01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('trial_studies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acronym', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('interventions', sa.String(length=200), server_default='', nullable=False))
    with op.batch_alter_table('trial_syncs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skipped', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('skip_reasons', sa.String(length=300), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('trial_syncs', schema=None) as batch_op:
        batch_op.drop_column('skip_reasons')
        batch_op.drop_column('skipped')
    with op.batch_alter_table('trial_studies', schema=None) as batch_op:
        batch_op.drop_column('interventions')
        batch_op.drop_column('acronym')
