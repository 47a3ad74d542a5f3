"""a Leader's decisions and their 意见 (opinions)

Plans and checks outside the plan had only their latest return comment: one row per approve,
return or refusal keeps who decided, when, and the opinion.

Revision ID: 0015_decision_opinions
Revises: 0014_case_transfer
Create Date: 2026-12-02 01:00:00

"""

import sqlalchemy as sa
from alembic import op


revision = '0015_decision_opinions'
down_revision = '0014_case_transfer'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_on", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["decided_by_id"], ["ab_user.id"]),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index("ix_decision_object", ["object_type", "object_id"], unique=False)


def downgrade():
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_object")
    op.drop_table("decision")
