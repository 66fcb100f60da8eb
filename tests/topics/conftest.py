"""What the topics tests share: a township node with an office user and a member, and the helpers
that write to it through the JSON API."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from shangliang.core.app import create_app
from shangliang.core.db import get_session

from ..conftest import invoke

TOWNSHIP = "620302001"
PASSWORD = "correct-horse"
ROAD = {"title": "两镇之间道路维修", "description": "连接两镇的道路破损严重", "category": "交通",
        "areas": ["620302001", "620302002"], "raised_by_kind": "public", "raised_by_name": "村民代表"}


def expect_user_added(runner, node_dir, name, role, display=None):
    result = invoke(runner, node_dir, "users", "add", name, "--role", role, "--name", display or name,
                    "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def basic(user: str, password: str = PASSWORD) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def expect_error(response, status: int, code: str, *words: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    for word in words:
        assert word in error["message"], error
    if field is not None:
        assert error.get("field") == field, error
    return error


def counts(app) -> dict:
    """Rows an action could write: topics, their events, outbox messages, audit rows."""
    from shangliang.core.models import AuditEvent
    from shangliang.core.topics.models import Topic, TopicEvent
    from shangliang.federation.models import OutboxMessage

    with app.app_context():
        session = get_session()
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Topic, TopicEvent, OutboxMessage, AuditEvent)}


def make_app(node_dir, csrf: bool = False):
    return create_app(node_dir, test_config={} if csrf else {"WTF_CSRF_ENABLED": False})


@pytest.fixture
def app(township):
    """The township's app (CSRF off: the tests post forms and JSON without a token unless they say so)."""
    app = make_app(township)
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def township(make_node, runner):
    node_dir = make_node(node_id=TOWNSHIP, name="宁远堡镇政协联络组")
    expect_user_added(runner, node_dir, "wang", "office", "王主任")
    expect_user_added(runner, node_dir, "li", "member", "李委员")
    return node_dir


def create(client, user="wang", **changes):
    return client.post("/api/v1/topics", json={**ROAD, **changes}, headers=basic(user))


def act(client, uid, action, user="wang", **fields):
    return client.post(f"/api/v1/topics/{uid}/actions", json={"action": action, **fields}, headers=basic(user))


def expect_signed_in(client, user="wang"):
    response = client.post("/login", data={"username": user, "password": PASSWORD})
    assert response.status_code == 302


def upload(client, uid, name, data: bytes, user="wang", content_type="application/octet-stream"):
    return client.post(f"/api/v1/topics/{uid}/attachments", query_string={"name": name}, data=data,
                       headers={**basic(user), "Content-Type": content_type})


def attachment_rows(app) -> int:
    from shangliang.core.topics.models import TopicAttachment

    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(TopicAttachment))


# -- implementation (办理实施): handling units with contact users, a topic at the implementing stage -------

LEAD, OTHER, IDLE = "区交通运输局", "区财政局", "区民政局"


def add_units(app, runner, node_dir) -> None:
    """Three handling units with one contact user each: jt (交通), cz (财政), mz (民政, never assigned)."""
    from shangliang.core.db import transaction
    from shangliang.core.units import services as units

    for username in ("jt", "cz", "mz"):
        expect_user_added(runner, node_dir, username, "handling_unit")
    with app.app_context(), transaction("test") as session:
        units.add_unit(session, LEAD, "government", contacts=["jt"])
        units.add_unit(session, OTHER, "government", contacts=["cz"])
        units.add_unit(session, IDLE, "government", contacts=["mz"])


def implementing_topic(client, user="wang", **changes) -> str:
    """A topic raised here and advanced to ``implementing`` through the API."""
    uid = create(client, user=user, **changes).get_json()["topic"]["uid"]
    for stage in ("determined", "researching", "consulting", "implementing"):
        moved = act(client, uid, "advance", user=user, to_stage=stage)
        assert moved.status_code == 200, moved.get_data(as_text=True)
    return uid


def implementation_rows(app) -> dict:
    from shangliang.core.topics.models import Assignment, Instruction, Report

    with app.app_context():
        session = get_session()
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Assignment, Instruction, Report)}


@pytest.fixture
def unit_app(app, runner, township):
    add_units(app, runner, township)
    return app
