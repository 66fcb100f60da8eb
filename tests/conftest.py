"""Fixtures: node directories made with the real CLI, on the embedded defaults or on PostgreSQL and Redis.

Set ``SHANGLIANG_TEST_DATABASE_URL`` (e.g. ``postgresql://127.0.0.1:5432/test``) and
``SHANGLIANG_TEST_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/0``) to run every node of the suite on
them; each test then gets its own PostgreSQL schema and its own Redis queue. Unset, nodes use SQLite
and the embedded broker, and the tests that need the servers skip, saying why.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from click.testing import CliRunner

from shangliang.core.app import create_app
from shangliang.core.cli import cli

DB_ENV = "SHANGLIANG_TEST_DATABASE_URL"
BROKER_ENV = "SHANGLIANG_TEST_BROKER_URL"


def _unreachable(url: str, default_port: int) -> str | None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return None
    except OSError as exc:
        return str(exc)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = os.environ.get(DB_ENV)
    if not url:
        pytest.skip(f"{DB_ENV} is not set: PostgreSQL tests skipped (see README, Testing)")
    reason = _unreachable(url, 5432)
    if reason:
        pytest.skip(f"PostgreSQL at {url} is unreachable ({reason}): PostgreSQL tests skipped")
    return url


@pytest.fixture(scope="session")
def redis_server() -> str:
    url = os.environ.get(BROKER_ENV)
    if not url:
        pytest.skip(f"{BROKER_ENV} is not set: Redis tests skipped (see README, Testing)")
    reason = _unreachable(url, 6379)
    if reason:
        pytest.skip(f"Redis at {url} is unreachable ({reason}): Redis tests skipped")
    return url


def _schema_url(server: str, schema: str) -> str:
    separator = "&" if "?" in server else "?"
    return f"{server}{separator}options={quote(f'-csearch_path={schema}')}"


def new_pg_schema(request, server: str) -> str:
    """A fresh PostgreSQL schema, dropped when the test ends; returns a URL that uses it."""
    import sqlalchemy as sa

    from shangliang.core.db import make_engine

    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = make_engine(server)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()

    request.addfinalizer(drop)
    return _schema_url(server, schema)


@pytest.fixture
def pg_schema(request) -> str:
    """A fresh PostgreSQL schema for this test, dropped afterwards; a URL that uses it."""
    return new_pg_schema(request, request.getfixturevalue("postgres_server"))


@pytest.fixture
def backend(request) -> dict:
    """The database and broker this test's nodes use: the servers when configured, else embedded."""
    settings: dict = {"database_url": None, "broker_url": None, "task_queue": None}
    if os.environ.get(DB_ENV):
        settings["database_url"] = request.getfixturevalue("pg_schema")
    if os.environ.get(BROKER_ENV):
        settings["broker_url"] = request.getfixturevalue("redis_server")
        settings["task_queue"] = f"shangliang.test.{uuid.uuid4().hex[:12]}"
    return settings


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, node: Path | None, *args: str, input: str | None = None):
    argv = (["--node", str(node)] if node is not None else []) + [str(a) for a in args]
    return runner.invoke(cli, argv, input=input, catch_exceptions=False)


@pytest.fixture
def make_node(tmp_path, runner, backend, request):
    """Create a node directory with ``shangliang init``; returns its path.

    On PostgreSQL the first node of a test uses the test's schema and every further node a schema
    of its own: two nodes never share a database.
    """
    counter = {"n": 0}

    def make(node_id: str = "620302", name: str = "金川区政协", url: str | None = None, plugins=(), extra_toml: str = "") -> Path:
        counter["n"] += 1
        node_dir = tmp_path / f"node-{node_id}-{counter['n']}"
        args = ["init", str(node_dir), "--id", node_id, "--name", name, "--url", url or "http://127.0.0.1:5999"]
        if backend["database_url"]:
            database_url = backend["database_url"] if counter["n"] == 1 else \
                new_pg_schema(request, request.getfixturevalue("postgres_server"))
            args += ["--database-url", database_url]
        if backend["broker_url"]:
            args += ["--broker-url", backend["broker_url"]]
        for plugin in plugins:
            args += ["--plugin", plugin]
        result = invoke(runner, None, *args)
        assert result.exit_code == 0, result.output
        top = ""
        if backend["task_queue"]:
            top += f'task_queue = "{backend["task_queue"]}.{counter["n"]}"\n'
        if top or extra_toml:
            text = (node_dir / "node.toml").read_text(encoding="utf-8")
            (node_dir / "node.toml").write_text(top + text + extra_toml, encoding="utf-8")
        return node_dir

    return make


@pytest.fixture
def node_dir(make_node) -> Path:
    return make_node()


@pytest.fixture
def app(node_dir):
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()
