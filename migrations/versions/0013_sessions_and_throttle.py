"""sessions end on sign-out and password change; sign-in throttling shared by every process

ab_user.session_version is carried by every session cookie and API token and raised on
sign-out, a new password and deactivation. rate_limit_counter holds the sign-in rate limit
(Flask-Limiter's "database://" storage) and the per-account lockout counters.

Revision ID: 0013_sessions_and_throttle
Revises: 0012_draw_ledger
Create Date: 2026-12-01 21:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_sessions_and_throttle'
down_revision = '0012_draw_ledger'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), server_default='0', nullable=False)
        )
    op.create_table(
        'rate_limit_counter',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_rate_limit_counter_expires_at'), ['expires_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('rate_limit_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_counter_expires_at'))
    op.drop_table('rate_limit_counter')
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
