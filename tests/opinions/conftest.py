"""What the opinions tests share: a county node with an office user (wang), member users linked to members J001
and J002, a member user not linked, a public user and an admin; helpers that write through the API and count
rows."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from shangliang.core.app import create_app
from shangliang.core.db import get_session

from ..conftest import invoke

COUNTY = "620302"
PASSWORD = "correct-horse"
REPORT = {"title": "关于农村留守老人就医难的情况反映", "sentiment": "部分村民反映村卫生室缺医少药",
          "analysis": "基层医疗人员流失", "suggestion": "建立巡回医疗制度", "category": "社会民生", "year": 2026}


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
    """Rows a step on a report could write, the outbox and the audit rows."""
    from shangliang.core.models import AuditEvent
    from shangliang.core.opinions import models as m
    from shangliang.federation.models import OutboxMessage

    with app.app_context():
        session = get_session()
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (m.SocialOpinion, m.SocialOpinionEvent, m.OpinionIssue, OutboxMessage, AuditEvent)}


def pair_parent(node_dir, runner, parent: str = "6203") -> None:
    from shangliang.federation.signing import b64u_encode, public_from_seed

    result = invoke(runner, node_dir, "peers", "add", parent, "http://127.0.0.1:9",
                    f"ed25519:parent:{b64u_encode(public_from_seed(bytes(range(1, 33))))}")
    assert result.exit_code == 0, result.output


def pair_child(node_dir, runner, child: str = "620302001") -> None:
    from shangliang.federation.signing import b64u_encode, public_from_seed

    result = invoke(runner, node_dir, "peers", "add", child, "http://127.0.0.1:9",
                    f"ed25519:child:{b64u_encode(public_from_seed(bytes(range(2, 34))))}")
    assert result.exit_code == 0, result.output


def _county(make_node):
    from click.testing import CliRunner

    runner = CliRunner()
    node_dir = make_node(node_id=COUNTY, name="金川区政协")
    for name, number in (("李强", "J001"), ("王芳", "J002")):
        result = invoke(runner, node_dir, "members", "add", "--name", name, "--sector", "农业界", "--member-no", number)
        assert result.exit_code == 0, result.output
    for user, role, display, member in (("wang", "office", "王主任", None), ("li", "member", "李强", "J001"),
                                        ("fang", "member", "王芳", "J002"), ("loose", "member", "未关联委员", None),
                                        ("zhang", "public", "张群众", None), ("admin", "admin", "管理员", None)):
        args = ["users", "add", user, "--role", role, "--name", display, "--password-stdin"]
        if member:
            args += ["--member", member]
        result = invoke(runner, node_dir, *args, input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    return node_dir


@pytest.fixture
def county(make_node):
    """Set up once per test process and copied for each test (NodeFactory.snapshot)."""
    return make_node.snapshot("opinions.county", _county)


@pytest.fixture
def app(county):
    app = create_app(county, test_config={"WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def post(client, path, body, user="wang"):
    return client.post(f"/api/v1/opinions{path}", json=body, headers=basic(user))


def written(client, user="li", **changes) -> dict:
    return ok(post(client, "", {**REPORT, **changes}, user), 201)["opinion"]


def decided(client, ref, decision, user="wang", **fields) -> dict:
    return ok(post(client, f"/{ref}/decisions", {"decision": decision, **fields}, user), 201)
