"""Throttling wrong passwords (the ``limits`` library, Flask-Limiter's engine): per account and per
address, on the sign-in page and for HTTP Basic alike. Counters live in Redis where the node's broker
is Redis (shared by every process of the node) and in the node's database otherwise.

Only failures count, and a refusal comes before any password is checked, so a flood of wrong
passwords costs the node no password hashing and slows no one else's requests.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import flask
from limits import RateLimitItemPerMinute, storage as limits_storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Engine, case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from ..models import ThrottleCounter

EXTENSION = "shangliang.throttle"
#: Wrong passwords allowed in a window of five minutes, then refusals until the window ends.
PER_ACCOUNT = RateLimitItemPerMinute(5, 5)
PER_ADDRESS = RateLimitItemPerMinute(30, 5)


class DatabaseStorage(limits_storage.Storage):
    """``limits`` storage in a SQLAlchemy database (SQLite or PostgreSQL), one upsert per hit."""

    STORAGE_SCHEME = ["shangliang+db"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, engine: Engine | None = None,
                 **options) -> None:
        super().__init__(uri, wrap_exceptions, **options)
        self.engine = engine

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        table = ThrottleCounter.__table__
        fresh = table.c.expires_at <= now
        statement = dialect.insert(table).values(key=key, count=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(index_elements=[table.c.key], set_={
            "count": case((fresh, amount), else_=table.c.count + amount),
            "expires_at": case((fresh, now + expiry), else_=table.c.expires_at),
        }).returning(table.c.count)
        with self.engine.begin() as connection:
            return int(connection.execute(statement).scalar_one())

    def get(self, key: str) -> int:
        table = ThrottleCounter.__table__
        with self.engine.connect() as connection:
            found = connection.execute(select(table.c.count).where(table.c.key == key,
                                                                   table.c.expires_at > time.time())).scalar()
        return int(found or 0)

    def get_expiry(self, key: str) -> float:
        table = ThrottleCounter.__table__
        with self.engine.connect() as connection:
            found = connection.execute(select(table.c.expires_at).where(table.c.key == key)).scalar()
        return float(found) if found is not None else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(delete(ThrottleCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(ThrottleCounter.__table__).where(ThrottleCounter.__table__.c.key == key))


@dataclass
class Throttle:
    limiter: FixedWindowRateLimiter
    scope: str  # the node's task queue: nodes sharing a Redis keep their counters apart

    def _keys(self, username: str, address: str) -> list[tuple]:
        account = username.encode("utf-8", "surrogatepass").hex()[:200]  # any name, as a safe key
        return [(PER_ACCOUNT, self.scope, "account", account), (PER_ADDRESS, self.scope, "address", address)]

    def wait(self, username: str, address: str) -> int:
        """Seconds until this account and address may try a password again (0: now)."""
        wait = 0.0
        for item, *key in self._keys(username, address):
            if not self.limiter.test(item, *key):
                reset_at, _remaining = self.limiter.get_window_stats(item, *key)
                wait = max(wait, reset_at - time.time())
        return max(1, math.ceil(wait)) if wait > 0 else 0

    def failed(self, username: str, address: str) -> None:
        for item, *key in self._keys(username, address):
            self.limiter.hit(item, *key)


def init_app(app: flask.Flask, engine: Engine) -> None:
    broker = str(app.config.get("BROKER_URL") or "")
    if broker.startswith(("redis://", "rediss://")):
        store = limits_storage.storage_from_string(broker)
    else:
        store = DatabaseStorage(engine=engine)
    scope = str(app.config.get("TASK_QUEUE") or app.config["NODE_ID"])
    app.extensions[EXTENSION] = Throttle(FixedWindowRateLimiter(store), scope)


def throttle() -> Throttle:
    return flask.current_app.extensions[EXTENSION]


def address() -> str:
    return flask.request.remote_addr or "unknown"
