"""Nodes for tests: the one factory that makes node directories, and real node processes on loopback.

:class:`NodeFactory` makes node directories with ``shangliang init`` on the suite's backend: SQLite
and the embedded broker by default (each node's SQLite file a copy of one migrated template,
:class:`SqliteTemplate`, kept beside the node directory); with ``SHANGLIANG_TEST_DATABASE_URL`` (e.g.
``postgresql://127.0.0.1:5432/test``) a PostgreSQL database of its own for every node on that server (a
copy of one migrated template, :class:`Databases`), and with
``SHANGLIANG_TEST_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/15``) a Redis task queue of its own for
every node, so two nodes never share a database or a queue. When a configured server does not
answer, the test that asks for a node is skipped, saying why. conftest's ``make_node`` fixture is a
factory under the test's ``tmp_path``.

A :class:`Node` is a node directory plus, once started, its ``shangliang serve`` process (in a
session of its own, so that stopping it stops gunicorn's workers and the Celery worker too).
:func:`make_federation` creates nodes with a factory, each on its own free port, and pairs every
parent/child pair among them with the real commands, as an administrator would::

    B.cli("peers", "add", *shlex.split(A.cli("keys", "show").stdout))   # and the other way round

A :class:`Federation` is such a set of nodes, stopped (and their databases dropped) on
:meth:`Federation.close`. conftest gives it as two fixtures: ``federation`` (for one test, on
``make_node``) and ``module_federation`` (one set of processes shared by a module's tests).
"""

from __future__ import annotations

import atexit
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote, urlsplit

import pytest
import requests
import tomlkit

from shangliang.core import divisions

DB_ENV = "SHANGLIANG_TEST_DATABASE_URL"
BROKER_ENV = "SHANGLIANG_TEST_BROKER_URL"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
#: A federation's teardown: SIGTERM, then SIGKILL to the group after this long. The nodes are thrown
#: away with their directories (and schemas), and no test asserts anything about a teardown's stop;
#: the tests that do assert a clean stop call ``Node.stop()`` themselves (tests/core/test_serve.py,
#: test_demo_signals.py, test_delivery.py).
TEARDOWN_GRACE = 0.5

__all__ = ["DB_ENV", "BROKER_ENV", "Node", "NodeFactory", "Schemas", "Databases", "Federation", "free_port", "make_federation",
           "stop_all", "unreachable"]


def wait_for(predicate, timeout: float = 40, what: str = "condition"):
    """Poll ``predicate()`` every 0.2 s until it returns something true, and return that; fail the test
    naming ``what`` and the last value when ``timeout`` seconds pass first."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; last: {str(last)[:1000]}")


#: Where the tests' nodes listen: below the kernel's ephemeral range (32768-60999 on Linux), from which every
#: outgoing connection takes its local port — a port picked by bind(0) was taken by such a connection before the
#: node could listen on it ("Address already in use", seen in CI). ``SHANGLIANG_TEST_PORTS=LOW-HIGH`` gives a
#: run its own range, so the two runs of ``.ci/run`` never pick the same port.
_PORT_RANGE = os.environ.get("SHANGLIANG_TEST_PORTS", "20000-32000")
_next_port: list[int] = []


def port_range() -> tuple[int, int]:
    """This process's ports: the run's range, or under pytest-xdist (``-n N``) worker ``gwK``'s K-th of N equal
    parts of it, so that two workers never hand out the same port."""
    low, high = (int(part) for part in _PORT_RANGE.split("-"))
    worker, count = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if worker.startswith("gw") and worker[2:].isdigit() and count.isdigit() and int(count) > 1:
        index, size = int(worker[2:]), (high - low) // int(count)
        low, high = low + index * size, low + (index + 1) * size
    return low, high


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, in this process's range (:func:`port_range`), each one at most
    once per run while the range lasts (a stopped node's port is not handed to the next node)."""
    low, high = port_range()
    if not _next_port:
        _next_port.append(low + (os.getpid() * 7919) % (high - low))
    for _ in range(high - low):
        port = _next_port[0]
        _next_port[0] = low + (port + 1 - low) % (high - low)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


