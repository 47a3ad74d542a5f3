"""rectification case handovers (移交, 谁管辖谁负责)

A case handed over to another department is a recorded step with its reason, not a field edit:
one row per handover, naming the sending and the receiving department.

Revision ID: 0014_case_transfer
Revises: 0013_sessions_and_throttle
Create Date: 2026-12-01 21:40:00

"""

import sqlalchemy as sa
from alembic import op


revision = '0014_case_transfer'
down_revision = '0013_sessions_and_throttle'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_transfer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("from_department_id", sa.Integer(), nullable=False),
        sa.Column("to_department_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("changed_on", sa.DateTime(), nullable=False),
        sa.Column("created_by_fk", sa.Integer(), nullable=False),
        sa.Column("changed_by_fk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["rectification_case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_fk"],
            ["ab_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_fk"],
            ["ab_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["from_department_id"],
            ["department.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_department_id"],
            ["department.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_transfer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_transfer_case_id"), ["case_id"], unique=False)


def downgrade():
    with op.batch_alter_table("case_transfer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_transfer_case_id"))
    op.drop_table("case_transfer")
