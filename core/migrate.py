"""Apply and inspect the shipped Alembic migrations: the core's, and those of the plugins a node enables.

The core's revisions (``core/migrations/versions``, linear) are recorded in ``alembic_version``. A plugin that owns
tables ships its revisions in its package's ``migrations/`` folder; they are an Alembic history of their own,
recorded in a version table of their own (``alembic_version_<plugin>``: Alembic's "multiple environments, each
with its own version table"), run through the core's ``env.py``. So a plugin disabled, or uninstalled, leaves its
tables, its data and its version row behind without the core's history ever naming a revision it cannot find;
enabling it again finds them current. A plugin's first revision has ``down_revision = None``; the core's tables it
needs are there because the core is always brought to its head first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from shangliang.core.i18n import N_

from .db import WRITE, check_database, make_engine, redact
from .errors import ConfigError, DatabaseNotCurrent, ServiceUnavailable, ShangliangError

MIGRATIONS = Path(__file__).parent / "migrations"
CORE_VERSION_TABLE = "alembic_version"
#: Objects that migrations make and no model describes: the search indexes derived from the tables (SQLite's
#: FTS5 tables with their shadow tables and triggers, PostgreSQL's trigram indexes; docs/search.md). A schema
#: comparison leaves them out.
DERIVED_PREFIX = "search_"


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's ``include_name``: every table and index but the derived ones (:data:`DERIVED_PREFIX`)."""
    return not (type_ in ("table", "index") and (name or "").startswith(DERIVED_PREFIX))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str, revision: str = "head") -> tuple[str | None, str]:
    """Bring the database at ``url`` to ``revision`` of the core's history; return (before, after)."""
    check_database(url)
    engine = make_engine(url)
    try:
        before = current_revision(engine)
        config = alembic_config(url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        return before, current_revision(engine)
    except SQLAlchemyError as exc:
        raise ShangliangError(N_("migration failed on %(redact)s: %(reason)s", redact=redact(url),
                                 reason=_reason(exc))) from None
    finally:
        engine.dispose()


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


# ---------------------------------------------------------------------------------------------
# Plugins' migrations


def plugin_version_table(name: str) -> str:
    """The table that records how far a plugin's own migrations are applied."""
    return f"{CORE_VERSION_TABLE}_{name}"


def plugin_migrations(name: str) -> Path | None:
    """The ``migrations/`` folder of the installed plugin ``name``, or None when it ships none (or is not installed)."""
    from .plugins import installed_plugins, migrations_folder

    entry = installed_plugins().get(name)
    if entry is None:
        return None
    try:
        module = entry.load()
    except Exception as exc:
        raise ConfigError(N_("plugin %(name)s (%(value)s) failed to import: %(exc)s", name=repr(name),
                             value=entry.value, exc=exc), "plugins.enabled") from None
    return migrations_folder(module)


def plugin_alembic_config(url: str, name: str, folder: Path) -> Config:
    """The core's environment (``env.py``) over the plugin's revisions, with the plugin's version table."""
    config = alembic_config(url)
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(folder))
    config.attributes["version_table"] = plugin_version_table(name)
    return config


def plugin_head(name: str) -> str | None:
    folder = plugin_migrations(name)
    if folder is None:
        return None
    script = ScriptDirectory.from_config(plugin_alembic_config("sqlite://", name, folder))
    heads = script.get_heads()
    if len(heads) != 1:
        raise ConfigError(N_("plugin %(name)s's migrations have %(count)s heads (%(value)s); a plugin's history is "
                             "one line", name=repr(name), count=len(heads), value=', '.join(heads) or 'none'), f"plugins.{name}")
    return heads[0]


def plugin_revision(connection: Connection, name: str) -> str | None:
    """How far the plugin's migrations are applied on this connection's database (None: not at all)."""
    return MigrationContext.configure(connection, opts={"version_table": plugin_version_table(name)}) \
        .get_current_revision()


def write_connection(engine: Engine) -> Connection:
    """A connection whose transaction takes the write lock first (SQLite: ``BEGIN IMMEDIATE``, so that the
    plugin's DDL is inside the transaction and rolls back with it; PostgreSQL's DDL is transactional anyway)."""
    return engine.connect().execution_options(**{WRITE: True})