# -- nodes ----------------------------------------------------------------------------------------------


_STARTED: set["Node"] = set()  # every node started and not yet stopped, for stop_all()
_STARTED_LOCK = threading.Lock()


class Node:
    """A node directory and, once started, its ``serve`` process."""

    def __init__(self, node_dir: str | os.PathLike, python: str | os.PathLike | None = None):
        self.dir = Path(node_dir)
        #: the interpreter of its processes (``start``, ``cli``): this one, or another environment's (a virtual
        #: environment with a plugin installed in it, tests/plugins/test_outside.py)
        self.python = str(python or sys.executable)
        settings = tomllib.loads((self.dir / "node.toml").read_text(encoding="utf-8"))
        self.id: str = settings["id"]
        self.url: str = settings["url"].rstrip("/")
        self.port: int = urlsplit(self.url).port or 80
        self.process: subprocess.Popen | None = None
        self.env: dict[str, str] = {}  # extra environment of every process of this node (SHANGLIANG_<KEY>=…)
        self.pairing: list[str] | None = None  # `keys show` as make_federation read it: id, url, key
        self._log = None

    def __repr__(self) -> str:
        return f"Node({self.id!r}, {self.url!r})"

    @property
    def log_path(self) -> Path:
        return self.dir / "serve.log"

    def _env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {**os.environ, **self.env, **(extra or {})}

    # -- the process --

    def start(self, with_worker: bool = True, env: Mapping[str, str] | None = None,
              timeout: float = START_TIMEOUT, workers: int = 1) -> "Node":
        """Run ``serve --workers 1`` (or ``workers``; and a worker with beat unless ``with_worker`` is false)
        and wait until ``/healthz`` answers for this node; fail the test with the log's tail otherwise.

        ``env`` is added to the process's environment: ``SHANGLIANG_<KEY>`` overrides a setting.
        """
        if self.running:
            raise RuntimeError(f"{self} is already running")
        args = [self.python, "-m", "shangliang.core", "--node", str(self.dir), "serve", "--workers", str(workers),
                "--with-worker" if with_worker else "--no-worker"]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=self._env(env),
                                        start_new_session=True)
        with _STARTED_LOCK:
            _STARTED.add(self)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                self._close_log()
                pytest.fail(f"{self} exited with status {self.process.returncode} before answering:\n{self.log_tail()}")
            try:
                answer = requests.get(self.url + "/healthz", timeout=2)
                if answer.status_code in (200, 503) and answer.json().get("node") == self.id:
                    return self
            except (requests.RequestException, ValueError):
                pass
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"{self} did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.1)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM to the process group, wait; SIGKILL to the group if it does not stop in time."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=10)
        return self._reap()

    def kill(self) -> int | None:
        """SIGKILL to the process group (a crash: nothing gets to clean up)."""
        if self.process is None:
            return None
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        return self._reap()

    def _signal(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)  # start_new_session: the group id is the serve pid
        except ProcessLookupError:
            pass

    def _reap(self) -> int | None:
        status = self.process.returncode
        with _STARTED_LOCK:
            _STARTED.discard(self)
        self._close_log()
        return status

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except FileNotFoundError:
            return "(no serve.log)"

    # -- commands --

    def cli(self, *args: Any, input: str | None = None, env: Mapping[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        """``python -m shangliang.core --node DIR ARGS…`` as a subprocess (text in and out)."""
        return subprocess.run([self.python, "-m", "shangliang.core", "--node", str(self.dir), *map(str, args)],
                              input=input, capture_output=True, text=True, env=self._env(env), timeout=timeout)

    def invoke(self, *args: Any, input: str | None = None) -> subprocess.CompletedProcess:
        """The command ``cli`` runs, run in this process (no interpreter start-up: ~20× faster): the real
        command (argument parsing, app, database), its exit status and its standard output and error
        apart, as a ``CompletedProcess``; the app's engine is disposed after."""
        import click
        from click.testing import CliRunner

        from shangliang.core.cli import cli

        argv = ["--node", str(self.dir), *map(str, args)]
        status, ctx = 0, None
        with CliRunner().isolation(input=input, env=self.env) as (stdout, stderr, _output):
            try:
                ctx = cli.make_context("shangliang", argv)
                with ctx:
                    cli.invoke(ctx)
            except click.exceptions.Exit as exc:
                status = exc.exit_code
            except click.ClickException as exc:
                exc.show()
                status = exc.exit_code
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 1
            finally:
                app = ctx.meta.get("app") if ctx is not None else None
                if app is not None:
                    app.extensions["shangliang.db"].engine.dispose()
            out, err = stdout.getvalue().decode("utf-8"), stderr.getvalue().decode("utf-8")
        return subprocess.CompletedProcess(argv, status, out, err)

    def run(self, *args: Any, input: str | None = None) -> str:
        """``invoke``'s standard output; raises ``AssertionError`` with the output when the command fails."""
        result = self.invoke(*args, input=input)
        if result.returncode:
            raise AssertionError(f"shangliang {' '.join(map(str, args))} exited {result.returncode}:\n"
                                 f"{result.stdout}{result.stderr}")
        return result.stdout

    def run_json(self, *args: Any) -> Any:
        return json.loads(self.run(*args, "--json"))

    def inbox(self) -> list[dict]:
        """``inbox list --json``: one JSON object per line, newest first."""
        return [json.loads(line) for line in self.run("inbox", "list", "--json", "--limit", "100000").splitlines()
                if line.strip()]

    def peers(self) -> dict[str, dict]:
        """``peers list --json`` by peer id."""
        return {peer["id"]: peer for peer in self.run_json("peers", "list")}

    def key(self):
        """This node's current signing key (``NodeKey``), from its key file."""
        from shangliang.federation import keys

        key_id = self.run_json("keys", "show")["key"].rpartition(":")[0]
        return keys.load(self.dir, key_id)

    # -- HTTP --

    def post(self, path: str, data: bytes, content_type: str = "application/json", **kwargs) -> requests.Response:
        return requests.post(self.url + path, data=data, headers={"Content-Type": content_type}, timeout=30, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kwargs)


def stop_all(nodes: Iterable[Node] | None = None, timeout: float = STOP_TIMEOUT) -> None:
    """Stop ``nodes`` (default: every node started in this process and still running), each killed when
    it has not stopped within ``timeout`` seconds of SIGTERM."""
    with _STARTED_LOCK:
        chosen = list(_STARTED if nodes is None else nodes)
    if len(chosen) > 1:  # each can take a second or more (a warm Celery shutdown): stop them together
        with ThreadPoolExecutor(len(chosen)) as pool:
            list(pool.map(lambda node: node.stop(timeout), chosen))
    else:
        for node in chosen:
            node.stop(timeout)


# -- the node factory --------------------------------------------------------------------------------------


def unreachable(url: str, default_port: int) -> str | None:
    """Why the server at ``url`` does not answer (a TCP connection within 2 s), or None when it does."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return None
    except OSError as exc:
        return str(exc)


def _reachable_or_skip(url: str, default_port: int, what: str) -> None:
    reason = unreachable(url, default_port)
    if reason:
        pytest.skip(f"{what} at {url} is unreachable ({reason}): tests on it skipped")


class Schemas:
    """PostgreSQL schemas on ``server``, made by :meth:`new` and dropped by :meth:`drop_all` (and at
    exit, as a last resort)."""

    def __init__(self, server: str):
        self.server = server
        self.made: list[str] = []
        atexit.register(self.drop_all)

    def new(self) -> str:
        """A fresh schema; returns a database URL that uses it."""
        import sqlalchemy as sa

        from shangliang.core.db import make_engine

        schema = f"t_{uuid.uuid4().hex[:16]}"
        engine = make_engine(self.server)
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        finally:
            engine.dispose()
        self.made.append(schema)
        separator = "&" if "?" in self.server else "?"
        return f"{self.server}{separator}options={quote(f'-csearch_path={schema}')}"

    def drop_all(self) -> None:
        if not self.made:
            return
        import sqlalchemy as sa

        from shangliang.core.db import make_engine

        engine = make_engine(self.server)
        try:
            with engine.begin() as connection:
                for schema in self.made:
                    connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            engine.dispose()
        self.made.clear()


class Databases:
    """PostgreSQL databases for nodes on ``server``, each made by :meth:`new` as a copy of one template that
    this process migrated to the head revision once (``CREATE DATABASE … TEMPLATE``), or a database an earlier
    test of this process used and :meth:`drop_all` put back as new. A node's ``init`` then finds its database
    current and migrates nothing; migrating an empty PostgreSQL database is tested by itself
    (``tests/core/test_migrations.py``, on a fresh schema).

    Why databases are reused: PostgreSQL forces a checkpoint for every ``DROP DATABASE`` (0.8–3.6 s each on
    the CI machine, measured) and a copy costs ~0.5 s, so a suite that made and dropped a database per node
    spent several minutes of the PostgreSQL run on them. At :meth:`drop_all` a database goes back to this
    process's pool only when its structure is still the template's (tables and columns, indexes,
    constraints, triggers, functions, sequences and extensions compared) — then it is emptied
    (every row deleted, sequences restarted) and the template's own rows (the audit chain's
    genesis, the migration version) written back, so it is indistinguishable from a fresh copy; otherwise
    (a test changed the schema, a plugin's tables, a connection that would not let go) it is dropped. The
    pool is dropped at exit."""

    _templates: dict[str, str] = {}  # server → the template database made in this process
    _shapes: dict[str, str] = {}  # server → the template's structure (see _shape)
    _rows: dict[str, list[tuple[str, list[str], list[tuple]]]] = {}  # server → the template's rows
    _pool: dict[str, list[str]] = {}  # server → emptied databases ready for the next test

    def __init__(self, server: str):
        self.server = server
        self.made: list[str] = []
        atexit.register(self.drop_all)
        if server not in self._pool:
            self._pool[server] = []
            atexit.register(self._drop_pool, server)

    def _url(self, database: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.server).set(database=database).render_as_string(hide_password=False)

    def _execute(self, *statements: str) -> None:
        self._run(self.server, *statements)

    @staticmethod
    def _run(server: str, *statements: str) -> None:
        import sqlalchemy as sa

        from shangliang.core.db import make_engine

        engine = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                for statement in statements:
                    connection.execute(sa.text(statement))
        finally:
            engine.dispose()

    # -- structure and rows of a database --

    _USER = ("n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
             "AND n.nspname NOT LIKE 'pg\\_temp%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp%'")

    @classmethod
    def _shape(cls, connection) -> str:
        """A digest of everything a test could have changed in a database's structure."""
        import hashlib

        import sqlalchemy as sa

        queries = (
            "SELECT n.nspname, c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "pg_get_expr(d.adbin, d.adrelid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
            f"WHERE {cls._USER} ORDER BY 1, 2, 4",
            f"SELECT n.nspname, i.indexname, i.indexdef FROM pg_indexes i JOIN pg_namespace n ON n.nspname = i.schemaname "
            f"WHERE {cls._USER} ORDER BY 1, 2",
            "SELECT con.conname, con.conrelid::regclass::text, pg_get_constraintdef(con.oid) FROM pg_constraint con "
            f"JOIN pg_namespace n ON n.oid = con.connamespace WHERE {cls._USER} ORDER BY 1, 2",
            "SELECT t.tgname, t.tgrelid::regclass::text, pg_get_triggerdef(t.oid) FROM pg_trigger t "
            "WHERE NOT t.tgisinternal ORDER BY 1, 2",
            f"SELECT n.nspname, p.proname, md5(p.prosrc) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            f"WHERE {cls._USER} ORDER BY 1, 2, 3",
            "SELECT extname, extversion FROM pg_extension ORDER BY 1",
            f"SELECT nspname FROM pg_namespace n WHERE {cls._USER} ORDER BY 1",
        )
        digest = hashlib.sha256()
        for query in queries:
            for row in connection.execute(sa.text(query)):
                digest.update(repr(tuple(row)).encode())
            digest.update(b"\x00")
        return digest.hexdigest()

    @classmethod
    def _tables(cls, connection) -> list[str]:
        import sqlalchemy as sa

        return [f'"{schema}"."{name}"' for schema, name in connection.execute(sa.text(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relkind IN ('r', 'p') AND {cls._USER} ORDER BY 1, 2"))]

    @classmethod
    def _read_rows(cls, connection) -> list[tuple[str, list[str], list[tuple]]]:
        """Every row of every table that has any: (table, its columns, its rows)."""
        import sqlalchemy as sa

        rows = []
        for table in cls._tables(connection):
            result = connection.execute(sa.text(f"SELECT * FROM {table}"))
            found = [tuple(row) for row in result]
            if found:
                rows.append((table, list(result.keys()), found))
        return rows

    def _template(self) -> str:
        template = self._templates.get(self.server)
        if template is None:
            import sqlalchemy as sa

            from shangliang.core import migrate
            from shangliang.core.db import make_engine

            template = f"t_template_{uuid.uuid4().hex[:12]}"
            self._execute(f'CREATE DATABASE "{template}"')
            atexit.register(self._execute, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            migrate.upgrade(self._url(template))
            engine = make_engine(self._url(template))
            try:
                with engine.connect() as connection:
                    self._shapes[self.server] = self._shape(connection)
                    self._rows[self.server] = self._read_rows(connection)
            finally:
                engine.dispose()
            self._templates[self.server] = template
        return template

    def new(self) -> str:
        """A database at the head revision as a fresh copy of the template is; returns its URL."""
        template = self._template()
        pool = self._pool.setdefault(self.server, [])
        database = pool.pop() if pool else None
        if database is None:
            database = f"t_{uuid.uuid4().hex[:16]}"
            self._execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        self.made.append(database)
        return self._url(database)

    def _reset(self, database: str) -> bool:
        """Empty ``database`` back to the template's state if its structure is still the template's; whether
        it was."""
        import sqlalchemy as sa

        from shangliang.core.db import make_engine

        # the test's node processes are stopped; close what else still holds a connection (as FORCE would)
        self._execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      f"WHERE datname = '{database}' AND pid <> pg_backend_pid()")
        engine = make_engine(self._url(database))
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SET lock_timeout = '5s'"))
                if self._shape(connection) != self._shapes[self.server]:
                    return False
                connection.commit()  # the reads above began a transaction; the reset is one of its own
                self._fill(connection, self._rows[self.server])
            return True
        except sa.exc.SQLAlchemyError:
            return False
        finally:
            engine.dispose()

    @classmethod
    def _fill(cls, connection, rows, sequences=None) -> None:
        """Empty every table and write ``rows`` ((table, columns, rows) as :meth:`_capture` reads them), in one
        transaction; every sequence restarted, or set to its value in ``sequences``."""
        import sqlalchemy as sa

        tables = cls._tables(connection)
        connection.commit()
        with connection.begin():
            try:  # DELETE with the foreign keys' triggers off: ~0.05 s, where TRUNCATE took ~1 s
                with connection.begin_nested():
                    connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
                for table in tables:
                    connection.execute(sa.text(f"DELETE FROM {table}"))
            except sa.exc.ProgrammingError:  # not a superuser: the slower way
                connection.execute(sa.text(f"TRUNCATE {', '.join(tables)} CASCADE"))
            connection.execute(sa.text(
                "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) FROM pg_sequences"))
            for schema, name, value in sequences or ():
                connection.execute(sa.text("SELECT setval(format('%I.%I', CAST(:schema AS text), CAST(:name AS text)), CAST(:value AS bigint), true)"),
                                   {"schema": schema, "name": name, "value": value})
            for table, columns, found in rows:
                names = ", ".join(f'"{column}"' for column in columns)
                marks = ", ".join(f":p{i}" for i in range(len(columns)))
                connection.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks})"),
                                   [{f"p{i}": value for i, value in enumerate(row)} for row in found])

    def capture(self, url: str) -> tuple[list, list] | None:
        """The rows and sequence values of the database at ``url``, if its structure is the template's (else
        None): what :meth:`new_from` writes into a new database."""
        import sqlalchemy as sa

        from shangliang.core.db import make_engine

        self._template()
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                if self._shape(connection) != self._shapes[self.server]:
                    return None
                rows = self._read_rows(connection)
                sequences = [tuple(row) for row in connection.execute(sa.text(
                    "SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE last_value IS NOT NULL"))]
                return rows, sequences
        finally:
            engine.dispose()

    def new_from(self, captured: tuple[list, list]) -> str:
        """A new database (:meth:`new`) holding the rows :meth:`capture` read: a few rows written, where a
        ``CREATE DATABASE … TEMPLATE`` copies (and WAL-logs) every page of the database."""
        from shangliang.core.db import make_engine

        url = self.new()
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                self._fill(connection, *captured)
        finally:
            engine.dispose()
        return url

    def drop_all(self) -> None:
        """Put this factory's databases back in the pool, emptied, or drop those a test changed."""
        made, self.made = self.made, []
        dropped = []
        for database in made:
            if self.server in self._shapes and self._reset(database):
                self._pool.setdefault(self.server, []).append(database)
            else:
                dropped.append(database)
        if dropped:
            self._execute(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in dropped))

    @classmethod
    def _drop_pool(cls, server: str) -> None:
        pool = cls._pool.pop(server, [])
        if pool:
            cls._run(server, *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in pool))


class SqliteTemplate:
    """The embedded backend's counterpart of :class:`Databases`: one SQLite database this process migrated to
    the head revision once, copied for every node (a file copy, where migrating took ~0.2 s of CPU a node).
    Migrating an empty database is tested by itself (``tests/core/test_init.py``, ``test_migrations.py``)."""

    _path: Path | None = None

    @classmethod
    def copy_to(cls, target: Path) -> str:
        """Copy the migrated template to ``target``; return its database URL."""
        import shutil
        import tempfile

        if cls._path is None:
            from shangliang.core import migrate

            folder = Path(tempfile.mkdtemp(prefix="shangliang-template-"))
            atexit.register(shutil.rmtree, folder, True)
            path = folder / "template.db"
            migrate.upgrade(f"sqlite:///{path}")
            cls._path = path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cls._path, target)
        return f"sqlite:///{target}"


