"""topics

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('areas', sa.Text(), nullable=False),
    sa.Column('raised_by_kind', sa.String(length=30), nullable=False),
    sa.Column('raised_by_name', sa.String(length=200), nullable=False),
    sa.Column('raised_ms', sa.BigInteger(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('holder', sa.String(length=40), nullable=False),
    sa.Column('due_ms', sa.BigInteger(), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    op.create_table('topic_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('topic_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_attachments_topic_id'), ['topic_id'], unique=False)

    op.create_table('topic_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('node', sa.String(length=40), nullable=False),
    sa.Column('from_stage', sa.String(length=20), nullable=True),
    sa.Column('to_stage', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('topic_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_events_topic_id'), ['topic_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('topic_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_events_topic_id'))

    op.drop_table('topic_events')
    with op.batch_alter_table('topic_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_attachments_topic_id'))

    op.drop_table('topic_attachments')
    op.drop_table('topics')

