"""Apply and inspect the shipped Alembic migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from .db import check_database, make_engine, redact
from .errors import ServiceUnavailable, ShangliangError

MIGRATIONS = Path(__file__).parent / "migrations"


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
    """Bring the database at ``url`` to ``revision``; return (before, after)."""
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
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        raise ShangliangError(f"migration failed on {redact(url)}: {reason}") from None
    finally:
        engine.dispose()


def require_current(url: str, engine: Engine | None = None) -> None:
    """Raise unless the database is reachable and at the head revision."""
    own = engine is None
    engine = engine or make_engine(url)
    try:
        check_database(url, engine)
        current = current_revision(engine)
    finally:
        if own:
            engine.dispose()
    head = head_revision()
    if current != head:
        raise ShangliangError(
            f"the database at {redact(url)} is at revision {current or 'none'}, not {head}: run shangliang db upgrade"
        )


__all__ = ["upgrade", "require_current", "head_revision", "current_revision", "ServiceUnavailable"]
