"""target name search: a trigram index on PostgreSQL (pg_trgm)

"contains" searches on the target directory (ILIKE '%…%') scan every row of the department
without it; with it they use the GIN index. PostgreSQL only: SQLite and MariaDB keep the scan.
pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.

Revision ID: 0009_target_name_trigram
Revises: 0008_credit
Create Date: 2026-11-28 06:10:00

"""
from alembic import op


revision = '0009_target_name_trigram'
down_revision = '0008_credit'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_target_name_trgm ON target USING gin (name gin_trgm_ops)"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_target_name_trgm")
