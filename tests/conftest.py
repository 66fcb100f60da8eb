"""Fixtures: node directories made with the real CLI, on the embedded defaults or on PostgreSQL and Redis.

Every node of the suite is made by one :class:`~.nodes.NodeFactory` (see ``tests/nodes.py``). Set
``SHANGLIANG_TEST_DATABASE_URL`` (e.g. ``postgresql://127.0.0.1:5432/test``) and
``SHANGLIANG_TEST_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/0``) to run every node on them; each
node then gets its own PostgreSQL database and its own Redis queue. Unset, nodes use SQLite and the
embedded broker, and the tests that need the servers skip, saying why.

- ``make_node(node_id, name, url, plugins, extra_toml)`` → the path of a new node directory;
- ``node_dir``, ``app``, ``client``: one county node, its app (CSRF off) and a test client;
- ``federation(*ids)`` → ``{id: Node}``: nodes made with ``make_node`` and paired parent/child with
  the real commands; every one started is stopped when the test ends;
- ``module_federation``: the same for all tests of a module (one set of processes), on a factory of
  its own (``module_federation.factory`` makes further nodes);
- ``pg_schema``: a fresh PostgreSQL schema for tests of the database itself (skipped without one).

Passwords: every node of the suite, in this process and in the node processes it starts, hashes new
passwords with ``pbkdf2:sha256:1`` (``SHANGLIANG_USERS_HASH_METHOD``, set below unless already set)
instead of the production default scrypt, which costs ~0.1 s for every sign-in and every HTTP Basic
request. tests/users/test_passwords.py checks the production default without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import hypothesis
import pytest
from click.testing import CliRunner

from shangliang.core.app import create_app
from shangliang.core.cli import cli

from .nodes import DB_ENV, Federation, NodeFactory, Schemas, unreachable

TEST_HASH_METHOD = "pbkdf2:sha256:1"
os.environ.setdefault("SHANGLIANG_USERS_HASH_METHOD", TEST_HASH_METHOD)

# Property tests are about what they find, not how fast: no per-example deadline and no "too slow" health
# check, which a loaded CI machine (two runs, five workers, their nodes) trips on a test that is correct.
hypothesis.settings.register_profile("suite", deadline=None,
                                     suppress_health_check=[hypothesis.HealthCheck.too_slow])
hypothesis.settings.load_profile("suite")

#: Test modules whose subject never touches the suite's database or broker (canonical JSON and the published
#: vectors, the layers and the packaging, the catalogues, the calendar and division codes, the shape of plugins, a scaffold
#: whose documented ``init`` makes a SQLite node): with the servers set they would only run again what the
#: embedded run ran, so they run once, there.
BACKEND_FREE = {
    "tests/federation/test_canonical.py", "tests/federation/test_fast_path.py", "tests/federation/test_vectors.py",
    "tests/federation/test_national.py", "tests/core/test_packaging.py", "tests/core/test_layers.py",
    "tests/core/test_i18n.py", "tests/core/test_calendar.py", "tests/core/test_divisions.py", "tests/plugins/test_shape.py",
    "tests/plugins/test_practices_complete.py", "tests/plugins/test_scaffold.py",
    # not backend-free, but their subject is the pages in a browser, not the database or broker under them:
    # run once, on the embedded defaults (CI time)
    "tests/browser/test_daily_work.py",
}


#: The longest modules (several node processes each, or thousands of requests): run first, so that with
#: pytest-xdist (CI) no worker is left with one of them while the others have finished.
LONGEST = (
    "tests/topics/test_federation.py", "tests/federation/test_delivery.py", "tests/core/test_fuzz.py",
    "tests/core/test_authorization.py", "tests/activities/test_federation.py", "tests/federation/test_http.py",
    "tests/plugins/test_outside.py", "tests/core/test_demo_signals.py", "tests/federation/test_faults.py",
    "tests/browser/test_daily_work.py",
)


def pytest_collection_modifyitems(config, items):
    root = Path(__file__).resolve().parents[1]

    def where(item) -> str:
        try:
            return Path(str(item.fspath)).resolve().relative_to(root).as_posix()
        except ValueError:
            return ""

    order = {name: index for index, name in enumerate(LONGEST)}
    items.sort(key=lambda item: order.get(where(item), len(LONGEST)))  # stable: the rest keep their order
    if not (os.environ.get(DB_ENV) or os.environ.get("SHANGLIANG_TEST_BROKER_URL")):
        return
    skip = pytest.mark.skip(reason="touches no database or broker: tested in the embedded run")
    for item in items:
        if where(item) in BACKEND_FREE:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = os.environ.get(DB_ENV)
    if not url:
        pytest.skip(f"{DB_ENV} is not set: PostgreSQL tests skipped (see README, Testing)")
    reason = unreachable(url, 5432)
    if reason:
        pytest.skip(f"PostgreSQL at {url} is unreachable ({reason}): PostgreSQL tests skipped")
    return url


@pytest.fixture
def pg_schema(postgres_server) -> str:
    """A fresh PostgreSQL schema for this test, dropped afterwards; a URL that uses it."""
    schemas = Schemas(postgres_server)
    yield schemas.new()
    schemas.drop_all()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, node: Path | None, *args: str, input: str | None = None):
    argv = (["--node", str(node)] if node is not None else []) + [str(a) for a in args]
    return runner.invoke(cli, argv, input=input, catch_exceptions=False)


@pytest.fixture
def make_node(tmp_path) -> NodeFactory:
    """A :class:`NodeFactory` under this test's ``tmp_path``: ``make_node(...)`` returns a new node
    directory; the databases made for this test's nodes are dropped when it ends."""
    factory = NodeFactory(tmp_path)
    yield factory
    factory.close()


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


@pytest.fixture
def federation(make_node) -> Federation:
    """``federation(*ids, in_process=False)`` → ``{id: Node}`` made with ``make_node`` and paired; every
    node started from it is stopped when the test ends."""
    with Federation(make_node) as made:
        yield made


@pytest.fixture(scope="module")
def module_federation(tmp_path_factory) -> Federation:
    """``federation`` for a whole module: its nodes (and their processes, once started) live until the
    module's last test."""
    factory = NodeFactory(tmp_path_factory.mktemp("federation"))
    try:
        with Federation(factory) as made:
            yield made
    finally:
        factory.close()
