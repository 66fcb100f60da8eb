"""notes plugin: who wrote each note

Revision ID: notes_0002
Revises: notes_0001
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "notes_0002"
down_revision = "notes_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notes_plugin_notes") as batch:
        batch.add_column(sa.Column("author", sa.String(length=200), nullable=False, server_default="system"))


def downgrade() -> None:
    with op.batch_alter_table("notes_plugin_notes") as batch:
        batch.drop_column("author")
