"""penalty: the fields of 信用中国's 双公示 行政处罚 standard; department.uscc

A penalty records 行政相对人类别, 违法行为类型, 违法事实, 处罚依据, 处罚类别, the amounts (万元, six
decimals), the licence held or revoked, 处罚有效期, 公示截止期, 处罚机关 and 数据来源单位 with their
unified social credit codes, and 备注; a department keeps its own unified social credit code.

Existing penalties get what can be known: 行政相对人类别 from the target's type, 处罚机关 and
数据来源单位 from the task's department's bureau (its name; no code yet: departments have none
before this revision). The rest stays empty; the penalty export lists such rows as missing
required fields (docs/exports.md).

Revision ID: 0020_penalty_publicity
Revises: 0021_import_mappings
Create Date: 2026-12-03 08:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0020_penalty_publicity"
down_revision = "0021_import_mappings"
branch_labels = None
depends_on = None

COLUMNS = (
    ("party_category", sa.String(20)),
    ("violation_type", sa.String(200)),
    ("violation_facts", sa.Text()),
    ("legal_basis", sa.Text()),
    ("kinds", sa.String(200)),
    ("fine_amount", sa.Numeric(18, 6)),
    ("confiscation_amount", sa.Numeric(18, 6)),
    ("licence", sa.String(200)),
    ("valid_until", sa.Date()),
    ("publicity_until", sa.Date()),
    ("authority", sa.String(200)),
    ("authority_uscc", sa.String(18)),
    ("source_unit", sa.String(200)),
    ("source_uscc", sa.String(18)),
    ("note", sa.Text()),
)


def _bureau_names(bind) -> dict[int, str]:
    """department id -> the name of its issuing body (the nearest 'bureau' above it, itself
    included, else the root), as Department.bureau finds it."""
    rows = bind.execute(sa.text("SELECT id, name, kind, parent_id FROM department")).all()
    by_id = {row.id: row for row in rows}
    names = {}
    for row in rows:
        node, seen, top = row, set(), row
        while node is not None and node.id not in seen:
            if node.kind == "bureau":
                top = node
                break
            seen.add(node.id)
            top = node
            node = by_id.get(node.parent_id)
        names[row.id] = top.name
    return names


def upgrade():
    with op.batch_alter_table("department") as batch:
        batch.add_column(sa.Column("uscc", sa.String(18), nullable=True))
    with op.batch_alter_table("penalty") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))

    bind = op.get_bind()
    bureaus = _bureau_names(bind)
    rows = bind.execute(
        sa.text(
            "SELECT p.id, t.target_type, k.department_id FROM penalty p "
            "JOIN target t ON t.id = p.target_id "
            "JOIN spot_check_task k ON k.id = p.task_id"
        )
    ).all()
    party = {"自然人": "自然人", "个体工商户": "个体工商户"}
    update = sa.text(
        "UPDATE penalty SET party_category = :party, authority = :organ, source_unit = :organ "
        "WHERE id = :id"
    )
    for row in rows:
        bind.execute(
            update,
            {
                "id": row.id,
                "party": party.get(row.target_type, "法人及非法人组织"),
                "organ": bureaus.get(row.department_id),
            },
        )


def downgrade():
    with op.batch_alter_table("penalty") as batch:
        for name, _kind in reversed(COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("department") as batch:
        batch.drop_column("uscc")
