"""Real node processes on loopback, for multi-node tests.

A :class:`Node` is a node directory plus, once started, its ``shangliang serve`` process (in a
session of its own, so that stopping it stops gunicorn's workers and the Celery worker too).
:func:`make_federation` creates nodes with a ``make_node``-style factory, each on its own free port,
and pairs every parent/child pair among them with the real commands, as an administrator would::

    B.cli("peers", "add", *A.cli("keys", "show").stdout.split())   # and the other way round

Two ways to use it from a test module:

- function scope: ``from .fednet import federation  # noqa: F401`` and ask for the ``federation``
  fixture; ``federation("6203", "620302")`` returns ``{id: Node}`` built on conftest's
  ``make_node``, and every node it made is stopped at teardown;
- module scope (one set of processes for many tests): build on :class:`NodeFactory`, which makes
  node directories under any directory (``tmp_path_factory``) the way conftest's ``make_node`` does,
  and call :meth:`Federation.close` (or use it as a context manager) at teardown.

On PostgreSQL (``SHANGLIANG_TEST_DATABASE_URL``) every node gets a schema of its own, and on Redis
(``SHANGLIANG_TEST_BROKER_URL``) a task queue of its own: nodes of one federation never share a
database or a queue, which conftest's ``make_node`` alone would do (it gives every node of a test the
test's one schema and one queue). The :func:`federation` fixture corrects that for the nodes it makes
with ``make_node``; :class:`NodeFactory` does it by itself.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
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
from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import quote, urlsplit

import pytest
import requests
import tomlkit

from shangliang.core import divisions

DB_ENV = "SHANGLIANG_TEST_DATABASE_URL"
BROKER_ENV = "SHANGLIANG_TEST_BROKER_URL"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0

__all__ = ["DB_ENV", "BROKER_ENV", "Node", "NodeFactory", "Federation", "free_port", "make_federation",
           "federation", "stop_all"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- nodes ----------------------------------------------------------------------------------------------


_STARTED: set["Node"] = set()  # every node started and not yet stopped, for stop_all()
_STARTED_LOCK = threading.Lock()


class Node:
    """A node directory and, once started, its ``serve`` process."""

    def __init__(self, node_dir: str | os.PathLike):
        self.dir = Path(node_dir)
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
              timeout: float = START_TIMEOUT) -> "Node":
        """Run ``serve --workers 1`` (and a worker with beat unless ``with_worker`` is false) and wait
        until ``/healthz`` answers for this node; fail the test with the log's tail otherwise.

        ``env`` is added to the process's environment: ``SHANGLIANG_<KEY>`` overrides a setting.
        """
        if self.running:
            raise RuntimeError(f"{self} is already running")
        args = [sys.executable, "-m", "shangliang.core", "--node", str(self.dir), "serve", "--workers", "1",
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
        return subprocess.run([sys.executable, "-m", "shangliang.core", "--node", str(self.dir), *map(str, args)],
                              input=input, capture_output=True, text=True, env=self._env(env), timeout=timeout)

    def run(self, *args: Any, input: str | None = None) -> str:
        """The same command run in this process (no interpreter start-up: ~20× faster than ``cli``);
        returns its standard output, raises ``AssertionError`` with the output when it fails.

        Runs the real command (argument parsing, app, database) and disposes the app's engine after.
        """
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
        if status:
            raise AssertionError(f"shangliang {' '.join(map(str, args))} exited {status}:\n{out}{err}")
        return out

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


def stop_all(nodes: Iterable[Node] | None = None) -> None:
    """Stop ``nodes`` (default: every node started in this process and still running)."""
    with _STARTED_LOCK:
        chosen = list(_STARTED if nodes is None else nodes)
    if len(chosen) > 1:  # each takes seconds (a warm Celery shutdown): stop them together
        with ThreadPoolExecutor(len(chosen)) as pool:
            list(pool.map(lambda node: node.stop(), chosen))
    else:
        for node in chosen:
            node.stop()


@contextlib.contextmanager
def _node_env(extra: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# -- separate databases and queues on the shared servers --------------------------------------------------


class _Schemas:
    """PostgreSQL schemas made for nodes, dropped by ``drop_all`` (and at exit, as a last resort)."""

    def __init__(self, server: str):
        self.server = server
        self.made: list[str] = []
        atexit.register(self.drop_all)

    def new(self) -> str:
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


def _reachable_or_skip(url: str, default_port: int, what: str) -> None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return
    except OSError as exc:
        pytest.skip(f"{what} at {url} is unreachable ({exc}): tests on it skipped")


def _rewrite_toml(node_dir: Path, **settings: str) -> None:
    path = node_dir / "node.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    for key, value in settings.items():
        document[key] = value
    path.write_text(tomlkit.dumps(document), encoding="utf-8")


class NodeFactory:
    """``make_node`` without pytest's function scope: node directories under ``base_dir``, made with
    ``shangliang init`` as conftest's ``make_node`` makes them, on the test servers when configured —
    each node with a PostgreSQL schema and a task queue of its own. Call :meth:`close` when done."""

    isolates_nodes = True

    def __init__(self, base_dir: str | os.PathLike):
        self.base_dir = Path(base_dir)
        self.count = 0
        self.database_server = os.environ.get(DB_ENV) or None
        self.broker_url = os.environ.get(BROKER_ENV) or None
        if self.database_server:
            _reachable_or_skip(self.database_server, 5432, "PostgreSQL")
        if self.broker_url:
            _reachable_or_skip(self.broker_url, 6379, "Redis")
        self.schemas = _Schemas(self.database_server) if self.database_server else None
        self.queue_prefix = f"shangliang.test.{uuid.uuid4().hex[:12]}"

    def __call__(self, node_id: str = "620302", name: str = "金川区政协", url: str | None = None, plugins=(),
                 extra_toml: str = "") -> Path:
        from click.testing import CliRunner

        from shangliang.core.cli import cli

        self.count += 1
        node_dir = self.base_dir / f"node-{node_id}-{self.count}"
        args = ["init", str(node_dir), "--id", node_id, "--name", name, "--url", url or "http://127.0.0.1:5999"]
        if self.schemas is not None:
            args += ["--database-url", self.schemas.new()]
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

    def close(self) -> None:
        if self.schemas is not None:
            self.schemas.drop_all()


# -- federations ----------------------------------------------------------------------------------------


def _level_name(node_id: str) -> str:
    level = divisions.level_of(node_id) if divisions.is_standard(node_id) else "node"
    return f"{node_id} {level} 政协"


def _related(a: str, b: str) -> bool:
    return divisions.parent_of(a) == b or divisions.parent_of(b) == a


def make_federation(make_node: Callable[..., Path], ids: Iterable[str], *, schemas: _Schemas | None = None,
                    in_process: bool = False) -> dict[str, Node]:
    """Nodes ``ids`` made with ``make_node`` (conftest's fixture or a :class:`NodeFactory`), each with a
    free port in its URL, every parent/child pair among them paired both ways with ``keys show`` and
    ``peers add``. Returns ``{id: Node}``; nothing is started.

    The commands run as subprocesses (``Node.cli``, a few in parallel), or with ``in_process`` in this
    process (``Node.run``: the same commands without an interpreter start-up each, much faster).

    With conftest's ``make_node`` on PostgreSQL or Redis, each node is moved to a schema (from
    ``schemas``, which the caller drops) and a queue of its own; the :func:`federation` fixture does
    that for you.
    """
    ids = list(ids)
    if len(set(ids)) != len(ids):
        raise ValueError(f"node ids repeat: {ids}")
    isolate = not getattr(make_node, "isolates_nodes", False)
    if isolate and os.environ.get(DB_ENV) and schemas is None:
        raise ValueError("on PostgreSQL, make_federation(conftest make_node, …) needs schemas=: use the "
                         "federation fixture or a NodeFactory")
    nodes: dict[str, Node] = {}
    for node_id in ids:
        url = f"http://127.0.0.1:{free_port()}"
        if isolate and schemas is not None:
            own_db = schemas.new()
            # init reads SHANGLIANG_* after node.toml: the node is created in its own schema...
            with _node_env({"SHANGLIANG_DATABASE_URL": own_db}):
                node_dir = make_node(node_id=node_id, name=_level_name(node_id), url=url)
            _rewrite_toml(node_dir, database_url=own_db)  # ...and keeps using it.
        else:
            node_dir = make_node(node_id=node_id, name=_level_name(node_id), url=url)
        if isolate and os.environ.get(BROKER_ENV):
            queue = tomllib.loads((node_dir / "node.toml").read_text(encoding="utf-8")).get("task_queue")
            if queue:
                _rewrite_toml(node_dir, task_queue=f"{queue}.{node_id}")
        nodes[node_id] = Node(node_dir)

    def command(node: Node, *args: str) -> str:
        if in_process:
            return node.run(*args)
        result = node.cli(*args)
        assert result.returncode == 0, f"{node}: {' '.join(args)} failed: {result.stderr}"
        return result.stdout

    def show(node: Node) -> None:
        node.pairing = command(node, "keys", "show").split()

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
    """Nodes made with one ``make_node``; :meth:`close` stops every one of them that runs and drops
    the databases made for them."""

    def __init__(self, make_node: Callable[..., Path]):
        self.make_node = make_node
        self.nodes: dict[str, Node] = {}
        isolates = getattr(make_node, "isolates_nodes", False)
        server = os.environ.get(DB_ENV)
        self.schemas = _Schemas(server) if server and not isolates else None

    def __call__(self, *ids: str, in_process: bool = False) -> dict[str, Node]:
        if len(ids) == 1 and not isinstance(ids[0], str):
            ids = tuple(ids[0])
        made = make_federation(self.make_node, ids, schemas=self.schemas, in_process=in_process)
        clash = set(made) & set(self.nodes)
        if clash:
            raise ValueError(f"nodes {sorted(clash)} were made already in this federation")
        self.nodes.update(made)
        return made

    def close(self) -> None:
        try:
            stop_all([node for node in self.nodes.values() if node.process is not None])
        finally:
            if self.schemas is not None:
                self.schemas.drop_all()

    def __enter__(self) -> "Federation":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@pytest.fixture
def federation(make_node):
    """``federation(*ids)`` → ``{id: Node}`` made with conftest's ``make_node`` and paired; every node
    started from it is stopped at teardown. Import it into a test module to use it."""
    with Federation(make_node) as made:
        yield made
