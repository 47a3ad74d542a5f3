"""target USCC search: a prefix index on PostgreSQL

The search form's first choice for the USCC is "starts with" (ILIKE '…%'). Without an index
it scans the department's targets (about 260 ms at 1,000,000 targets). A B-tree index with
text_pattern_ops serves it: PostgreSQL turns the pattern's leading characters that have no
case (digits, which every USCC starts with) into an index range. A trigram index does not
help here: all codes of one district share their leading trigrams. The equal search keeps the
unique index. PostgreSQL only, like 0009.

Revision ID: 0010_target_uscc_prefix
Revises: 0009_target_name_trigram
Create Date: 2026-11-28 08:20:00

"""
from alembic import op


revision = '0010_target_uscc_prefix'
down_revision = '0009_target_name_trigram'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_target_uscc_prefix ON target (uscc text_pattern_ops)"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_target_uscc_prefix")
