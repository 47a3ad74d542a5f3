"""a committed target draw's pool per stratum (PostgreSQL): draw_pool_stratum

Freezing a target draw on PostgreSQL writes, beside the pool's canonical JSON, each stratum's
candidate ids as one bigint[]; completing the draw ranks from these instead of parsing the JSON
back, and deletes them. Draws committed before this revision are ranked from their JSON as
before (app/draws/pool.py). The arrays are stored uncompressed (STORAGE EXTERNAL): ids do not
compress, and trying costs time. On SQLite and MariaDB the table exists and stays empty.

Revision ID: 0017_draw_pool_strata
Revises: 0016_import_jobs
Create Date: 2026-12-02 14:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0017_draw_pool_strata'
down_revision = '0016_import_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "draw_pool_stratum",
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(length=20), nullable=False),
        sa.Column(
            "ids",
            sa.Text().with_variant(postgresql.ARRAY(sa.BigInteger()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["draw_id"], ["draw.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("draw_id", "stratum"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE draw_pool_stratum ALTER COLUMN ids SET STORAGE EXTERNAL")


def downgrade():
    op.drop_table("draw_pool_stratum")
