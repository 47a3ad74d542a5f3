"""audit_log: one index on (object_type, object_id, seq) instead of object_type alone

A record's history (app/core/audit/history.py: one object's rows, newest first) read every row
of its type through the old index: after a bulk import of 100,000 targets that is 100,000 rows
for each target page. The new index finds the object's rows directly, already in order, and
still serves a search by type alone (its first column), so the log keeps as many indexes as
before and a bulk import writes no more.

Revision ID: 0023_audit_object_index
Revises: 0019_record_result_detail
Create Date: 2026-12-03 08:30:00

"""

from alembic import op

revision = "0023_audit_object_index"
down_revision = "0019_record_result_detail"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_log") as batch:
        batch.create_index("ix_audit_log_object", ["object_type", "object_id", "seq"])
        batch.drop_index("ix_audit_log_object_type")


def downgrade():
    with op.batch_alter_table("audit_log") as batch:
        batch.create_index("ix_audit_log_object_type", ["object_type"])
        batch.drop_index("ix_audit_log_object")
