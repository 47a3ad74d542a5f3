"""bulk imports as background jobs: import_job, and the huey_* tables of the job queue

An upload of the import page is kept and run by a worker process (huey); the job's state,
progress and report are kept in import_job. On PostgreSQL and MariaDB huey keeps its queue in
huey_task / huey_schedule / huey_kv / huey_counter (on SQLite in a file of its own).

Revision ID: 0016_import_jobs
Revises: 0015_decision_opinions
Create Date: 2026-12-02 05:30:00

"""

import sqlalchemy as sa
from alembic import op


revision = '0016_import_jobs'
down_revision = '0015_decision_opinions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("active_key", sa.String(length=40), nullable=True),
        sa.Column("rows_checked", sa.Integer(), nullable=False),
        sa.Column("rows_written", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("started_on", sa.DateTime(), nullable=True),
        sa.Column("finished_on", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_on", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_key"),
    )
    op.create_table(
        "huey_kv",
        sa.Column("queue", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("queue", "key"),
    )
    op.create_table(
        "huey_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("huey_schedule", schema=None) as batch_op:
        batch_op.create_index("ix_huey_schedule_timestamp", ["timestamp"], unique=False)
    op.create_table(
        "huey_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "huey_counter",
        sa.Column("queue", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("queue", "key"),
    )


def downgrade():
    op.drop_table("huey_counter")
    op.drop_table("huey_task")
    with op.batch_alter_table("huey_schedule", schema=None) as batch_op:
        batch_op.drop_index("ix_huey_schedule_timestamp")
    op.drop_table("huey_schedule")
    op.drop_table("huey_kv")
    op.drop_table("import_job")
