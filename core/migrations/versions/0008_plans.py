"""annual consultation plans: plans, their items, approval steps and amendments

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'plans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(length=120), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('created_ms', sa.BigInteger(), nullable=False),
        sa.Column('updated_ms', sa.BigInteger(), nullable=False),
        sa.Column('published_ms', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uid'),
        sa.UniqueConstraint('year'),
    )
    op.create_table(
        'plan_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('topic_uid', sa.String(length=120), nullable=False),
        sa.Column('topic_title', sa.String(length=300), nullable=False),
        sa.Column('form', sa.String(length=40), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('date', sa.String(length=10), nullable=True),
        sa.Column('lead', sa.String(length=200), nullable=False),
        sa.Column('participants', sa.Text(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('added_ms', sa.BigInteger(), nullable=False),
        sa.Column('by_amendment', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('plan_id', 'topic_uid'),
    )
    op.create_index('ix_plan_items_plan_id', 'plan_items', ['plan_id'])
    op.create_table(
        'plan_steps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('step', sa.String(length=40), nullable=False),
        sa.Column('approver', sa.String(length=200), nullable=False),
        sa.Column('reference', sa.String(length=200), nullable=False),
        sa.Column('opinion', sa.Text(), nullable=False),
        sa.Column('decision', sa.String(length=20), nullable=False),
        sa.Column('decided_on', sa.String(length=10), nullable=False),
        sa.Column('at_ms', sa.BigInteger(), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_plan_steps_plan_id', 'plan_steps', ['plan_id'])
    op.create_table(
        'plan_amendments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('topic_uid', sa.String(length=120), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('approved_by', sa.String(length=200), nullable=False),
        sa.Column('reference', sa.String(length=200), nullable=False),
        sa.Column('changes', sa.Text(), nullable=False),
        sa.Column('at_ms', sa.BigInteger(), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['plan_items.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_plan_amendments_plan_id', 'plan_amendments', ['plan_id'])


def downgrade() -> None:
    op.drop_index('ix_plan_amendments_plan_id', table_name='plan_amendments')
    op.drop_table('plan_amendments')
    op.drop_index('ix_plan_steps_plan_id', table_name='plan_steps')
    op.drop_table('plan_steps')
    op.drop_index('ix_plan_items_plan_id', table_name='plan_items')
    op.drop_table('plan_items')
    op.drop_table('plans')
