"""drawn_target: one foreign key (draw_id, task_id) to draw instead of one each to draw and task

A done target draw writes its selection (tens of thousands of rows at a million targets) in one
COPY, and PostgreSQL checks every foreign key of every row. The draw's key and the task's key
become one key to draw(id, task_id): a drawn target's task is now also checked to be its draw's
task, and the task's own key follows from draw.task_id. The index on draw_id alone goes, for
uq_drawn_target (draw_id, target_id) serves the same lookups. Together about a quarter of the
selection's writing time (docs/performance.md).

Revision ID: 0018_drawn_target_draw_key
Revises: 0017_draw_pool_strata
Create Date: 2026-12-02 17:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0018_drawn_target_draw_key"
down_revision = "0017_draw_pool_strata"
branch_labels = None
depends_on = None

# SQLite's foreign keys have no names: batch mode names them by this convention to drop them.
_SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s"}


def _foreign_key_names() -> dict[tuple[str, ...], str]:
    inspector = sa.inspect(op.get_bind())
    return {
        tuple(fk["constrained_columns"]): fk["name"]
        for fk in inspector.get_foreign_keys("drawn_target")
    }


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("draw") as batch_op:
            batch_op.create_unique_constraint("uq_draw_task", ["id", "task_id"])
        with op.batch_alter_table("drawn_target", naming_convention=_SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint("fk_drawn_target_draw_id", type_="foreignkey")
            batch_op.drop_constraint("fk_drawn_target_task_id", type_="foreignkey")
            batch_op.create_foreign_key(
                "fk_drawn_target_draw", "draw", ["draw_id", "task_id"], ["id", "task_id"]
            )
            batch_op.drop_index("ix_drawn_target_draw_id")
        return
    names = _foreign_key_names()
    op.create_unique_constraint("uq_draw_task", "draw", ["id", "task_id"])
    op.drop_constraint(names[("draw_id",)], "drawn_target", type_="foreignkey")
    op.drop_constraint(names[("task_id",)], "drawn_target", type_="foreignkey")
    op.create_foreign_key(
        "fk_drawn_target_draw", "drawn_target", "draw", ["draw_id", "task_id"], ["id", "task_id"]
    )
    op.drop_index("ix_drawn_target_draw_id", table_name="drawn_target")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("drawn_target", naming_convention=_SQLITE_NAMES) as batch_op:
            batch_op.create_index("ix_drawn_target_draw_id", ["draw_id"], unique=False)
            batch_op.drop_constraint("fk_drawn_target_draw", type_="foreignkey")
            batch_op.create_foreign_key("fk_drawn_target_draw_id", "draw", ["draw_id"], ["id"])
            batch_op.create_foreign_key(
                "fk_drawn_target_task_id", "spot_check_task", ["task_id"], ["id"]
            )
        with op.batch_alter_table("draw") as batch_op:
            batch_op.drop_constraint("uq_draw_task", type_="unique")
        return
    op.create_index("ix_drawn_target_draw_id", "drawn_target", ["draw_id"], unique=False)
    op.drop_constraint("fk_drawn_target_draw", "drawn_target", type_="foreignkey")
    op.create_foreign_key(None, "drawn_target", "draw", ["draw_id"], ["id"])
    op.create_foreign_key(None, "drawn_target", "spot_check_task", ["task_id"], ["id"])
    op.drop_constraint("uq_draw_task", "draw", type_="unique")
