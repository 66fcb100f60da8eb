"""sign-ins kept on the node; one-time page form tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sign_ins',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_ms', sa.BigInteger(), nullable=False),
        sa.Column('expires_ms', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index('ix_sign_ins_user_id', 'sign_ins', ['user_id'])
    op.create_table(
        'form_submissions',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('created_ms', sa.BigInteger(), nullable=False),
        sa.Column('outcome', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('token'),
    )
    op.create_index('ix_form_submissions_created_ms', 'form_submissions', ['created_ms'])


def downgrade() -> None:
    op.drop_index('ix_form_submissions_created_ms', table_name='form_submissions')
    op.drop_table('form_submissions')
    op.drop_index('ix_sign_ins_user_id', table_name='sign_ins')
    op.drop_table('sign_ins')
