"""published results keep what they published: the target as entered / published

An inspection record and a blacklist entry keep the target's name, type, code (the USCC, or a
natural person's ID number masked) and address as they were when the record was entered or the
listing published. Public pages, exports, DOCX reports and archive bundles print these columns;
renaming a target later changes none of them.

Existing rows are filled from the target as it is now (the best there is): every inspection
record, and the blacklist entries already published (the others get theirs at publication).

Revision ID: 0011_target_snapshots
Revises: 0010_target_uscc_prefix
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_target_snapshots'
down_revision = '0010_target_uscc_prefix'
branch_labels = None
depends_on = None

NATURAL_PERSON = "自然人"
COLUMNS = ("target_name", "target_type", "target_code", "target_address")


def _mask_id_number(value):
    # app/core/masking.mask_id_number, frozen here as it was when this migration was written.
    number = "".join(str(value or "").split()).replace("-", "").upper()
    n = len(number)
    if n >= 12:
        return number[:4] + "*" * (n - 8) + number[-4:]
    if n > 4:
        return "*" * (n - 2) + number[-2:]
    return "*" * (n - 1) + number[-1:] if n > 1 else "*" * n


def _add_columns(table):
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('target_type', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('target_code', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('target_address', sa.String(length=300), nullable=True))


def _backfill(table, condition):
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            f"SELECT r.id, t.name, t.target_type, t.uscc, t.id_number, t.address "
            f"FROM {table} r JOIN target t ON t.id = r.target_id WHERE {condition}"
        )
    ).all()
    update = sa.text(
        f"UPDATE {table} SET target_name = :name, target_type = :type, "
        f"target_code = :code, target_address = :address WHERE id = :id"
    )
    params = [
        {
            "id": row.id,
            "name": row.name,
            "type": row.target_type,
            "code": (
                _mask_id_number(row.id_number) or None
                if row.target_type == NATURAL_PERSON
                else row.uscc or None
            ),
            "address": row.address,
        }
        for row in rows
    ]
    for start in range(0, len(params), 1000):
        bind.execute(update, params[start : start + 1000])


def upgrade():
    _add_columns('inspection_record')
    _add_columns('blacklist_entry')
    _backfill('inspection_record', "1 = 1")
    _backfill('blacklist_entry', "r.published_on IS NOT NULL")
    with op.batch_alter_table('inspection_record', schema=None) as batch_op:
        batch_op.alter_column(
            'target_name', existing_type=sa.String(length=200), nullable=False
        )
        batch_op.alter_column('target_type', existing_type=sa.String(length=10), nullable=False)


def downgrade():
    for table in ('blacklist_entry', 'inspection_record'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(COLUMNS):
                batch_op.drop_column(column)
