"""What the administration tests share: a county node with an administrator, an office user and a member's
account; a child node whose pairing line the county pastes; a dead letter to inspect and retry."""

from __future__ import annotations

import base64

import pytest
from shangliang.core.app import create_app
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction

from ..conftest import invoke

PASSWORD = "correct-horse"
COUNTY, CHILD = "620302", "620302001"


def add_user(runner, node_dir, name, role, display=None):
    result = invoke(runner, node_dir, "users", "add", name, "--role", role, "--name", display or name,
                    "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def basic(user: str, password: str = PASSWORD) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _county(make_node):
    from click.testing import CliRunner

    runner = CliRunner()
    node_dir = make_node(node_id=COUNTY, name="金川区政协")
    add_user(runner, node_dir, "root", "admin", "管理员")
    add_user(runner, node_dir, "wang", "office", "王主任")
    add_user(runner, node_dir, "li", "member", "李委员")
    return node_dir


@pytest.fixture
def county(make_node):
    """Set up once per test process and copied for each test (NodeFactory.snapshot)."""
    return make_node.snapshot("admin.county", _county)


@pytest.fixture
def child_line(make_node, runner):
    """The pairing line a child node's ``keys show`` prints (its name holds a space, so it is quoted)."""
    node_dir = make_node(node_id=CHILD, name="宁远堡镇 政协联络组", url="http://127.0.0.1:9/")
    result = invoke(runner, node_dir, "keys", "show")
    assert result.exit_code == 0, result.output
    return result.output.strip()


@pytest.fixture
def app(county):
    app = create_app(county, test_config={"WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def signed_in(app, user):
    client = app.test_client()
    answer = client.post("/login", data={"username": user, "password": PASSWORD})
    assert answer.status_code == 302
    return client


def pin_child(app, line) -> None:
    from shangliang.federation import peers

    with app.app_context(), transaction("test") as session:
        peers.add_from_pairing(session, node_context().id, line)


def dead_letter(app, error="HTTP 500 from the child") -> int:
    """A message to the child that delivery gave up on: written by the outbox's own service, then dead."""
    from shangliang.federation import outbox

    with app.app_context():
        with transaction("test") as session:
            _envelope, row = outbox.originate(session, node_context(), "x-test.note", {"text": "测试"}, CHILD,
                                              "forward", note="a note")
            row.status, row.attempts, row.last_error, row.last_status = "dead", 7, error, 500
            outbox_id = row.id
        get_session().close()
    return outbox_id
