"""领导包抓 leader follow-up: the ``leaders`` settings, the ``item_overdue`` hook telling the leader who follows
an overdue item's handling unit or area (called through the node's plugin manager on a real database, as
supervision calls it), ``shangliang leaders check|list`` and the page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import tomlkit
from click.testing import CliRunner
from flask import Flask
from shangliang.core.app import create_app
from shangliang.core.cli import cli
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import ConfigError
from shangliang.core.models import Notification
from shangliang.core.plugins import get_plugin_manager
from shangliang.core.topics import services as topic_services
from shangliang.core.topics.schemas import TopicIn
from shangliang.core.topics.supervision import mark_overdue
from shangliang.core.units.services import add_unit
from shangliang.core.users.services import add_user
from shangliang.plugins.province.leader_follow_up import services
from sqlalchemy import select

CITY = "6203"
LEADERS = """
[[plugins.leader_follow_up.leaders]]
name = "张主席"
user = "zhang"
areas = ["620302"]
units = []

[[plugins.leader_follow_up.leaders]]
name = "李副主席"
user = "li"
units = ["市交通运输局"]
"""


def run(node: Path, *args: str):
    return CliRunner().invoke(cli, ["--node", str(node), *args], catch_exceptions=False)


def configure(node_dir: Path, tables: str, enabled: tuple[str, ...] = ("leader_follow_up",)) -> None:
    path = node_dir / "node.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    document["plugins"]["enabled"] = list(enabled)
    path.write_text(tomlkit.dumps(document) + tables, encoding="utf-8")


@contextmanager
def node_app(node_dir: Path) -> Iterator[Flask]:
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    try:
        yield app
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def refusal(node_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        create_app(node_dir)
    return str(caught.value)


@pytest.fixture
def city(make_node):
    node_dir = make_node(node_id=CITY, name="金昌市政协")
    configure(node_dir, LEADERS)
    with node_app(node_dir) as app:
        with app.app_context(), transaction("test") as session:
            add_user(session, "zhang", "office", "secret-pass-1")
            add_user(session, "li", "office", "secret-pass-1")
            add_user(session, "jtj", "handling_unit", "secret-pass-1")
            add_unit(session, "市交通运输局", "government", contacts=["jtj"])
            add_unit(session, "市水务局", "government")
        app.node_dir = node_dir
        yield app


def overdue(app: Flask, **item) -> None:
    """Hand an overdue item to the hook as supervision does: the node's plugin manager, in the transaction."""
    full = {"kind": "implementation", "ref": "T-1", "title": "道路维修", "due_ms": 1, "unit": None, "areas": []}
    with app.app_context(), transaction("system") as session:
        get_plugin_manager(app).hook.item_overdue(session=session, item={**full, **item}, config=app.config)


def told(app: Flask) -> list[tuple[str, str]]:
    """(user name, subject) of each notice this practice stored."""
    from shangliang.core.users.models import User

    with app.app_context():
        rows = get_session().execute(select(Notification, User.username).join(
            User, User.id == Notification.recipient_user_id).where(Notification.source == services.NAME)
            .order_by(Notification.id)).all()
        return [(username, notice.subject) for notice, username in rows]


# -- the hook ---------------------------------------------------------------------------------------------


def test_an_overdue_item_of_a_followed_unit_tells_that_leaders_user(city):
    overdue(city, unit="市交通运输局", title="城区道路改造")
    assert told(city) == [("li", "领导包抓督办：成果落实逾期：城区道路改造")]


def test_an_overdue_item_in_a_followed_area_or_below_tells_that_leader(city):
    overdue(city, kind="proposal", ref="2027-1-0001", areas=["620302001"], title="乡村公路")
    overdue(city, kind="topic", areas=["620302"], title="区里的议题")
    assert told(city) == [("zhang", "领导包抓督办：提案逾期：乡村公路"), ("zhang", "领导包抓督办：议题逾期：区里的议题")]


def test_an_item_followed_both_ways_tells_each_leader_once(city):
    overdue(city, unit="市交通运输局", areas=["620302", "620302001"])
    assert sorted(user for user, _ in told(city)) == ["li", "zhang"]


def test_an_item_nobody_follows_tells_no_leader(city):
    overdue(city, unit="市水务局", areas=["620321"])
    overdue(city, unit=None, areas=[])
    assert told(city) == []


def test_a_notice_rolls_back_with_the_transaction_that_marked_the_item(city):
    with pytest.raises(RuntimeError):
        with city.app_context(), transaction("system") as session:
            get_plugin_manager(city).hook.item_overdue(session=session, config=city.config, item={
                "kind": "topic", "ref": "x", "title": "t", "due_ms": 1, "unit": "市交通运输局", "areas": []})
            raise RuntimeError("the marking failed")
    assert told(city) == []


def test_a_leader_whose_user_is_gone_is_skipped_and_the_others_still_told(make_node):
    node_dir = make_node(node_id=CITY, name="金昌市政协")
    configure(node_dir, LEADERS)
    with node_app(node_dir) as app:
        with app.app_context(), transaction("test") as session:
            add_user(session, "zhang", "office", "secret-pass-1")  # no user "li"
        overdue(app, unit="市交通运输局", areas=["620302"])
        assert [user for user, _ in told(app)] == ["zhang"]


