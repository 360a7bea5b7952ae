"""content reviews, locale notices, reviewer role

Revision ID: i16a0reviews
Revises: i19a1b2c3d4e5
Create Date: 2026-12-07 01:55:00

Issue 16 (clinical review of every text). A migration runs while the previous release is still
serving: everything here is additive for that code. staff_users.clinic_id and audit_log.clinic_id
become nullable (a program-level reviewer has no clinic; the previous release always sets one),
staff_users accepts role "reviewer" and ties "no clinic" to that role.
"""
from alembic import op
import sqlalchemy as sa
import service.db


revision = 'i16a0reviews'
down_revision = 'i19a1b2c3d4e5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'content_reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('decision', sa.String(length=20), nullable=False),
        sa.Column('reviewer', sa.String(length=254), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('english', sa.Text(), nullable=False),
        sa.Column('translation', sa.Text(), nullable=False),
        sa.Column('created_at', service.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("decision IN ('approved', 'changes_requested')", name=op.f('ck_content_reviews_decision')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_reviews')),
    )
    op.create_index('ix_content_reviews_locale_key', 'content_reviews', ['locale', 'key', 'id'], unique=False)
    op.create_table(
        'locale_notices',
        sa.Column('subscriber_id', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('created_at', service.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_locale_notices_subscriber_id_subscribers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('subscriber_id', 'locale', name=op.f('pk_locale_notices')),
    )
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.alter_column('clinic_id', existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint(op.f('ck_staff_users_role'), type_='check')
        batch_op.create_check_constraint('role', "role IN ('clinic_admin', 'staff', 'reviewer')")
        batch_op.create_check_constraint('role_clinic', "(role = 'reviewer') = (clinic_id IS NULL)")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('clinic_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM staff_users WHERE role = 'reviewer'")
    op.execute("DELETE FROM audit_log WHERE clinic_id IS NULL")
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('clinic_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_staff_users_role_clinic'), type_='check')
        batch_op.drop_constraint(op.f('ck_staff_users_role'), type_='check')
        batch_op.create_check_constraint('role', "role IN ('clinic_admin', 'staff')")
        batch_op.alter_column('clinic_id', existing_type=sa.Integer(), nullable=False)
    op.drop_table('locale_notices')
    op.drop_index('ix_content_reviews_locale_key', table_name='content_reviews')
    op.drop_table('content_reviews')
