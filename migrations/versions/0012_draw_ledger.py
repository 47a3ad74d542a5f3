"""the public draw ledger (摇号公示台账): append-only, hash-chained entries and their head row

Every draw step (commit, entropy, complete, cancel, substitute) and a daily audit_head entry
is a row of draw_ledger, published at /public/draws/ledger.json. Appenders lock the single
draw_ledger_head row; unique seq and prev_hash keep one chain (app/draws/ledger.py).

Revision ID: 0012_draw_ledger
Revises: 0011_target_snapshots
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_draw_ledger'
down_revision = '0011_target_snapshots'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('draw_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('draw_uid', sa.String(length=40), nullable=True),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prev_hash'),
    sa.UniqueConstraint('seq')
    )
    with op.batch_alter_table('draw_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draw_ledger_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_draw_ledger_draw_uid'), ['draw_uid'], unique=False)
        batch_op.create_index(batch_op.f('ix_draw_ledger_event'), ['event'], unique=False)

    op.create_table('draw_ledger_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # The ledger starts empty: its head row exists from the beginning.
    op.bulk_insert(
        sa.table('draw_ledger_head', sa.column('id', sa.Integer),
                 sa.column('last_seq', sa.BigInteger), sa.column('last_hash', sa.String)),
        [{'id': 1, 'last_seq': 0, 'last_hash': '0' * 64}],
    )


def downgrade():
    op.drop_table('draw_ledger_head')
    with op.batch_alter_table('draw_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draw_ledger_event'))
        batch_op.drop_index(batch_op.f('ix_draw_ledger_draw_uid'))
        batch_op.drop_index(batch_op.f('ix_draw_ledger_day'))
    op.drop_table('draw_ledger')
