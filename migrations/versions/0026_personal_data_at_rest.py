"""personal data at rest: citizen ID numbers and phones encrypted, with blind indexes

inspector.phone, inspector.id_number, target.id_number and target.contact_phone are widened to
hold `v1:<key id>:<base64>` (AES-256-GCM, app/core/personal_data.py); each gets a blind index
column `<column>_bidx` (HMAC-SHA256, 32 hex characters). Every existing row is encrypted and
indexed in batches; the unique constraint of an inspector's ID number moves to its index, the
target's ID-number index too. Downgrade decrypts back. The keys are the application's
(DSR_DATA_KEYS, DSR_BLIND_INDEX_KEY): run it as `flask --app run.py db upgrade`.

Revision ID: 0026_personal_data_at_rest
Revises: 0025_audit_review
Create Date: 2026-12-03 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0026_personal_data_at_rest"
down_revision = "0025_audit_review"
branch_labels = None
depends_on = None

BATCH = 1000
ENCRYPTED_LENGTH = 200
INDEX_LENGTH = 32
# table -> [(column, plain length before this migration)]
COLUMNS = {
    "inspector": [("phone", 20), ("id_number", 18)],
    "target": [("id_number", 18), ("contact_phone", 20)],
}
# SQLite names its unnamed constraints by this convention inside batch mode.
CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
NEW_UNIQUE = "uq_inspector_id_number_bidx"


def _convert(table, plain=False):
    """Every row of the table encrypted and indexed (or, `plain`, decrypted), in batches."""
    from app.core.personal_data import rewrite_batch

    columns = [name for name, _length in COLUMNS[table]]
    last = 0
    while last is not None:
        last, _written = rewrite_batch(op.get_bind(), table, columns, last, plain=plain, size=BATCH)


def _unique_name(table, columns):
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints(table):
        if constraint["column_names"] == columns:
            return constraint["name"] or CONVENTION["uq"] % {
                "table_name": table,
                "column_0_name": columns[0],
            }
    return None


def upgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch_op:
            for column, length in columns:
                batch_op.alter_column(
                    column,
                    existing_type=sa.String(length=length),
                    type_=sa.String(length=ENCRYPTED_LENGTH),
                    existing_nullable=True,
                )
                batch_op.add_column(sa.Column(f"{column}_bidx", sa.String(INDEX_LENGTH)))
        _convert(table)

    old_unique = _unique_name("inspector", ["id_number"])
    with op.batch_alter_table("inspector", naming_convention=CONVENTION) as batch_op:
        if old_unique is not None:
            batch_op.drop_constraint(old_unique, type_="unique")
        batch_op.create_unique_constraint(NEW_UNIQUE, ["id_number_bidx"])
    with op.batch_alter_table("target") as batch_op:
        batch_op.drop_index("ix_target_id_number")
        batch_op.create_index("ix_target_id_number_bidx", ["id_number_bidx"], unique=False)


def downgrade():
    with op.batch_alter_table("target") as batch_op:
        batch_op.drop_index("ix_target_id_number_bidx")
        batch_op.create_index("ix_target_id_number", ["id_number"], unique=False)
    with op.batch_alter_table("inspector") as batch_op:
        batch_op.drop_constraint(NEW_UNIQUE, type_="unique")
    for table, columns in COLUMNS.items():
        _convert(table, plain=True)
        with op.batch_alter_table(table) as batch_op:
            for column, length in columns:
                batch_op.drop_column(f"{column}_bidx")
                batch_op.alter_column(
                    column,
                    existing_type=sa.String(length=ENCRYPTED_LENGTH),
                    type_=sa.String(length=length),
                    existing_nullable=True,
                )
    with op.batch_alter_table("inspector") as batch_op:
        batch_op.create_unique_constraint("uq_inspector_id_number", ["id_number"])
