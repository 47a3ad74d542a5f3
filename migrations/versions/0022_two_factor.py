"""user_two_factor, user_recovery_code: two-factor sign-in (TOTP) and its recovery codes

One row per user who has started enrolment (keyed by ab_user.id), its one-time recovery codes
as salted hashes (app/security/two_factor.py). Nobody has a second factor after the upgrade.

Revision ID: 0022_two_factor
Revises: 0020_penalty_publicity
Create Date: 2026-12-03 08:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022_two_factor"
down_revision = "0020_penalty_publicity"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_two_factor",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("ab_user.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "user_recovery_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("user_two_factor.user_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("code_hash", sa.String(255), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_user_recovery_code_user_id", "user_recovery_code", ["user_id"])


def downgrade():
    # The table's index goes with it (MariaDB refuses to drop it first: its foreign key uses it).
    op.drop_table("user_recovery_code")
    op.drop_table("user_two_factor")
