"""The shipped migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from shangliang.core import migrate
from shangliang.core.db import make_engine
from shangliang.core.models import Base
from shangliang.core.topics import models as _topic_models  # noqa: F401
from shangliang.federation import models as _federation_models  # noqa: F401

from ..conftest import invoke


def _diff(url):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "include_name": migrate.include_name})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_migrated_database_matches_the_models(app):
    assert _diff(app.config["DATABASE_URL"]) == []


def test_migrated_postgres_matches_the_models(pg_schema):
    migrate.upgrade(pg_schema)
    assert _diff(pg_schema) == []


def test_upgrade_is_idempotent(runner, node_dir):
    result = invoke(runner, node_dir, "db", "upgrade")
    assert result.exit_code == 0
    assert "already at" in result.output


def test_serving_an_unmigrated_database_is_refused(tmp_path, runner, node_dir, app):
    import sqlalchemy as sa

    engine = make_engine(app.config["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM alembic_version"))
    engine.dispose()
    result = invoke(runner, node_dir, "worker")
    assert result.exit_code == 2
    assert "run shangliang db upgrade" in result.output
