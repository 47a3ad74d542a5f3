"""audit_review: the audit administrator's marks 已审阅 with a note, one per audit row

The audit rows are hash-chained and never changed: a mark lives beside its row, named by the
row's `seq`, and is itself an `audit_review` event of the chain (app/core/audit/review.py).
Archiving deletes the marks of the rows it moves (app/core/audit/archive.py).

Revision ID: 0025_audit_review
Revises: 0022_two_factor
Create Date: 2026-12-03 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0025_audit_review"
down_revision = "0022_two_factor"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("reviewer_username", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("audit_seq"),
    )


def downgrade():
    op.drop_table("audit_review")