class NodeFactory:
    """The one way the tests make a node: ``factory(node_id, name, url, plugins, extra_toml)`` runs
    ``shangliang init`` for a directory under ``base_dir`` and returns its path.

    On the suite's backend (module docstring): every node gets a PostgreSQL schema and a task queue
    of its own when the servers are configured; a configured server that does not answer skips the
    test. :meth:`close` drops the databases made.
    """

    def __init__(self, base_dir: str | os.PathLike):
        self.base_dir = Path(base_dir)
        self.count = 0
        self.database_server = os.environ.get(DB_ENV) or None
        self.broker_url = os.environ.get(BROKER_ENV) or None
        if self.database_server:
            _reachable_or_skip(self.database_server, 5432, "PostgreSQL")
        if self.broker_url:
            _reachable_or_skip(self.broker_url, 6379, "Redis")
        self.databases = Databases(self.database_server) if self.database_server else None
        self.queue_prefix = f"shangliang.test.{uuid.uuid4().hex[:12]}"

    def __call__(self, node_id: str = "620302", name: str = "金川区政协", url: str | None = None, plugins=(),
                 extra_toml: str = "") -> Path:
        from click.testing import CliRunner

        from shangliang.core.cli import cli

        self.count += 1
        node_dir = self.base_dir / f"node-{node_id}-{self.count}"
        args = ["init", str(node_dir), "--id", node_id, "--name", name, "--url", url or "http://127.0.0.1:5999"]
        if self.databases is not None:
            args += ["--database-url", self.databases.new()]
        else:  # beside the node directory, which init must create itself
            args += ["--database-url", SqliteTemplate.copy_to(self.base_dir / "databases" / f"{node_dir.name}.db")]
        if self.broker_url:
            args += ["--broker-url", self.broker_url]
        for plugin in plugins:
            args += ["--plugin", plugin]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        if self.broker_url:
            _rewrite_toml(node_dir, task_queue=f"{self.queue_prefix}.{node_id}.{self.count}")
        if extra_toml:
            with open(node_dir / "node.toml", "a", encoding="utf-8") as handle:
                handle.write(extra_toml)
        return node_dir

    # -- snapshots: a node set up once per process, copied for every test that asks for it --

    #: (database server, broker, name) → (the saved node directory, its saved database: a SQLite file, on
    #: PostgreSQL its rows (Databases.capture) or, when its tables are not the template's, a database copied from)
    _snapshots: dict[tuple, tuple[Path, Any]] = {}
    _snapshot_folder: Path | None = None

    def snapshot(self, name: str, build) -> Path:
        """A copy of the node ``build(factory)`` sets up, made once per process for each ``name``: the node
        directory and its database are saved after the first build, and every call (the first one too) gets a
        directory and a database of its own copied from them (a file copy on SQLite; on PostgreSQL the saved
        rows written into a database of the pool, or ``CREATE DATABASE … TEMPLATE`` when a plugin's tables
        make it differ from the template), with a task queue of its own. For fixtures that set up a node the same way
        for every test of a module (members, users with scrypt-hashed passwords, units): several seconds of CPU
        each, where a copy takes a fraction of one. The copies share the node's keys and secret key: one node
        per test."""
        key = (self.database_server, self.broker_url, name)
        saved = self._snapshots.get(key)
        if saved is None:
            saved = self._snapshots[key] = self._save(build(self))
        return self._restore(*saved)

    @classmethod
    def _folder(cls) -> Path:
        if cls._snapshot_folder is None:
            import shutil
            import tempfile

            cls._snapshot_folder = Path(tempfile.mkdtemp(prefix="shangliang-snapshots-"))
            atexit.register(shutil.rmtree, cls._snapshot_folder, True)
        return cls._snapshot_folder

    def _save(self, node_dir: Path) -> tuple[Path, Any]:
        import shutil
        import sqlite3

        from sqlalchemy.engine import make_url

        folder = self._folder() / uuid.uuid4().hex[:12]
        shutil.copytree(node_dir, folder / "node", ignore=shutil.ignore_patterns("broker.sqlite*", "metrics"))
        url = make_url(tomllib.loads((node_dir / "node.toml").read_text(encoding="utf-8"))["database_url"])
        if self.databases is None:
            target = folder / "node.db"
            source = sqlite3.connect(url.database)
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)  # whatever is still in the write-ahead log too
            finally:
                copy.close()
                source.close()
            return folder / "node", str(target)
        captured = self.databases.capture(url.render_as_string(hide_password=False))
        if captured is not None:  # the template's tables: its rows are enough
            return folder / "node", captured
        database = f"t_snapshot_{uuid.uuid4().hex[:12]}"
        self.databases._execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                f"WHERE datname = '{url.database}' AND pid <> pg_backend_pid()",
                                f'CREATE DATABASE "{database}" TEMPLATE "{url.database}"')
        atexit.register(self.databases._execute, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        return folder / "node", database

    def _restore(self, saved_dir: Path, saved_database) -> Path:
        import shutil

        self.count += 1
        node_dir = self.base_dir / f"node-snapshot-{self.count}"
        shutil.copytree(saved_dir, node_dir)
        if self.databases is None:
            target = self.base_dir / "databases" / f"{node_dir.name}.db"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(saved_database, target)
            url = f"sqlite:///{target}"
        elif isinstance(saved_database, tuple):
            url = self.databases.new_from(saved_database)
        else:
            database = f"t_{uuid.uuid4().hex[:16]}"
            self.databases._execute(f'CREATE DATABASE "{database}" TEMPLATE "{saved_database}"')
            self.databases.made.append(database)
            url = self.databases._url(database)
        settings = {"database_url": url}
        if self.broker_url:
            node_id = tomllib.loads((node_dir / "node.toml").read_text(encoding="utf-8"))["id"]
            settings["task_queue"] = f"{self.queue_prefix}.{node_id}.{self.count}"
        _rewrite_toml(node_dir, **settings)
        return node_dir

    def close(self) -> None:
        if self.databases is not None:
            self.databases.drop_all()


def _rewrite_toml(node_dir: Path, **settings: str) -> None:
    path = node_dir / "node.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    for key, value in settings.items():
        document[key] = value
    path.write_text(tomlkit.dumps(document), encoding="utf-8")


# -- federations ----------------------------------------------------------------------------------------


def _level_name(node_id: str) -> str:
    level = divisions.level_of(node_id) if divisions.is_standard(node_id) else "node"
    return f"{node_id} {level} 政协"


def _related(a: str, b: str) -> bool:
    return divisions.parent_of(a) == b or divisions.parent_of(b) == a


def make_federation(factory: NodeFactory, ids: Iterable[str], *, in_process: bool = False) -> dict[str, Node]:
    """Nodes ``ids`` made with ``factory``, each with a free port in its URL, every parent/child pair
    among them paired both ways with ``keys show`` and ``peers add``. Returns ``{id: Node}``; nothing
    is started.

    The commands run as subprocesses (``Node.cli``, a few in parallel), or with ``in_process`` in this
    process (``Node.run``: the same commands without an interpreter start-up each, much faster).
    """
    ids = list(ids)
    if len(set(ids)) != len(ids):
        raise ValueError(f"node ids repeat: {ids}")
    nodes: dict[str, Node] = {}
    for node_id in ids:
        url = f"http://127.0.0.1:{free_port()}"
        nodes[node_id] = Node(factory(node_id=node_id, name=_level_name(node_id), url=url))

    def command(node: Node, *args: str) -> str:
        if in_process:
            return node.run(*args)
        result = node.cli(*args)
        assert result.returncode == 0, f"{node}: {' '.join(args)} failed: {result.stderr}"
        return result.stdout

    def show(node: Node) -> None:
        node.pairing = shlex.split(command(node, "keys", "show"))

    def pair(node: Node) -> None:
        for other in nodes.values():
            if other is not node and _related(node.id, other.id):
                command(node, "peers", "add", *other.pairing)

    # In-process commands share this process's standard streams: one at a time.
    with ThreadPoolExecutor(1 if in_process else min(8, len(nodes))) as pool:
        list(pool.map(show, nodes.values()))
        list(pool.map(pair, nodes.values()))  # one thread per node: its own adds run one after another
    return nodes


class Federation:
    """Nodes made with one :class:`NodeFactory` and paired: ``federation(*ids)`` → ``{id: Node}``.
    :meth:`close` stops every one of them that runs (the factory's owner drops their databases)."""

    def __init__(self, factory: NodeFactory):
        self.factory = factory
        self.nodes: dict[str, Node] = {}

    def __call__(self, *ids: str, in_process: bool = False) -> dict[str, Node]:
        if len(ids) == 1 and not isinstance(ids[0], str):
            ids = tuple(ids[0])
        clash = set(ids) & set(self.nodes)
        if clash:
            raise ValueError(f"nodes {sorted(clash)} were made already in this federation")
        made = make_federation(self.factory, ids, in_process=in_process)
        self.nodes.update(made)
        return made

    def close(self) -> None:
        """Stop every node started (SIGKILL after ``TEARDOWN_GRACE``: a teardown asserts no clean stop)."""
        stop_all([node for node in self.nodes.values() if node.process is not None], timeout=TEARDOWN_GRACE)

    def __enter__(self) -> "Federation":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