def upgrade_plugin(connection: Connection, name: str, revision: str = "head") -> tuple[str | None, str | None] | None:
    """Apply the plugin's migrations on ``connection`` (inside the caller's transaction: nothing of them stays if
    the caller rolls back); (before, after), or None when the plugin ships no migrations."""
    folder = plugin_migrations(name)
    if folder is None:
        return None
    config = plugin_alembic_config(str(connection.engine.url), name, folder)
    config.attributes["connection"] = connection
    before = plugin_revision(connection, name)
    try:
        command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise ShangliangError(N_("plugin %(name)s: migration failed: %(reason)s; nothing of it was applied",
                                 name=repr(name), reason=_reason(exc))) from None
    return before, plugin_revision(connection, name)


def purge_plugin(connection: Connection, name: str) -> str | None:
    """Downgrade the plugin's migrations to base (its tables and their rows dropped) and drop its version table;
    the revision it was at, or None when nothing of it was there."""
    folder = plugin_migrations(name)
    table = plugin_version_table(name)
    exists = sa.inspect(connection).has_table(table)
    before = plugin_revision(connection, name) if exists else None
    if folder is not None and before is not None:
        config = plugin_alembic_config(str(connection.engine.url), name, folder)
        config.attributes["connection"] = connection
        try:
            command.downgrade(config, "base")
        except SQLAlchemyError as exc:
            raise ShangliangError(N_("plugin %(name)s: purge failed: %(reason)s; nothing was dropped",
                                     name=repr(name), reason=_reason(exc))) from None
    elif before is not None:
        raise ShangliangError(N_("plugin %(name)s has tables (revision %(before)s) but its migrations cannot be "
                                 "found (is it still installed?): nothing was dropped", name=repr(name),
                                 before=before))
    if exists:
        sa.Table(table, sa.MetaData()).drop(connection)
    return before


def upgrade_plugins(url: str, names: Iterable[str]) -> list[tuple[str, str | None, str | None]]:
    """Apply the migrations of each plugin ``names`` that ships some, each in its own transaction (after the
    core's); [(name, before, after)]."""
    done = []
    engine = make_engine(url)
    try:
        for name in names:
            if plugin_migrations(name) is None:
                continue
            with write_connection(engine) as connection, connection.begin():
                before, after = upgrade_plugin(connection, name)  # type: ignore[misc]
            done.append((name, before, after))
    except SQLAlchemyError as exc:
        raise ShangliangError(N_("migration failed on %(redact)s: %(reason)s", redact=redact(url),
                                 reason=_reason(exc))) from None
    finally:
        engine.dispose()
    return done


def require_current(url: str, engine: Engine | None = None, plugins: Iterable[str] = ()) -> None:
    """Raise unless the database is reachable and at the head revision, and so is each enabled plugin's history
    (``plugins``: the enabled plugins' names; those without migrations are skipped)."""
    own = engine is None
    engine = engine or make_engine(url)
    behind: list[tuple[str, str | None, str]] = []
    try:
        check_database(url, engine)
        current = current_revision(engine)
        head = head_revision()
        if current != head:
            raise DatabaseNotCurrent(N_("the database at %(redact)s is at revision %(value)s, not %(head)s: run "
                                        "shangliang db upgrade", redact=redact(url), value=current or 'none',
                                        head=head))
        with engine.connect() as connection:
            for name in plugins:
                plugin_head_revision = plugin_head(name)
                if plugin_head_revision is None:
                    continue
                at = plugin_revision(connection, name)
                if at != plugin_head_revision:
                    behind.append((name, at, plugin_head_revision))
    finally:
        if own:
            engine.dispose()
    if behind:
        raise DatabaseNotCurrent("; ".join(f"plugin {name!r}'s tables are at revision {at or 'none'}, not {head}"
                                           for name, at, head in behind) + ": run shangliang db upgrade")


__all__ = ["upgrade", "upgrade_plugins", "upgrade_plugin", "purge_plugin", "require_current", "head_revision",
           "current_revision", "plugin_head", "plugin_revision", "ServiceUnavailable"]
