"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file in the node directory, tuned for a node.

URL form ``embedded+sqlite:////path/to/broker.sqlite``. Two things differ from kombu's stock
``sqla+`` transport: the polling interval comes from the transport option ``polling_interval`` (the
stock transport hands every option to ``create_engine``, which refuses it), and SQLite runs in WAL
mode with a busy timeout, so the web processes and the worker share the file without locking errors.
"""

from __future__ import annotations

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqla
from sqlalchemy import create_engine, event

SCHEME = "embedded"
ENGINE_OPTIONS_IGNORED = {"polling_interval", "queue_tablename", "message_tablename"}


class Channel(kombu_sqla.Channel):
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


TRANSPORT_ALIASES.setdefault(SCHEME, "shangliang.core.broker:Transport")
