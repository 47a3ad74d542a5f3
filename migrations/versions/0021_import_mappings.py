"""import_mapping: a department's remembered reading of an import's header; import_job.options

Imports read the offices' own headers (issue 19): a column mapped by hand is remembered per
department, kind and (normalised) source header, and pre-fills the next preview. A queued job
keeps the mapping and the values filled in for all rows that the user confirmed (JSON).

Revision ID: 0021_import_mappings
Revises: 0024_audit_archive
Create Date: 2026-12-03 08:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0021_import_mappings"
down_revision = "0024_audit_archive"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source_header", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("changed_on", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "department_id", "kind", "source_header", name="uq_import_mapping_key"
        ),
    )
    with op.batch_alter_table("import_job") as batch:
        batch.add_column(sa.Column("options", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("import_job") as batch:
        batch.drop_column("options")
    op.drop_table("import_mapping")
