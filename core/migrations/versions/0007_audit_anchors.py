"""children's audit anchors kept by the parent

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fed_audit_anchors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child', sa.String(length=40), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('anchored_ms', sa.BigInteger(), nullable=False),
        sa.Column('received_ms', sa.BigInteger(), nullable=False),
        sa.Column('transfer_id', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_fed_audit_anchors_child', 'fed_audit_anchors', ['child'])


def downgrade() -> None:
    op.drop_index('ix_fed_audit_anchors_child', table_name='fed_audit_anchors')
    op.drop_table('fed_audit_anchors')
