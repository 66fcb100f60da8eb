"""social-opinion reports: reports, their decisions at every level, the periodical's issues

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('opinion_issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('compiled_by', sa.String(length=200), nullable=False),
    sa.Column('compiled_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('year', 'number')
    )
    op.create_table('opinions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('sentiment', sa.Text(), nullable=False),
    sa.Column('analysis', sa.Text(), nullable=False),
    sa.Column('suggestion', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('author_kind', sa.String(length=20), nullable=False),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('member_no', sa.String(length=40), nullable=True),
    sa.Column('author_node', sa.String(length=40), nullable=False),
    sa.Column('written_node', sa.String(length=40), nullable=False),
    sa.Column('written_ms', sa.BigInteger(), nullable=False),
    sa.Column('written_by', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('forwarded_to', sa.String(length=40), nullable=True),
    sa.Column('origin_node', sa.String(length=40), nullable=True),
    sa.Column('origin_ref', sa.String(length=60), nullable=True),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['opinion_issues.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('opinions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opinions_issue_id'), ['issue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opinions_member_no'), ['member_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_opinions_origin_node'), ['origin_node'], unique=False)
        batch_op.create_index(batch_op.f('ix_opinions_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_opinions_year'), ['year'], unique=False)
    op.create_table('opinion_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opinion_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('node', sa.String(length=40), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=True),
    sa.Column('body', sa.String(length=200), nullable=True),
    sa.Column('body_kind', sa.String(length=40), nullable=True),
    sa.Column('leader', sa.String(length=200), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('date', sa.String(length=10), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('remote', sa.Boolean(), nullable=False),
    sa.Column('message', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['opinion_id'], ['opinions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('opinion_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opinion_events_opinion_id'), ['opinion_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('opinion_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opinion_events_opinion_id'))
    op.drop_table('opinion_events')
    with op.batch_alter_table('opinions', schema=None) as batch_op:
        for name in ('year', 'status', 'origin_node', 'member_no', 'issue_id'):
            batch_op.drop_index(batch_op.f(f'ix_opinions_{name}'))
    op.drop_table('opinions')
    op.drop_table('opinion_issues')
