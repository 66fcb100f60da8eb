"""search: the text of topics, proposals and social-opinion reports indexed for Chinese substring search

On SQLite, one FTS5 table per kind with the trigram tokenizer, over the kind's own table (external content),
kept in step by triggers on that table: every insert, change of an indexed column and delete reaches the index
in the same transaction. On PostgreSQL, pg_trgm and a GIN trigram index over the same columns of the kind's
table (an index of the table itself: never stale). ``core/search/services.py`` names the same columns
(``INDEXED``); docs/search.md says why.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

#: kind → (its table, the indexed columns); the same as ``core.search.services.INDEXED`` at this revision.
INDEXED = {
    "topics": ("topics", ("title", "description")),
    "proposals": ("proposals", ("title", "reasons", "suggestions")),
    "opinions": ("opinions", ("title", "sentiment", "analysis", "suggestion")),
}


def _sqlite_up() -> None:
    for kind, (table, columns) in INDEXED.items():
        fts = f"search_{kind}"
        cols = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id', "
                   f"tokenize='trigram')")
        op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
                   f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END")
        op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END")
        op.execute(f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
                   f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END")
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _sqlite_down() -> None:
    for kind, (table, _columns) in INDEXED.items():
        fts = f"search_{kind}"
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def _postgres_up() -> None:
    bind = op.get_bind()
    # Nodes that share a database (a schema each) may be initialised at the same moment: two CREATE EXTENSION IF
    # NOT EXISTS at once both find it absent and the second fails ("duplicate key … pg_extension_name_index").
    # A transaction-level advisory lock lets the second wait for the first's commit, and then find it.
    bind.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('shangliang.migration.pg_trgm'))"))
    bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    # The operator class is named with the extension's schema: a node whose search_path leaves it out
    # (a schema of its own) still finds it.
    schema = bind.execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                  "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")).scalar_one()
    opclass = f'"{schema}".gin_trgm_ops'
    for kind, (table, columns) in INDEXED.items():
        cols = ", ".join(f"{c} {opclass}" for c in columns)
        op.execute(f"CREATE INDEX search_{kind}_trgm ON {table} USING gin ({cols})")


def _postgres_down() -> None:
    for kind in INDEXED:
        op.execute(f"DROP INDEX IF EXISTS search_{kind}_trgm")
    # The extension stays: other objects of the database may use it.


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_up()
    elif dialect == "postgresql":
        _postgres_up()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_down()
    elif dialect == "postgresql":
        _postgres_down()