def test_supervision_marking_a_topic_overdue_tells_the_leader_of_its_area(city):
    with city.app_context(), transaction("test") as session:
        topic, _ = topic_services.raise_topic(session, node_context(), TopicIn(
            title="两镇之间道路维修", category="交通", areas=["620302001"], raised_by_kind="public",
            raised_by_name="村民"), "test")
        topic.due_ms = 1_000
    with city.app_context(), transaction("system") as session:
        assert len(mark_overdue(session, city.config, now_ms=2_000)) == 1
    assert told(city) == [("zhang", "领导包抓督办：议题逾期：两镇之间道路维修")]
    with city.app_context(), transaction("system") as session:
        assert mark_overdue(session, city.config, now_ms=3_000) == []  # once per time it becomes overdue
    assert len(told(city)) == 1


def test_where_the_practice_is_not_enabled_no_leader_is_told(make_node):
    node_dir = make_node(node_id=CITY, name="金昌市政协")
    configure(node_dir, LEADERS, enabled=())
    with node_app(node_dir) as app:
        with app.app_context(), transaction("test") as session:
            add_user(session, "li", "office", "secret-pass-1")
        overdue(app, unit="市交通运输局")
        assert told(app) == []


# -- the settings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tables, named", [
    ('\n[plugins.leader_follow_up.leaders]\n"张主席" = ["6203"]\n', "no longer read"),
    ('\n[[plugins.leader_follow_up.leaders]]\nname = "张主席"\nuser = "zhang"\nareas = ["62030"]\n', "62030"),
    ('\n[[plugins.leader_follow_up.leaders]]\nname = "张主席"\nuser = "zhang"\nareas = ["6203"]\n', "not below"),
    ('\n[[plugins.leader_follow_up.leaders]]\nname = "张主席"\nuser = "zhang"\nareas = ["6201"]\n', "not below"),
    ('\n[[plugins.leader_follow_up.leaders]]\nname = "张主席"\nareas = ["620302"]\n', "user"),
    ('\n[[plugins.leader_follow_up.leaders]]\nname = "张主席"\nuser = "zhang"\n', "follows nothing"),
    ('\n[[plugins.leader_follow_up.leaders]]\nname = "张主席"\nuser = "zhang"\nunits = "交通局"\n', "list"),
    ('\n[[plugins.leader_follow_up.leaders]]\nname = "张主席"\nuser = "zhang"\nunits = ["局"]\nboss = 1\n',
     "unknown key 'boss'"),
    ('\n[[plugins.leader_follow_up.leaders]]\nname = ""\nuser = "zhang"\nunits = ["局"]\n', "name is empty"),
    ('\n[[plugins.leader_follow_up.leaders]]\nname = "张主席"\nuser = "zhang"\nunits = ["局"]\n'
     '\n[[plugins.leader_follow_up.leaders]]\nname = "张主席"\nuser = "li"\nunits = ["局"]\n', "named twice"),
])
def test_bad_settings_keep_the_node_from_starting_and_are_named(make_node, tables, named):
    node_dir = make_node(node_id=CITY, name="金昌市政协")
    configure(node_dir, tables)
    message = refusal(node_dir)
    assert "plugins.leader_follow_up.leaders" in message and named in message


def test_leaders_check_names_the_unknown_users_and_units(make_node):
    node_dir = make_node(node_id=CITY, name="金昌市政协")
    configure(node_dir, LEADERS + '\n[[plugins.leader_follow_up.leaders]]\nname = "王"\nuser = "zhang"\n'
                                  'units = ["市水务局", "不存在局"]\n')
    with node_app(node_dir) as app:
        with app.app_context(), transaction("test") as session:
            add_user(session, "zhang", "office", "secret-pass-1")
            add_unit(session, "市水务局", "government")
    result = run(node_dir, "leaders", "check")
    assert result.exit_code == 2
    assert "no user 'li'" in result.output and "no handling unit '市交通运输局'" in result.output
    assert "no handling unit '不存在局'" in result.output and "'市水务局'" not in result.output
    as_json = run(node_dir, "leaders", "check", "--json")
    assert as_json.exit_code == 2 and len(json.loads(as_json.output)["problems"]) == 3


def test_leaders_check_passes_and_list_shows_what_each_follows(city):
    result = run(city.node_dir, "leaders", "check")
    assert result.exit_code == 0, result.output
    assert "2 leader(s)" in result.output
    listed = json.loads(run(city.node_dir, "leaders", "list", "--json").output)
    assert listed == [
        {"leader": "张主席", "user": "zhang", "areas": [{"code": "620302", "level": "county"}], "units": []},
        {"leader": "李副主席", "user": "li", "areas": [], "units": ["市交通运输局"]},
    ]
    text = run(city.node_dir, "leaders", "list").output
    assert "张主席" in text and "620302 (county)" in text and "市交通运输局" in text


def test_the_page_lists_the_leaders_and_what_they_follow(city):
    client = city.test_client()
    assert client.get("/practices/leader-follow-up/").status_code == 302  # sign in first
    client.post("/login", data={"username": "li", "password": "secret-pass-1"})
    page = client.get("/practices/leader-follow-up/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "张主席" in text and "620302" in text and "市交通运输局" in text and "zhang" in text
