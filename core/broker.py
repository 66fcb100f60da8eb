"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file in the node directory, tuned for a node.

URL form ``embedded+sqlite:////path/to/broker.sqlite``. Two things differ from kombu's stock
``sqla+`` transport: the polling interval comes from the transport option ``polling_interval`` (the
stock transport hands every option to ``create_engine``, which refuses it), SQLite runs in WAL
mode with a busy timeout, so the web processes and the worker share the file without locking errors,
and a worker asked to stop (SIGTERM, Ctrl-C) stops waiting for messages within ``STOP_CHECK_SECONDS``
instead of finishing Celery's two-second poll (``drain_events``) first.
"""

from __future__ import annotations

import socket
import sqlite3
from queue import Empty
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqla
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url

SCHEME = "embedded"
ENGINE_OPTIONS_IGNORED = {"polling_interval", "queue_tablename", "message_tablename"}
STOP_CHECK_SECONDS = 0.2  # how often a worker's wait for messages looks whether it has been asked to stop


def _worker_stopping() -> bool:
    """Whether this process is a Celery worker that has been asked to stop (warm or cold)."""
    from celery.worker import state

    # As celery.worker.state.maybe_shutdown reads them: a flag is set when it is neither None nor False
    # (a warm shutdown sets should_stop to the exit code, 0).
    return any(flag is not None and flag is not False for flag in (state.should_stop, state.should_terminate))


class Channel(kombu_sqla.Channel):
    """kombu's SQLAlchemy channel, with an idle poll that costs a pragma instead of a write transaction.

    kombu's ``_get`` takes SQLite's write lock (``BEGIN IMMEDIATE``), runs two ORM queries and commits on
    every poll, 20 times a second: an idle node's worker spent ~4 % of a core on it (measured). Here a
    queue found empty is not asked again until the database has changed: SQLite's ``PRAGMA data_version``,
    read on a connection of the channel's own that never writes, changes whenever any other connection
    (a web process enqueuing, this worker's own session) commits. The version is read before kombu's
    query, so a message committed after that read changes it, and the next poll asks again: nothing is
    missed, only unchanged emptiness is skipped."""

    _probe_connection: sqlite3.Connection | None = None
    _empty_since: dict | None = None  # queue → the data_version at which it was last found empty

    def _probe(self) -> sqlite3.Connection:
        if self._probe_connection is None:
            path = make_url(self.connection.client.hostname).database
            self._probe_connection = sqlite3.connect(path, timeout=30, isolation_level=None,
                                                     check_same_thread=False)
            self._empty_since = {}
        return self._probe_connection

    def _get(self, queue):
        version = self._probe().execute("PRAGMA data_version").fetchone()[0]
        if self._empty_since.get(queue) == version:
            raise Empty()
        try:
            return super()._get(queue)
        except Empty:
            self._empty_since[queue] = version
            raise

    def close(self):
        if self._probe_connection is not None:
            self._probe_connection.close()
            self._probe_connection = None
        super().close()

    def _engine_from_config(self):
        url = self.connection.client.hostname
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine


class Transport(kombu_sqla.Transport):
    Channel = Channel
    polling_interval = 0.05
    driver_type = "sql"
    driver_name = "sqlite"

    def drain_events(self, connection, timeout=None):
        """Wait up to ``timeout`` seconds for a message, as kombu does, but in slices of
        ``STOP_CHECK_SECONDS``, giving up (``socket.timeout``) as soon as the worker is asked to stop.

        Celery's worker loop for this transport waits two seconds at a time and looks at its stop flag
        only between waits; without this a SIGTERM took up to that long before the warm shutdown began.
        """
        if timeout is None:
            return super().drain_events(connection, timeout)
        deadline = monotonic() + timeout
        while True:
            remaining = deadline - monotonic()
            if remaining <= 0 or _worker_stopping():
                raise socket.timeout()
            try:
                return super().drain_events(connection, timeout=min(remaining, STOP_CHECK_SECONDS))
            except socket.timeout:
                continue


TRANSPORT_ALIASES.setdefault(SCHEME, "shangliang.core.broker:Transport")
