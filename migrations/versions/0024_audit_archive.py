"""audit_archive: the segments of the audit log moved into archive files

`flask audit archive` moves rows older than the retention period (AUDIT_RETENTION_DAYS, at
least 180) into a file and records the segment here, so that the hash chain stays verifiable
across the cut (app/core/audit/archive.py).

Revision ID: 0024_audit_archive
Revises: 0023_audit_object_index
Create Date: 2026-12-03 08:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0024_audit_archive"
down_revision = "0023_audit_object_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("cutoff", sa.DateTime(), nullable=False),
        sa.Column("file_path", sa.String(length=500), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("first_seq"),
        sa.UniqueConstraint("last_seq"),
    )


def downgrade():
    op.drop_table("audit_archive")
