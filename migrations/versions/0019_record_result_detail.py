"""inspection_record.result_detail: the second level of the result code (检查结果细类)

The national 双随机 result list splits 发现问题待后续处理 by the kind of rule broken and keeps
已注销 / 被吊销 / 被撤销 / 迁出 apart (app/inspections/result_codes.py). Existing records keep
their first-level code unchanged and get no second level: they show 未细分.

Revision ID: 0019_record_result_detail
Revises: 0018_drawn_target_draw_key
Create Date: 2026-12-02 18:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0019_record_result_detail"
down_revision = "0018_drawn_target_draw_key"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inspection_record") as batch:
        batch.add_column(sa.Column("result_detail", sa.String(40), nullable=True))


def downgrade():
    with op.batch_alter_table("inspection_record") as batch:
        batch.drop_column("result_detail")
