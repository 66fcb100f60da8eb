"""proposals across levels: areas, source topic, the proposer's consent, forwarding, origin, upstream events

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

COLUMNS = (
    ('areas', sa.Text()),
    ('source_topic', sa.String(length=120)),
    ('consent_by', sa.String(length=200)),
    ('consent_note', sa.Text()),
    ('consent_ms', sa.BigInteger()),
    ('forwarded_to', sa.String(length=40)),
    ('forwarded_by', sa.String(length=200)),
    ('forwarded_ms', sa.BigInteger()),
    ('origin_node', sa.String(length=40)),
    ('origin_ref', sa.String(length=60)),
    ('opinion_ref', sa.String(length=120)),
)


def upgrade() -> None:
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
        batch_op.create_index(batch_op.f('ix_proposals_source_topic'), ['source_topic'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_origin_node'), ['origin_node'], unique=False)
    op.create_table('proposal_upstream_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('node', sa.String(length=40), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('received_ms', sa.BigInteger(), nullable=False),
    sa.Column('message', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('proposal_upstream_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_upstream_events_proposal_id'), ['proposal_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('proposal_upstream_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_upstream_events_proposal_id'))
    op.drop_table('proposal_upstream_events')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_origin_node'))
        batch_op.drop_index(batch_op.f('ix_proposals_source_topic'))
        for name, _kind in reversed(COLUMNS):
            batch_op.drop_column(name)
