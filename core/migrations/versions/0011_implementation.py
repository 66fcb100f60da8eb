"""implementation of topic results: assignments to handling units, leaders' instructions, reports

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('topic_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=True),
    sa.Column('due_ms', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('assigned_ms', sa.BigInteger(), nullable=False),
    sa.Column('assigned_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('topic_id', 'unit_id')
    )
    with op.batch_alter_table('topic_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_assignments_topic_id'), ['topic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_topic_assignments_unit_id'), ['unit_id'], unique=False)

    op.create_table('topic_instructions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('leader', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('given_on', sa.String(length=10), nullable=False),
    sa.Column('recorded_ms', sa.BigInteger(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('topic_instructions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_instructions_topic_id'), ['topic_id'], unique=False)

    op.create_table('topic_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('submitted_ms', sa.BigInteger(), nullable=False),
    sa.Column('submitted_by', sa.String(length=200), nullable=False),
    sa.Column('review', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('reviewed_ms', sa.BigInteger(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['assignment_id'], ['topic_assignments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('topic_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_reports_assignment_id'), ['assignment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('topic_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_reports_assignment_id'))
    op.drop_table('topic_reports')
    with op.batch_alter_table('topic_instructions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_instructions_topic_id'))
    op.drop_table('topic_instructions')
    with op.batch_alter_table('topic_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_assignments_unit_id'))
        batch_op.drop_index(batch_op.f('ix_topic_assignments_topic_id'))
    op.drop_table('topic_assignments')
