"""proposals (提案): signers, filing review, handling units, replies, contacts, ratings, supervision, numbers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('proposal_counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('session_no', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('year', 'session_no')
    )
    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=True),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('term', sa.Integer(), nullable=False),
    sa.Column('session_no', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('suggestions', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('body_kind', sa.String(length=40), nullable=True),
    sa.Column('body_name', sa.String(length=200), nullable=True),
    sa.Column('submitted_by', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('disposal', sa.String(length=20), nullable=True),
    sa.Column('reviewed_by', sa.String(length=200), nullable=True),
    sa.Column('reviewed_ms', sa.BigInteger(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.Boolean(), nullable=False),
    sa.Column('face_to_face', sa.Boolean(), nullable=False),
    sa.Column('public_proposal', sa.Boolean(), nullable=False),
    sa.Column('public_reply', sa.Boolean(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('closed_ms', sa.BigInteger(), nullable=True),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('updated_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['proposals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_status'), ['status'], unique=False)

    op.create_table('proposal_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('deadline_ms', sa.BigInteger(), nullable=False),
    sa.Column('assigned_ms', sa.BigInteger(), nullable=False),
    sa.Column('assigned_by', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_assignments_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_assignments_unit_id'), ['unit_id'], unique=False)

    op.create_table('proposal_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('phase', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_contacts_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('contact', sa.String(length=20), nullable=False),
    sa.Column('attitude', sa.String(length=20), nullable=False),
    sa.Column('measures', sa.String(length=20), nullable=False),
    sa.Column('pertinence', sa.String(length=20), nullable=False),
    sa.Column('leader_attention', sa.String(length=20), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('overall', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('rated_by', sa.String(length=200), nullable=False),
    sa.Column('rated_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_ratings_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('classification', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.Column('replied_by', sa.String(length=200), nullable=False),
    sa.Column('replied_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['handling_units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_replies_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_supervisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('chair', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal_supervisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_supervisions_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_reassignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('suggested_unit', sa.String(length=100), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('requested_ms', sa.BigInteger(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('new_unit_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_ms', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['assignment_id'], ['proposal_assignments.id'], ),
    sa.ForeignKeyConstraint(['new_unit_id'], ['handling_units.id'], ),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal_reassignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_reassignments_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('proposal_signers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('confirmed_ms', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal_signers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_signers_proposal_id'), ['proposal_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('proposal_signers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_signers_proposal_id'))

    op.drop_table('proposal_signers')
    with op.batch_alter_table('proposal_reassignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_reassignments_proposal_id'))

    op.drop_table('proposal_reassignments')
    with op.batch_alter_table('proposal_supervisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_supervisions_proposal_id'))

    op.drop_table('proposal_supervisions')
    with op.batch_alter_table('proposal_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_replies_proposal_id'))

    op.drop_table('proposal_replies')
    with op.batch_alter_table('proposal_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_ratings_proposal_id'))

    op.drop_table('proposal_ratings')
    with op.batch_alter_table('proposal_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_contacts_proposal_id'))

    op.drop_table('proposal_contacts')
    with op.batch_alter_table('proposal_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_assignments_unit_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_assignments_proposal_id'))

    op.drop_table('proposal_assignments')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_status'))

    op.drop_table('proposals')
    op.drop_table('proposal_counters')
