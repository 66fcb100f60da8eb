"""summaries: the latest figures of each node under this one (issue 15, part 3)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'node_summaries',
        sa.Column('node_id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('level', sa.String(length=20), nullable=True),
        sa.Column('parent_id', sa.String(length=40), nullable=True),
        sa.Column('via', sa.String(length=40), nullable=False),
        sa.Column('as_of_ms', sa.BigInteger(), nullable=False),
        sa.Column('received_ms', sa.BigInteger(), nullable=False),
        sa.Column('figures', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('node_id'),
    )
    op.create_index('ix_node_summaries_via', 'node_summaries', ['via'])


def downgrade() -> None:
    op.drop_index('ix_node_summaries_via', table_name='node_summaries')
    op.drop_table('node_summaries')
