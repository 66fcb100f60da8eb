"""Alembic environment: runs migrations on the connection ``shangliang.core.migrate`` hands over — the core's
(version table ``alembic_version``) or an enabled plugin's (its own version table, ``alembic_version_<plugin>``,
and its own ``target_metadata`` when it gives one)."""

from alembic import context

from shangliang.core.db import make_engine
from shangliang.core.migrate import include_name
from shangliang.core.models import Base
from shangliang.core.plugins import load_models

load_models()  # every built-in feature's tables, found through the built-in plugin list
config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=config.attributes.get("target_metadata", target_metadata),
        version_table=config.attributes.get("version_table", "alembic_version"),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run shangliang db upgrade against the database")
run_migrations_online()
