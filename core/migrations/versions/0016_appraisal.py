"""democratic appraisal (民主评议): appraisals, subjects, groups and their members, visits, ratings,
rectifications and their reports

(numbered 0015 while 0014 is added on another branch: the merge rechains down_revision)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appraisals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=120), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('report_body', sa.Text(), nullable=True),
    sa.Column('report_recipients', sa.Text(), nullable=True),
    sa.Column('report_sent_on', sa.String(length=10), nullable=True),
    sa.Column('report_recorded_ms', sa.BigInteger(), nullable=True),
    sa.Column('report_recorded_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid'),
    sa.UniqueConstraint('year', 'kind')
    )
    op.create_table('appraisal_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['appraisal_id'], ['appraisals.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['leader_id'], ['members.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appraisal_id', 'name')
    )
    with op.batch_alter_table('appraisal_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_groups_appraisal_id'), ['appraisal_id'], unique=False)

    op.create_table('appraisal_group_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['appraisal_id'], ['appraisals.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['appraisal_groups.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appraisal_id', 'member_id')
    )
    with op.batch_alter_table('appraisal_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_group_members_appraisal_id'), ['appraisal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appraisal_group_members_group_id'), ['group_id'], unique=False)

    op.create_table('appraisal_subjects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('topic_uid', sa.String(length=120), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('units', sa.Text(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('added_ms', sa.BigInteger(), nullable=False),
    sa.Column('decided_ms', sa.BigInteger(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['appraisal_id'], ['appraisals.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['appraisal_groups.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appraisal_subjects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_subjects_appraisal_id'), ['appraisal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appraisal_subjects_unit_id'), ['unit_id'], unique=False)

    op.create_table('appraisal_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.String(length=30), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('recorded_ms', sa.BigInteger(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['subject_id'], ['appraisal_subjects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subject_id', 'member_id')
    )
    with op.batch_alter_table('appraisal_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_ratings_subject_id'), ['subject_id'], unique=False)

    op.create_table('appraisal_rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('requirements', sa.Text(), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=True),
    sa.Column('due_ms', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('assigned_ms', sa.BigInteger(), nullable=False),
    sa.Column('assigned_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['appraisal_subjects.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subject_id')
    )
    with op.batch_alter_table('appraisal_rectifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_rectifications_unit_id'), ['unit_id'], unique=False)

    op.create_table('appraisal_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.String(length=10), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('recorded_ms', sa.BigInteger(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['appraisal_id'], ['appraisals.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['appraisal_groups.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['appraisal_subjects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appraisal_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_visits_appraisal_id'), ['appraisal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appraisal_visits_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appraisal_visits_subject_id'), ['subject_id'], unique=False)

    op.create_table('appraisal_rectification_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('submitted_ms', sa.BigInteger(), nullable=False),
    sa.Column('submitted_by', sa.String(length=200), nullable=False),
    sa.Column('review', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('reviewed_ms', sa.BigInteger(), nullable=True),
    sa.Column('reviewed_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['rectification_id'], ['appraisal_rectifications.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appraisal_rectification_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appraisal_rectification_reports_rectification_id'), ['rectification_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('appraisal_rectification_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_rectification_reports_rectification_id'))

    op.drop_table('appraisal_rectification_reports')
    with op.batch_alter_table('appraisal_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_visits_subject_id'))
        batch_op.drop_index(batch_op.f('ix_appraisal_visits_group_id'))
        batch_op.drop_index(batch_op.f('ix_appraisal_visits_appraisal_id'))

    op.drop_table('appraisal_visits')
    with op.batch_alter_table('appraisal_rectifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_rectifications_unit_id'))

    op.drop_table('appraisal_rectifications')
    with op.batch_alter_table('appraisal_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_ratings_subject_id'))

    op.drop_table('appraisal_ratings')
    with op.batch_alter_table('appraisal_subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_subjects_unit_id'))
        batch_op.drop_index(batch_op.f('ix_appraisal_subjects_appraisal_id'))

    op.drop_table('appraisal_subjects')
    with op.batch_alter_table('appraisal_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_group_members_group_id'))
        batch_op.drop_index(batch_op.f('ix_appraisal_group_members_appraisal_id'))

    op.drop_table('appraisal_group_members')
    with op.batch_alter_table('appraisal_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appraisal_groups_appraisal_id'))

    op.drop_table('appraisal_groups')
    op.drop_table('appraisals')
