"""What the activities tests share: a township node with an office user, a member user (linked to member
J001), a public user and two members; topics held there at `determined`; helpers that write through the API."""

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
        "areas": ["620302001"], "raised_by_kind": "public", "raised_by_name": "村民代表"}
FORUM = {"form": "forum", "title": "第二季度协商座谈会", "description": "道路维修专题", "starts": "2026-06-10 09:00",
         "ends": "2026-06-10 11:30", "place": "镇政府三楼会议室", "organiser": "提案委员会"}
FUTURE = "2099-01-01 00:00"


def basic(user: str, password: str = PASSWORD) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def expect_error(response, status: int, code: str, *words: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    for word in words:
        assert word in error["message"], error
    return error


def rows(app) -> dict:
    """Rows a change to an activity could write, and the audit rows."""
    from shangliang.core.activities.models import Activity, ActivityTopic, Invitation, Material, Opinion, Research
    from shangliang.core.models import AuditEvent
    from shangliang.core.topics.models import TopicEvent

    with app.app_context():
        session = get_session()
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Activity, ActivityTopic, Invitation, Material, Opinion, Research, TopicEvent, AuditEvent)}


def snapshot(client, uid) -> dict:
    """The activity as the API shows it, without what changes with the clock alone."""
    data = client.get(f"/api/v1/activities/{uid}", headers=basic("wang")).get_json()
    data.pop("window_open", None)
    return data


@pytest.fixture
def township(make_node, runner):
    node_dir = make_node(node_id=TOWNSHIP, name="宁远堡镇政协联络组")
    for name, number in (("李强", "J001"), ("王芳", "J002")):
        result = invoke(runner, node_dir, "members", "add", "--name", name, "--sector", "农业界", "--member-no", number)
        assert result.exit_code == 0, result.output
    for user, role, display, member in (("wang", "office", "王主任", None), ("li", "member", "李强", "J001"),
                                        ("zhang", "public", "张群众", None), ("admin", "admin", "管理员", None)):
        args = ["users", "add", user, "--role", role, "--name", display, "--password-stdin"]
        if member:
            args += ["--member", member]
        result = invoke(runner, node_dir, *args, input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    return node_dir


@pytest.fixture
def app(township):
    app = create_app(township, test_config={"WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def determined_topic(client, **changes) -> str:
    """A topic raised here and moved to `determined`; its uid."""
    raised = client.post("/api/v1/topics", json={**ROAD, **changes}, headers=basic("wang"))
    assert raised.status_code == 201, raised.get_data(as_text=True)
    uid = raised.get_json()["topic"]["uid"]
    moved = client.post(f"/api/v1/topics/{uid}/actions", json={"action": "advance", "to_stage": "determined"},
                        headers=basic("wang"))
    assert moved.status_code == 200, moved.get_data(as_text=True)
    return uid


def create(client, topics, user="wang", **changes):
    return client.post("/api/v1/activities", json={**FORUM, "topics": topics, **changes}, headers=basic(user))


def planned(client, **changes) -> tuple[str, str]:
    """An activity planned on a fresh determined topic: (activity uid, topic uid)."""
    topic = determined_topic(client)
    made = create(client, [topic], **changes)
    assert made.status_code == 201, made.get_data(as_text=True)
    return made.get_json()["activity"]["uid"], topic


def act(client, uid, action, user="wang", **fields):
    return client.post(f"/api/v1/activities/{uid}/actions", json={"action": action, **fields}, headers=basic(user))


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def topic_of(client, uid) -> dict:
    return client.get(f"/api/v1/topics/{uid}", headers=basic("wang")).get_json()
