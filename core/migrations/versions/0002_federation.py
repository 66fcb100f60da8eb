"""federation: keys, peers, inbox, outbox, alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('fed_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at_ms', sa.BigInteger(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('sender', sa.String(length=40), nullable=True),
    sa.Column('origin', sa.String(length=40), nullable=True),
    sa.Column('message_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('fed_inbox',
    sa.Column('transfer_id', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.String(length=40), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('core_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=100), nullable=False),
    sa.Column('topic', sa.String(length=120), nullable=True),
    sa.Column('sender', sa.String(length=40), nullable=False),
    sa.Column('received_ms', sa.BigInteger(), nullable=False),
    sa.Column('expires_ms', sa.BigInteger(), nullable=False),
    sa.Column('envelope', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('transfer_id')
    )
    with op.batch_alter_table('fed_inbox', schema=None) as batch_op:
        batch_op.create_index('ix_fed_inbox_message', ['origin', 'message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fed_inbox_topic'), ['topic'], unique=False)

    op.create_table('fed_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.String(length=40), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=100), nullable=False),
    sa.Column('topic', sa.String(length=120), nullable=True),
    sa.Column('destination', sa.String(length=40), nullable=False),
    sa.Column('envelope', sa.Text(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('expires_ms', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_ms', sa.BigInteger(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('delivered_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('transfer_id')
    )
    with op.batch_alter_table('fed_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_fed_outbox_due', ['status', 'next_attempt_ms'], unique=False)
        batch_op.create_index('ix_fed_outbox_order', ['destination', 'topic', 'id'], unique=False)

    op.create_table('fed_own_keys',
    sa.Column('key_id', sa.String(length=48), nullable=False),
    sa.Column('public', sa.String(length=64), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('expired_ms', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('key_id')
    )
    op.create_table('fed_peers',
    sa.Column('node_id', sa.String(length=40), nullable=False),
    sa.Column('url', sa.String(length=300), nullable=False),
    sa.Column('relation', sa.String(length=10), nullable=False),
    sa.Column('added_ms', sa.BigInteger(), nullable=False),
    sa.Column('last_success_ms', sa.BigInteger(), nullable=True),
    sa.Column('last_failure_ms', sa.BigInteger(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('held_until_ms', sa.BigInteger(), nullable=True),
    sa.Column('hold_window_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('node_id')
    )
    op.create_table('fed_peer_keys',
    sa.Column('node_id', sa.String(length=40), nullable=False),
    sa.Column('key_id', sa.String(length=48), nullable=False),
    sa.Column('public', sa.String(length=64), nullable=False),
    sa.Column('expired_ms', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['node_id'], ['fed_peers.node_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('node_id', 'key_id')
    )



def downgrade() -> None:

    op.drop_table('fed_peer_keys')
    op.drop_table('fed_peers')
    op.drop_table('fed_own_keys')
    with op.batch_alter_table('fed_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_fed_outbox_order')
        batch_op.drop_index('ix_fed_outbox_due')

    op.drop_table('fed_outbox')
    with op.batch_alter_table('fed_inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fed_inbox_topic'))
        batch_op.drop_index('ix_fed_inbox_message')

    op.drop_table('fed_inbox')
    op.drop_table('fed_alerts')

