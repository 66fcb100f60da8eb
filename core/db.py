"""The node's database: one engine per app, a session per app context, SQLite tuned for a node (WAL)."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from shangliang.core.i18n import N_

from . import audit
from .errors import ServiceUnavailable

EXTENSION = "shangliang.db"
# The largest id an ``Integer`` primary key holds on every supported database (PostgreSQL's ``integer``): a larger
# number is refused as "not found" before it is compared, for PostgreSQL refuses the comparison itself.
ROW_ID_MAX = 2**31 - 1
log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no branch
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):  # pragma: no branch
            # A write transaction takes the database's write lock before it reads anything (waiting up to
            # the busy timeout for another writer), so what it read is still true when it writes: two
            # writers run one after the other, never interleaved. Otherwise the driver's own handling
            # stands: reads take no lock and see every commit (WAL), a write begins at its first statement.
            if connection.get_execution_options().get(WRITE, False):
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True)


class Database:
    """Flask extension: ``init_app`` builds the engine; ``session`` is the app context's session."""

    def __init__(self, app: Flask | None = None):
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, info={"app": app})
        audit.install(self.sessionmaker)
        event.listen(self.sessionmaker, "after_commit", _run_after_commit)
        event.listen(self.sessionmaker, "after_soft_rollback", lambda session, _tx: session.info.pop(AFTER_COMMIT, None))
        app.extensions[EXTENSION] = self
        app.teardown_appcontext(self._close)

    def _close(self, _exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    def new_session(self) -> Session:
        return self.sessionmaker()


AFTER_COMMIT = "after_commit_callbacks"


def after_commit(session: Session, callback) -> None:
    """Run ``callback()`` once the session's transaction commits (never if it rolls back).

    Used to enqueue Celery tasks about rows the transaction writes: the task must not run before
    the rows are visible.
    """
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(AFTER_COMMIT, []):
        try:
            callback()
        except Exception:
            # The transaction is committed; whatever the callback should have started (a task) must be
            # picked up again by a periodic task (the outbox pump, for one).
            log.exception("after-commit callback %r failed", callback)


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions[EXTENSION]


def get_session() -> Session:
    """The session of the current app context, created on first use."""
    if "db_session" not in g:
        g.db_session = get_db().new_session()
    return g.db_session


WRITE = "shangliang_write"


def begin_write(session: Session) -> None:
    """Start ``session``'s write transaction: on SQLite it holds the write lock from its first read
    (``BEGIN IMMEDIATE``); on PostgreSQL the services lock the rows they change (``SELECT … FOR UPDATE``).

    A read transaction the session had open is ended first, so nothing read before counts: whatever the
    unit of work decides, it decides on what it reads under the lock.
    """
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write: the session holds unsaved changes made outside a unit of work")
        session.rollback()
    session.connection(execution_options={WRITE: True})


#: Set (``rehearsal()``) while a command runs with ``--dry-run``: every unit of work is checked in full and
#: then rolled back; the list counts the units of work rolled back so.
_REHEARSAL: ContextVar[list[int] | None] = ContextVar("shangliang_rehearsal", default=None)


@contextmanager
def rehearsal() -> Iterator[list[int]]:
    """While inside, :func:`transaction` rolls back what would have been committed (after every rule and
    hook has run, nothing stored, nothing sent, no after-commit callback). Yields a one-item list counting
    the units of work so rehearsed."""
    counter = [0]
    token = _REHEARSAL.set(counter)
    try:
        yield counter
    finally:
        _REHEARSAL.reset(token)


@contextmanager
def transaction(actor: str | None = None, session: Session | None = None) -> Iterator[Session]:
    """A unit of work that writes (:func:`begin_write`): commit on success, roll back on any error
    (and, inside :func:`rehearsal`, roll back on success too)."""
    session = session or get_session()
    if actor:
        session.info["actor"] = actor
    begin_write(session)
    try:
        yield session
        rehearsing = _REHEARSAL.get()
        if rehearsing is None:
            session.commit()
        else:
            session.rollback()
            rehearsing[0] += 1
    except BaseException:
        session.rollback()
        raise


def check_database(url: str, engine: Engine | None = None) -> None:
    """Raise :class:`ServiceUnavailable` unless the database answers."""
    own = engine is None
    engine = engine or make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        raise ServiceUnavailable(N_("database"), redact(url), reason, "database_url") from None
    finally:
        if own:
            engine.dispose()


def redact(url: str) -> str:
    """A URL with its password hidden, fit for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]
