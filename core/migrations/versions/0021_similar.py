"""similar matters (集中的问题): each topic's keywords and LSH bucket keys, suggestions to group similar topics
and their members, originals merged into a primary topic

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('similar_buckets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('similar_buckets', schema=None) as batch_op:
        batch_op.create_index('ix_similar_buckets_key_topic', ['key', 'topic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_similar_buckets_topic_id'), ['topic_id'], unique=False)

    op.create_table('similar_indexed',
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('keywords', sa.Text(), nullable=False),
    sa.Column('indexed_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id')
    )
    op.create_table('similar_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.Column('decided_ms', sa.BigInteger(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('primary_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['primary_id'], ['topics.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('similar_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_similar_suggestions_state'), ['state'], unique=False)

    op.create_table('similar_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('matched_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('shared', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['matched_id'], ['topics.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['similar_suggestions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('suggestion_id', 'topic_id')
    )
    with op.batch_alter_table('similar_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_similar_members_suggestion_id'), ['suggestion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_similar_members_topic_id'), ['topic_id'], unique=False)

    op.create_table('similar_merged',
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('primary_id', sa.Integer(), nullable=False),
    sa.Column('suggestion_id', sa.Integer(), nullable=True),
    sa.Column('merged_ms', sa.BigInteger(), nullable=False),
    sa.Column('merged_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['primary_id'], ['topics.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['suggestion_id'], ['similar_suggestions.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id')
    )
    with op.batch_alter_table('similar_merged', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_similar_merged_primary_id'), ['primary_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('similar_merged', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_similar_merged_primary_id'))

    op.drop_table('similar_merged')
    with op.batch_alter_table('similar_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_similar_members_topic_id'))
        batch_op.drop_index(batch_op.f('ix_similar_members_suggestion_id'))

    op.drop_table('similar_members')
    with op.batch_alter_table('similar_suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_similar_suggestions_state'))

    op.drop_table('similar_suggestions')
    op.drop_table('similar_indexed')
    with op.batch_alter_table('similar_buckets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_similar_buckets_topic_id'))
        batch_op.drop_index('ix_similar_buckets_key_topic')

    op.drop_table('similar_buckets')
