"""session controls: one place at a time, password age

ab_user.current_session (the account's one browser session, SESSION_SINGLE) with the time and
address of its sign-in (signed_in_at, signed_in_ip), and ab_user.password_changed_at (when the
password was last set; NULL: set by the security administrator, to be changed at the next
sign-in). Every existing account gets the migration's time as password_changed_at, so that
nobody is held on the change-password page by the upgrade; PASSWORD_MAX_AGE_DAYS counts from it.

Revision ID: 0027_session_controls
Revises: 0026_personal_data_at_rest
Create Date: 2026-12-03 14:00:00

"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0027_session_controls"
down_revision = "0026_personal_data_at_rest"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ab_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_session", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("signed_in_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("signed_in_ip", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("password_changed_at", sa.DateTime(), nullable=True))
    now = dt.datetime.now().replace(microsecond=0)
    user = sa.table("ab_user", sa.column("password_changed_at", sa.DateTime()))
    op.execute(user.update().values(password_changed_at=now))


def downgrade():
    with op.batch_alter_table("ab_user", schema=None) as batch_op:
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("signed_in_ip")
        batch_op.drop_column("signed_in_at")
        batch_op.drop_column("current_session")
