"""What the proposals tests share: a county node with an office user, member users linked to members J001,
J002 and J003, handling units 交通局 and 住建局 with their contact users, a public user; helpers that write
through the API."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shangliang.core.app import create_app
from shangliang.core.db import get_session, transaction

from ..conftest import invoke

COUNTY = "620302"
PASSWORD = "correct-horse"
ROAD = {"title": "关于加快农村公路养护的建议", "reasons": "部分乡村道路破损严重", "suggestions": "设立养护专项资金",
        "category": "城乡建设", "term": 12, "session": 1, "year": 2027}
SATISFIED = {"contact": "satisfied", "attitude": "satisfied", "measures": "satisfied", "pertinence": "satisfied",
             "leader_attention": "satisfied", "result": "satisfied", "overall": "satisfied"}
UNSATISFIED = {**SATISFIED, "result": "unsatisfied", "overall": "unsatisfied"}


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
    """Rows a step on a proposal could write, and the audit rows."""
    from shangliang.core.models import AuditEvent
    from shangliang.core.notifications import Notification
    from shangliang.core.proposals import models as m

    with app.app_context():
        session = get_session()
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (m.Proposal, m.ProposalSigner, m.ProposalAssignment, m.ProposalReassignment,
                              m.ProposalReply, m.ProposalContact, m.ProposalRating, m.ProposalSupervision,
                              m.ProposalCounter, AuditEvent, Notification)}


def add_units(node_dir) -> None:
    """交通局 (contact chen) and 住建局 (contact zhou), and an inactive 档案局."""
    from shangliang.core.units import services as units

    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    with app.app_context(), transaction("setup") as session:
        units.add_unit(session, "交通局", "government", contacts=["chen"])
        units.add_unit(session, "住建局", "government", contacts=["zhou"])
        units.add_unit(session, "档案局", "government")
        units.update_unit(session, "档案局", active=False)
    app.extensions["shangliang.db"].engine.dispose()


def make_county(make_node) -> Path:
    from click.testing import CliRunner

    runner = CliRunner()
    node_dir = make_node(node_id=COUNTY, name="金川区政协")
    for name, number in (("李强", "J001"), ("王芳", "J002"), ("张伟", "J003")):
        result = invoke(runner, node_dir, "members", "add", "--name", name, "--sector", "农业界", "--member-no", number)
        assert result.exit_code == 0, result.output
    for user, role, display, member in (("wang", "office", "王主任", None), ("li", "member", "李强", "J001"),
                                        ("fang", "member", "王芳", "J002"), ("wei", "member", "张伟", "J003"),
                                        ("loose", "member", "未关联委员", None),
                                        ("chen", "handling_unit", "陈科长", None),
                                        ("zhou", "handling_unit", "周科长", None),
                                        ("zhang", "public", "张群众", None), ("admin", "admin", "管理员", None)):
        args = ["users", "add", user, "--role", role, "--name", display, "--password-stdin"]
        if member:
            args += ["--member", member]
        result = invoke(runner, node_dir, *args, input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    add_units(node_dir)
    return node_dir


@pytest.fixture
def county(make_node):
    """The county above, set up once per test process and copied for each test (NodeFactory.snapshot)."""
    return make_node.snapshot("proposals.county", make_county)


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
    return client.post(f"/api/v1/proposals{path}", json=body, headers=basic(user))


def submitted(client, user="li", **changes) -> dict:
    return ok(post(client, "", {**ROAD, **changes}, user), 201)["proposal"]


def filed(client, **changes) -> dict:
    p = submitted(client, **changes)
    return ok(post(client, f"/{p['id']}/review", {"decision": "filed"}))["proposal"]


def assigned(client, co=("住建局",), **changes) -> dict:
    p = filed(client, **changes)
    return ok(post(client, f"/{p['number']}/assignments", {"lead": "交通局", "co": list(co)}))["proposal"]


def replied(client, **changes) -> dict:
    p = assigned(client, **changes)
    return ok(post(client, f"/{p['number']}/replies", {"classification": "solved_or_solving", "text": "已安排资金"},
                   "chen"), 201)["proposal"]
