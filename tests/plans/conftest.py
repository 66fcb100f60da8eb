"""What the plans tests share: a county node with an office user and a member, service calls in one
transaction each, the rows a refusal must leave as they were, and JSON API helpers."""

from __future__ import annotations

import pytest
from shangliang.core.app import create_app
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.plans import services
from shangliang.core.plans.schemas import (
    PlanAmendmentIn,
    PlanIn,
    PlanItemIn,
    PlanStepIn,
)
from shangliang.core.topics.schemas import TopicIn
from sqlalchemy import func, select

from ..topics.conftest import PASSWORD, basic, expect_error, expect_user_added  # noqa: F401

COUNTY = "620302"
YEAR = 2027
ROAD = {"title": "城区道路改造", "description": "老城区道路破损", "category": "交通", "areas": ["620302001"],
        "raised_by_kind": "special_committee", "raised_by_name": "提案委"}
ITEM = {"form": "forum", "planned_month": 3, "lead": "提案委员会",
        "participants": {"departments": ["区交通局"], "sectors": ["经济界"], "members": ["李委员"]}}


def _county(make_node):
    from click.testing import CliRunner

    runner = CliRunner()
    node_dir = make_node(node_id=COUNTY, name="金川区政协")
    expect_user_added(runner, node_dir, "wang", "office", "王主任")
    expect_user_added(runner, node_dir, "li", "member", "李委员")
    return node_dir


@pytest.fixture
def county(make_node):
    """Set up once per test process and copied for each test (NodeFactory.snapshot)."""
    return make_node.snapshot("plans.county", _county)


@pytest.fixture
def app(county):
    app = create_app(county, test_config={"WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def run(app, func, *args, actor="test"):
    """Call a plans service in one write transaction; what it returns, as ``as_dict`` gives it."""
    with app.app_context(), transaction(actor) as session:
        found = func(session, node_context(), *args, actor)
        return found.as_dict() if hasattr(found, "as_dict") else found


def create(app, year=YEAR, title=""):
    return run(app, services.create_plan, PlanIn(year=year, title=title))


def raise_topic(app, **changes):
    from shangliang.core.topics import services as topics

    with app.app_context(), transaction("test") as session:
        topic, _ = topics.raise_topic(session, node_context(), TopicIn(**{**ROAD, **changes}), "test")
        return topic.uid


def add(app, year=YEAR, **fields):
    data = {**ITEM, **fields}
    if "topic_uid" not in data and "topic" not in data:
        data["topic"] = ROAD
    return run(app, services.add_item, year, PlanItemIn.model_validate(data))


def step(app, key, year=YEAR, **fields):
    data = {"step": key, "approver": "政协主席会议", "decision": "approved", **fields}
    return run(app, services.take_step, year, PlanStepIn.model_validate(data))


def approve_all(app, year=YEAR):
    step(app, "chair_meeting", year)
    step(app, "standing_committee", year, approver="区委常委会", reference="区委常委会纪要〔2027〕3号")


def publish(app, year=YEAR):
    with app.app_context(), transaction("test") as session:
        plan, determined = services.publish(session, node_context(), year, "test")
        return plan.as_dict(), determined


def amend(app, year=YEAR, **fields):
    return run(app, services.amend, year, PlanAmendmentIn.model_validate(fields))


def show(app, year=YEAR):
    with app.app_context():
        session = get_session()
        return services.show(session, node_context(), services.get_plan(session, year))


def counts(app) -> dict:
    """Every row a plan change could write: plans, items, steps, amendments, topics, topic events, audit rows."""
    from shangliang.core.models import AuditEvent
    from shangliang.core.plans.models import Plan, PlanAmendment, PlanItem, PlanStep
    from shangliang.core.topics.models import Topic, TopicEvent

    with app.app_context():
        session = get_session()
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Plan, PlanItem, PlanStep, PlanAmendment, Topic, TopicEvent, AuditEvent)}


def topic_stage(app, uid):
    from shangliang.core.topics.models import Topic

    with app.app_context():
        return get_session().scalar(select(Topic.stage).where(Topic.uid == uid))
