"""staff session token, login_attempts ip index

Revision ID: e031bdecf5f5
Revises: aee0d56da802
Create Date: 2026-11-29 04:11:07.045892

A migration runs while the previous release is still serving: keep it compatible with that code
(add columns nullable or with defaults first; drop only in a later release).

staff_users.session_token is part of every portal session cookie; sign-out and a password change
replace it (service/portal/__init__.py). Nullable, so the previous release can still create
staff; existing accounts get a token here. Portal cookies issued before this release carry no
token and are refused: everyone signs in once more after the deploy.
login_attempts gets an (ip, created_at) index for the per-address sign-in throttle.
"""
import secrets

from alembic import op
import sqlalchemy as sa
import service.db


revision = 'e031bdecf5f5'
down_revision = 'aee0d56da802'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_ip_created', ['ip', 'created_at'], unique=False)

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))

    staff = sa.table('staff_users', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    conn = op.get_bind()
    for (staff_id,) in conn.execute(sa.select(staff.c.id)).all():
        conn.execute(sa.update(staff).where(staff.c.id == staff_id)
                     .values(session_token=secrets.token_urlsafe(32)))


def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('session_token')

    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_ip_created')
