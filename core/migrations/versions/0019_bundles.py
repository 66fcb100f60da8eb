"""bundles: a neighbour reached by bundle files only (no HTTP delivery), and when an outbox row was handed over in one

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fed_peers') as batch:
        batch.add_column(sa.Column('delivery', sa.String(length=10), nullable=False, server_default='http'))
    with op.batch_alter_table('fed_outbox') as batch:
        batch.add_column(sa.Column('bundled_ms', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fed_outbox') as batch:
        batch.drop_column('bundled_ms')
    with op.batch_alter_table('fed_peers') as batch:
        batch.drop_column('delivery')
