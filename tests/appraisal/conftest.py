"""What the appraisal tests share: a county node with an office user, members J001-J004 (member user li is
J001), handling units 交通局 (contact chen) and 住建局 (contact zhou), a public user; last year's published
consultation plan with topics that reached a result (made through the plans services and the topics API); service
calls in one transaction each; the rows a refusal must leave as they were."""

from __future__ import annotations

import pytest
from shangliang.core.app import create_app
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from sqlalchemy import func, select

from ..conftest import invoke
from ..proposals.conftest import PASSWORD, basic, expect_error, ok  # noqa: F401

COUNTY = "620302"
YEAR = 2027
LAST = YEAR - 1
ROAD = {"title": "城区道路改造", "description": "老城区道路破损", "category": "交通", "areas": ["620302001"],
        "raised_by_kind": "special_committee", "raised_by_name": "提案委"}
ITEM = {"form": "forum", "planned_month": 3, "lead": "提案委员会", "participants": {"departments": ["区交通局"]}}
MEMBERS = (("李强", "J001"), ("王芳", "J002"), ("张伟", "J003"), ("赵敏", "J004"))


def make_county(make_node, runner, plugins=(), extra_toml=""):
    node_dir = make_node(node_id=COUNTY, name="金川区政协", plugins=list(plugins), extra_toml=extra_toml)
    for name, number in MEMBERS:
        result = invoke(runner, node_dir, "members", "add", "--name", name, "--sector", "农业界", "--member-no", number)
        assert result.exit_code == 0, result.output
    for user, role, display, member in (("wang", "office", "王主任", None), ("li", "member", "李强", "J001"),
                                        ("chen", "handling_unit", "陈科长", None),
                                        ("zhou", "handling_unit", "周科长", None),
                                        ("loner", "handling_unit", "无单位", None),
                                        ("zhang", "public", "张群众", None), ("admin", "admin", "管理员", None)):
        args = ["users", "add", user, "--role", role, "--name", display, "--password-stdin"]
        if member:
            args += ["--member", member]
        result = invoke(runner, node_dir, *args, input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    from shangliang.core.units import services as units

    with app.app_context(), transaction("setup") as session:
        units.add_unit(session, "交通局", "government", contacts=["chen"])
        units.add_unit(session, "住建局", "government", contacts=["zhou"])
    return node_dir, app


def _plain_county(make_node):
    from click.testing import CliRunner

    node_dir, app = make_county(make_node, CliRunner())
    app.extensions["shangliang.db"].engine.dispose()
    return node_dir


@pytest.fixture
def county(make_node):
    """:func:`make_county` without plugins, set up once per test process and copied for each test
    (NodeFactory.snapshot)."""
    return make_node.snapshot("appraisal.county", _plain_county)


@pytest.fixture
def app(county):
    app = create_app(county, test_config={"WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def key_topics(app, topics=(("城区道路改造", "交通局"), ("老旧小区改造", "住建局")), year=LAST,
               unplanned=("背街小巷照明",)) -> list[str]:
    """Last year's published plan with ``topics`` (title, handling unit), each taken to a result naming its unit;
    and topics outside the plan that reached a result too (not key). The planned topics' uids."""
    from shangliang.core.plans import services as plans
    from shangliang.core.plans.schemas import PlanIn, PlanItemIn, PlanStepIn

    node = None
    with app.app_context(), transaction("test") as session:
        node = node_context()
        plans.create_plan(session, node, PlanIn(year=year, title=f"{year}年度协商计划"), "test")
        for title, _unit in topics:
            plans.add_item(session, node, year, PlanItemIn.model_validate({**ITEM, "topic": {**ROAD, "title": title}}),
                           "test")
    with app.app_context(), transaction("test") as session:
        for key, approver in (("chair_meeting", "政协主席会议"), ("standing_committee", "区委常委会")):
            plans.take_step(session, node_context(), year, PlanStepIn.model_validate(
                {"step": key, "approver": approver, "decision": "approved", "reference": "纪要1号"}), "test")
    with app.app_context(), transaction("test") as session:
        plans.publish(session, node_context(), year, "test")
    with app.app_context():
        plan = plans.get_plan(get_session(), year)
        uids = [item.topic_uid for item in plan.items]
    client = app.test_client()
    for title in unplanned:
        response = client.post("/api/v1/topics", json={**ROAD, "title": title}, headers=basic("wang"))
        uids_extra = ok(response, 201)["topic"]["uid"]
        to_result(client, uids_extra, "交通局", first="determined")
    for uid, (_title, unit) in zip(uids, topics):
        to_result(client, uid, unit)
    return uids


def to_result(client, uid, unit, first="researching"):
    stages = ("determined", "researching", "consulting", "implementing", "feedback")
    for stage in stages[stages.index(first):]:
        ok(client.post(f"/api/v1/topics/{uid}/actions", json={"action": "advance", "to_stage": stage},
                       headers=basic("wang")))
    ok(client.post(f"/api/v1/topics/{uid}/actions", json={
        "action": "result", "kind": "协商意见", "title": "纳入年度计划", "summary": "部门落实", "measures": ["年内完成"],
        "handling_units": [unit]}, headers=basic("wang")))


def run(app, func, *args, actor="test"):
    """Call an appraisal service in one write transaction (node context and actor added); the result's id."""
    with app.app_context(), transaction(actor) as session:
        found = func(session, node_context(), *args, actor)
        return getattr(found, "id", found)


def show(app, appraisal_id) -> dict:
    from shangliang.core.appraisal import services

    with app.app_context():
        return services.detail(services.get_appraisal(get_session(), appraisal_id))


def rows(app) -> dict:
    """Every appraisal row count, the audit rows and notifications."""
    from shangliang.core.appraisal import models as m
    from shangliang.core.models import AuditEvent
    from shangliang.core.notifications import Notification

    with app.app_context():
        session = get_session()
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (m.Appraisal, m.AppraisalSubject, m.AppraisalGroup, m.AppraisalGroupMember,
                              m.AppraisalVisit, m.AppraisalRating, m.AppraisalRectification,
                              m.AppraisalRectificationReport, AuditEvent, Notification)}
