"""enrollment patient label (issue 18)

Revision ID: i18a_patient_label
Revises: i16a0reviews
Create Date: 2026-12-07 02:00:00

An optional label a clinic gives an enrollment to tell patients apart (initials or a record
number), shown only to that clinic. Nullable: the previous release keeps working.
"""
from alembic import op
import sqlalchemy as sa


revision = 'i18a_patient_label'
down_revision = 'i16a0reviews'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_label', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_column('patient_label')
