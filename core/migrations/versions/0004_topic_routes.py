"""topic routes: upstream node, acceptance, instructions, closing time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('topics') as batch:
        batch.add_column(sa.Column('upstream', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('accepted_ms', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('instructions', sa.Text(), nullable=True))
        batch.add_column(sa.Column('closed_ms', sa.BigInteger(), nullable=True))
        batch.create_index('ix_topics_holder', ['holder'])


def downgrade() -> None:
    with op.batch_alter_table('topics') as batch:
        batch.drop_index('ix_topics_holder')
        batch.drop_column('closed_ms')
        batch.drop_column('instructions')
        batch.drop_column('accepted_ms')
        batch.drop_column('upstream')
