"""consultation activities: topics, invitations, materials, research, opinions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'activities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(length=120), nullable=False),
        sa.Column('form', sa.String(length=40), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('starts_ms', sa.BigInteger(), nullable=False),
        sa.Column('ends_ms', sa.BigInteger(), nullable=False),
        sa.Column('place', sa.String(length=300), nullable=False),
        sa.Column('organiser', sa.String(length=200), nullable=False),
        sa.Column('held_by', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('window_opens_ms', sa.BigInteger(), nullable=True),
        sa.Column('window_closes_ms', sa.BigInteger(), nullable=True),
        sa.Column('consensus', sa.Text(), nullable=True),
        sa.Column('consensus_counts', sa.Text(), nullable=True),
        sa.Column('consensus_ms', sa.BigInteger(), nullable=True),
        sa.Column('minutes', sa.Text(), nullable=True),
        sa.Column('minutes_approved_by', sa.String(length=200), nullable=True),
        sa.Column('minutes_approved_ms', sa.BigInteger(), nullable=True),
        sa.Column('closed_ms', sa.BigInteger(), nullable=True),
        sa.Column('cancelled_reason', sa.Text(), nullable=True),
        sa.Column('created_ms', sa.BigInteger(), nullable=False),
        sa.Column('updated_ms', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('uid'),
    )
    op.create_index('ix_activities_held_by', 'activities', ['held_by'])
    op.create_table(
        'activity_topics',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('topic_uid', sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('activity_id', 'topic_uid'),
    )
    op.create_index('ix_activity_topics_activity_id', 'activity_topics', ['activity_id'])
    op.create_index('ix_activity_topics_topic_uid', 'activity_topics', ['topic_uid'])
    op.create_table(
        'activity_invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('node_id', sa.String(length=40), nullable=True),
        sa.Column('invited_ms', sa.BigInteger(), nullable=False),
        sa.Column('reply', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('replied_ms', sa.BigInteger(), nullable=True),
        sa.Column('attended', sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['member_id'], ['members.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_activity_invitations_activity_id', 'activity_invitations', ['activity_id'])
    op.create_table(
        'activity_materials',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('added_ms', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_activity_materials_activity_id', 'activity_materials', ['activity_id'])
    op.create_table(
        'activity_research',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('who', sa.String(length=300), nullable=False),
        sa.Column('place', sa.String(length=300), nullable=False),
        sa.Column('done_ms', sa.BigInteger(), nullable=False),
        sa.Column('findings', sa.Text(), nullable=False),
        sa.Column('recorded_ms', sa.BigInteger(), nullable=False),
        sa.Column('recorded_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_activity_research_activity_id', 'activity_research', ['activity_id'])
    op.create_table(
        'activity_opinions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=False),
        sa.Column('speaker', sa.String(length=200), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('at_ms', sa.BigInteger(), nullable=False),
        sa.Column('posted_by', sa.String(length=200), nullable=False),
        sa.Column('node_id', sa.String(length=40), nullable=False),
        sa.Column('hidden', sa.Boolean(), nullable=False),
        sa.Column('merged_into_id', sa.Integer(), nullable=True),
        sa.Column('moderation_reason', sa.Text(), nullable=True),
        sa.Column('moderated_by', sa.String(length=200), nullable=True),
        sa.Column('moderated_ms', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['member_id'], ['members.id']),
        sa.ForeignKeyConstraint(['merged_into_id'], ['activity_opinions.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_activity_opinions_activity_id', 'activity_opinions', ['activity_id'])


def downgrade() -> None:
    op.drop_index('ix_activity_opinions_activity_id', table_name='activity_opinions')
    op.drop_table('activity_opinions')
    op.drop_index('ix_activity_research_activity_id', table_name='activity_research')
    op.drop_table('activity_research')
    op.drop_index('ix_activity_materials_activity_id', table_name='activity_materials')
    op.drop_table('activity_materials')
    op.drop_index('ix_activity_invitations_activity_id', table_name='activity_invitations')
    op.drop_table('activity_invitations')
    op.drop_index('ix_activity_topics_topic_uid', table_name='activity_topics')
    op.drop_index('ix_activity_topics_activity_id', table_name='activity_topics')
    op.drop_table('activity_topics')
    op.drop_index('ix_activities_held_by', table_name='activities')
    op.drop_table('activities')
