"""duty records: items recorded by hand with evidence, or reported by a lower node

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('duty_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('date', sa.String(length=10), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('evidence_text', sa.Text(), nullable=True),
    sa.Column('evidence_name', sa.String(length=300), nullable=True),
    sa.Column('evidence_type', sa.String(length=100), nullable=True),
    sa.Column('evidence_size', sa.BigInteger(), nullable=True),
    sa.Column('evidence_sha256', sa.String(length=64), nullable=True),
    sa.Column('evidence_data', sa.LargeBinary(), nullable=True),
    sa.Column('reported_by', sa.String(length=40), nullable=True),
    sa.Column('ref', sa.String(length=120), nullable=True),
    sa.Column('message', sa.String(length=100), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'reported_by', 'ref', name='uq_duty_items_reported')
    )
    with op.batch_alter_table('duty_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_items_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_duty_items_year'), ['year'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('duty_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_items_year'))
        batch_op.drop_index(batch_op.f('ix_duty_items_member_id'))
    op.drop_table('duty_items')
