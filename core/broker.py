"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file in the node directory, tuned for a node.

URL form ``embedded+sqlite:////path/to/broker.sqlite``. Two things differ from kombu's stock
``sqla+`` transport: the polling interval comes from the transport option ``polling_interval`` (the
stock transport hands every option to ``create_engine``, which refuses it), SQLite runs in WAL
mode with a busy timeout, so the web processes and the worker share the file without locking errors,
a worker asked to stop (SIGTERM, Ctrl-C) stops waiting for messages within ``STOP_CHECK_SECONDS``
instead of finishing Celery's two-second poll (``drain_events``) first, and a message sent wakes the
waiting worker at once instead of at its next poll.

The wake-up: the process that waits for messages (the worker) binds a Unix datagram socket in Linux's
abstract namespace, named after the broker file (:func:`wake_address`); whoever sends a message, once
it is committed, sends that socket one byte, and the worker's wait between polls is a ``select`` on it
rather than a sleep. A wake-up sent between the worker's empty poll and its ``select`` waits in the
socket's buffer, so none is lost; a wake-up that cannot be sent (no worker bound, its buffer full,
another system) costs nothing, and the worker still polls every ``polling_interval``. A second process
waiting on the same broker file cannot bind the address and only polls.
"""

from __future__ import annotations

import errno
import hashlib
import os
import select
import socket
import sqlite3
import sys
import threading
from queue import Empty
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqla
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url

SCHEME = "embedded"
ENGINE_OPTIONS_IGNORED = {"polling_interval", "queue_tablename", "message_tablename"}
STOP_CHECK_SECONDS = 0.2  # how often a worker's wait for messages looks whether it has been asked to stop


def _broker_file(client) -> str:
    """The SQLite file of a kombu connection to this broker."""
    return make_url(client.hostname).database


def wake_address(database: str) -> bytes | None:
    """The abstract Unix socket address a worker of the broker file ``database`` waits on (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    digest = hashlib.sha256(os.path.abspath(database).encode()).hexdigest()[:24]
    return b"\0shangliang-broker-" + digest.encode()


_sender: socket.socket | None = None
_sender_pid: int | None = None
_sender_lock = threading.Lock()


def wake(address: bytes | None) -> None:
    """Tell the worker waiting on ``address`` that a message is there; nothing when none waits."""
    global _sender, _sender_pid
    if address is None:
        return
    with _sender_lock:
        if _sender is None or _sender_pid != os.getpid():
            _sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            _sender.setblocking(False)
            _sender_pid = os.getpid()
        sender = _sender
    try:
        sender.sendto(b"!", address)
    except OSError as e:  # no worker bound (ECONNREFUSED), its buffer full (EAGAIN): its poll finds the message
        if e.errno not in (errno.ECONNREFUSED, errno.ENOENT, errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS):
            raise


class _Waiter:
    """The worker's side of the wake-up: the bound socket, or a plain sleep where it cannot be bound (another
    process of this broker holds the address, or not Linux)."""

    def __init__(self, address: bytes | None) -> None:
        self.socket: socket.socket | None = None
        if address is None:
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(address)
        except OSError:
            sock.close()
            return
        sock.setblocking(False)
        self.socket = sock

    def wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.socket is None:
            select.select([], [], [], seconds)
            return
        readable, _, _ = select.select([self.socket], [], [], seconds)
        if readable:
            try:
                while self.socket.recv(64):  # every wake-up sent so far: one poll looks for all their messages
                    pass
            except BlockingIOError:
                pass

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
            self.socket = None


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
    _wake_address: bytes | None | bool = False  # False: not yet worked out

    def _database(self) -> str:
        return _broker_file(self.connection.client)

    def _put(self, queue, payload, **kwargs):
        super()._put(queue, payload, **kwargs)  # committed when it returns
        if self._wake_address is False:
            self._wake_address = wake_address(self._database())
        wake(self._wake_address)

    def _probe(self) -> sqlite3.Connection:
        if self._probe_connection is None:
            path = self._database()
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

    _waiter: "_Waiter | None" = None

    def drain_events(self, connection, timeout=None):
        """Wait up to ``timeout`` seconds for a message, polling every ``polling_interval`` as kombu does, but
        woken at once by a message sent (the wake-up above), and giving up (``socket.timeout``) within
        ``STOP_CHECK_SECONDS`` of the worker being asked to stop.

        Celery's worker loop for this transport waits two seconds at a time and looks at its stop flag
        only between waits; without the check a SIGTERM took up to that long before the warm shutdown began.
        """
        if self._waiter is None:
            self._waiter = _Waiter(wake_address(_broker_file(self.client)))
        get = self.cycle.get
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            try:
                get(self._deliver, timeout=timeout)
                return
            except Empty:
                pass
            pause = self.polling_interval or STOP_CHECK_SECONDS
            if deadline is not None:
                remaining = deadline - monotonic()
                if remaining <= 0 or _worker_stopping():
                    raise socket.timeout()
                pause = min(pause, remaining)
            self._waiter.wait(min(pause, STOP_CHECK_SECONDS))

    def close_connection(self, connection):
        if self._waiter is not None:
            self._waiter.close()
            self._waiter = None
        super().close_connection(connection)


TRANSPORT_ALIASES.setdefault(SCHEME, "shangliang.core.broker:Transport")
