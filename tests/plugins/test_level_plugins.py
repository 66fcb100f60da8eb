"""The four level plugins: 领导包抓, 协商民主之家, 季协商座谈会, 委员工作站 — settings, commands, tasks, pages."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import tomlkit
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from shangliang.core.app import create_app
from shangliang.core.cli import cli
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import ConfigError
from shangliang.core.members.models import Member
from shangliang.core.models import Notification
from shangliang.plugins.county.quarterly_forum import services as forum_services
from shangliang.plugins.county.quarterly_forum import tasks as forum_tasks
from shangliang.plugins.township.consultation_home import tasks as home_tasks

HOMES = """
[[plugins.consultation_home.homes]]
name = "海州区协商民主之家"
lead = "王芳"
members = ["王芳", "李强", "张伟"]

[[plugins.consultation_home.homes]]
name = "连云区协商民主之家"
lead = "陈静"
members = ["陈静", "刘洋", "杨磊", "赵敏"]
"""

STATION = """
[plugins.work_station]
head = "刘书记"
head_is_member = {head_is_member}
deputies = {deputies}
"""


# ---------------------------------------------------------------------------
# Helpers: nodes come from conftest's make_node; commands run in this process
# ---------------------------------------------------------------------------


def run(node: Path | None, *args: str):
    argv = (["--node", str(node)] if node is not None else []) + list(args)
    return CliRunner().invoke(cli, argv, catch_exceptions=False)


def configure(node_dir: Path, enabled: list[str], tables: str) -> None:
    """Enable ``enabled`` and append plugin tables to node.toml in one edit, as an operator would."""
    path = node_dir / "node.toml"
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    document["plugins"]["enabled"] = enabled
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


def notifications(app: Flask) -> list[Notification]:
    with app.app_context():
        return list(get_session().execute(select(Notification).order_by(Notification.id)).scalars())


# ---------------------------------------------------------------------------
# All four: installed, each at its level, with its hooks
# ---------------------------------------------------------------------------


def test_plugins_list_shows_each_level_plugin_with_its_level_and_hooks(make_node):
    node_dir = make_node(node_id="620302", name="测试政协", plugins=["quarterly_forum"])
    result = run(node_dir, "plugins", "list", "--json")
    assert result.exit_code == 0, result.output
    infos = {info["name"]: info for info in json.loads(result.output)}
    expected = {
        "leader_follow_up": ("province", ["item_overdue", "node_configured", "register_blueprints",
                                          "register_commands"]),
        "consultation_home": ("township", ["activity_guard", "beat_schedule", "consultation_forms", "node_configured",
                                           "register_blueprints"]),
        "quarterly_forum": ("county", ["activity_guard", "beat_schedule", "node_configured", "plan_checks"]),
        "work_station": ("township", ["node_configured", "register_blueprints", "register_commands"]),
    }
    for name, (level, hooks) in expected.items():
        info = infos[name]
        assert info["error"] is None, info["error"]
        assert (info["kind"], info["level"], info["hooks"]) == ("installed", level, hooks)
        assert info["summary"], f"{name} has no one-line docstring"
        assert info["enabled"] == (name == "quarterly_forum")


# ---------------------------------------------------------------------------
# 领导包抓 leader follow-up (province)
# ---------------------------------------------------------------------------


# The settings, the item_overdue hook, `leaders check|list` and the page: tests/plugins/test_leader_follow_up.py


def test_leaders_list_is_not_offered_where_the_plugin_is_not_enabled(make_node):
    node_dir = make_node(node_id="62", name="测试政协")
    result = run(node_dir, "leaders", "list")
    assert result.exit_code == 2
    assert "No such command 'leaders'" in result.output


# ---------------------------------------------------------------------------
# 协商民主之家 consultation homes (township)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("home, named", [
    ('name = "海州区协商民主之家"\nlead = "王芳"\nmembers = ["王芳", "李强"]', "has 2 member(s)"),
    ('name = "海州区协商民主之家"\nlead = "王芳"\nmembers = ["王芳", "李强", "李强"]', "has 2 member(s)"),
    ('name = "海州区协商民主之家"\nlead = "周涛"\nmembers = ["王芳", "李强", "张伟"]', "'周涛' is not one of its members"),
    ('name = "海州区协商民主之家"\nmembers = ["王芳", "李强", "张伟"]', "has no lead"),
])
def test_consultation_home_refuses_fewer_than_three_members_or_a_lead_outside_them(make_node, home, named):
    node_dir = make_node(node_id="3207", name="测试政协")
    configure(node_dir, ["consultation_home"], f"\n[[plugins.consultation_home.homes]]\n{home}\n")
    message = refusal(node_dir)
    assert "plugins.consultation_home.homes[0]" in message
    assert "海州区协商民主之家" in message and named in message


def test_consultation_home_reminder_is_scheduled_on_the_first_day_of_each_quarter(make_node):
    node_dir = make_node(node_id="3207", name="测试政协")
    configure(node_dir, ["consultation_home"], HOMES)
    with node_app(node_dir) as app:
        celery_app = app.extensions["celery"]
        entry = celery_app.conf.beat_schedule["consultation_home.quarterly_reminder"]
        assert entry["task"] == home_tasks.TASK == "shangliang.plugins.consultation_home.quarterly_reminder"
        schedule = entry["schedule"]
        assert (schedule.month_of_year, schedule.day_of_month, schedule.hour, schedule.minute) == (
            {1, 4, 7, 10}, {1}, {9}, {0})
        assert home_tasks.TASK in celery_app.tasks


def test_consultation_home_reminder_tells_the_office_which_homes_must_consult_this_quarter(make_node):
    node_dir = make_node(node_id="3207", name="测试政协")
    configure(node_dir, ["consultation_home"], HOMES)
    with node_app(node_dir) as app:
        with app.app_context():
            notification_id = home_tasks.quarterly_reminder.run(today="2025-04-01")
        rows = notifications(app)
    assert [row.id for row in rows] == [notification_id]
    row = rows[0]
    assert (row.recipient_role, row.source) == ("office", "consultation_home")
    assert "Q2 2025" in row.subject
    assert "海州区协商民主之家 (lead: 王芳; 3 members)" in row.body
    assert "连云区协商民主之家 (lead: 陈静; 4 members)" in row.body


def test_consultation_home_reminder_stores_nothing_when_no_home_is_configured(make_node):
    node_dir = make_node(node_id="3207", name="测试政协", plugins=["consultation_home"])
    with node_app(node_dir) as app:
        with app.app_context():
            assert home_tasks.quarterly_reminder.run(today="2025-04-01") is None
        assert notifications(app) == []


def test_consultation_homes_page_lists_each_home_its_lead_and_members(make_node):
    node_dir = make_node(node_id="3207", name="测试政协")
    configure(node_dir, ["consultation_home"], HOMES)
    with node_app(node_dir) as app:
        response = app.test_client().get("/practices/consultation-homes/?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Consultation homes" in page and "Lead" in page
    for name in ("海州区协商民主之家", "连云区协商民主之家", "王芳", "李强", "张伟", "陈静", "赵敏"):
        assert name in page


# ---------------------------------------------------------------------------
# 季协商座谈会 quarterly forum (county)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-5", '"20"', "2.5", "true"])
def test_quarterly_forum_refuses_a_lead_time_that_is_not_a_positive_whole_number(make_node, value):
    node_dir = make_node(node_id="150523", name="测试政协")
    configure(node_dir, ["quarterly_forum"], f"\n[plugins.quarterly_forum]\nresearch_lead_days = {value}\n")
    message = refusal(node_dir)
    assert "plugins.quarterly_forum.research_lead_days" in message
    assert "positive whole number" in message


def test_quarterly_forum_reminder_asks_for_a_topic_and_research_in_time(make_node):
    node_dir = make_node(node_id="150523", name="测试政协")
    configure(node_dir, ["quarterly_forum"], "\n[plugins.quarterly_forum]\nresearch_lead_days = 30\n")
    with node_app(node_dir) as app:
        entry = app.extensions["celery"].conf.beat_schedule["quarterly_forum.remind"]
        assert entry["task"] == "shangliang.plugins.quarterly_forum.remind"
        assert entry["schedule"].month_of_year == {1, 4, 7, 10}
        with app.app_context():
            forum_tasks.remind.run(today="2025-07-01")
        (row,) = notifications(app)
    assert (row.recipient_role, row.source) == ("office", "quarterly_forum")
    assert "Q3 2025" in row.subject
    assert "annual consultation plan" in row.body and "special committee" in row.body
    assert "at least 30 days before the forum" in row.body
    assert "(2025-09-30) it must start by 2025-08-31" in row.body


def test_quarterly_forum_reminder_late_in_the_quarter_says_to_start_research_now():
    _subject, body = forum_services.reminder_text(dt.date(2025, 12, 20), 20)
    assert "start it now" in body


# ---------------------------------------------------------------------------
# 委员工作站 member work station (township)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("deputies, count", [("[]", "not 0"), ('["J1", "J2", "J3"]', "not 3")])
def test_work_station_refuses_fewer_than_one_or_more_than_two_deputies(make_node, deputies, count):
    node_dir = make_node(node_id="620302001", name="测试政协")
    configure(node_dir, ["work_station"], STATION.format(head_is_member="false", deputies=deputies))
    message = refusal(node_dir)
    assert "plugins.work_station.deputies" in message and count in message


def test_enabling_the_work_station_before_naming_its_deputies_is_refused(tmp_path):
    result = run(None, "init", str(tmp_path / "n"), "--id", "620302001", "--name", "x",
                 "--url", "http://127.0.0.1:5999", "--plugin", "work_station")
    assert result.exit_code == 2
    assert "plugins.work_station.deputies" in result.output
    assert not (tmp_path / "n").exists()


def test_station_check_reports_missing_deputies_and_the_head_to_co_opt(make_node):
    node_dir = make_node(node_id="620302001", name="测试政协")
    path = node_dir / "node.toml"
    path.write_text(path.read_text(encoding="utf-8")
                    + STATION.format(head_is_member="false", deputies='["J001", "J002"]'), encoding="utf-8")
    assert run(node_dir, "plugins", "enable", "work_station").exit_code == 0
    added = run(node_dir, "members", "add", "--name", "陈委员", "--sector", "农业界", "--member-no", "J001")
    assert added.exit_code == 0, added.output

    result = run(node_dir, "station", "check")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "deputy J001: 陈委员" in lines
    assert "deputy J002: no member with this number" in lines
    assert "the station head must be co-opted (增补)" in lines

    report = json.loads(run(node_dir, "station", "check", "--json").output)
    assert [(d["member_no"], d["found"]) for d in report["deputies"]] == [("J001", True), ("J002", False)]
    assert report["ok"] is False


def test_station_check_passes_when_both_deputies_are_members_and_the_head_is_one(make_node):
    node_dir = make_node(node_id="620302001", name="测试政协")
    configure(node_dir, ["work_station"], STATION.format(head_is_member="true", deputies='["J001", "J002"]'))
    for name, number in (("陈委员", "J001"), ("周委员", "J002")):
        assert run(node_dir, "members", "add", "--name", name, "--sector", "农业界", "--member-no", number).exit_code == 0

    result = run(node_dir, "station", "check")
    assert result.exit_code == 0, result.output
    assert "deputy J002: 周委员" in result.output
    assert "co-opted" not in result.output
    assert result.output.splitlines()[-1] == "station complete"


def test_station_check_counts_an_inactive_deputy_as_missing(make_node):
    node_dir = make_node(node_id="620302001", name="测试政协")
    configure(node_dir, ["work_station"], STATION.format(head_is_member="true", deputies='["J001"]'))
    assert run(node_dir, "members", "add", "--name", "陈委员", "--sector", "农业界", "--member-no", "J001").exit_code == 0
    with node_app(node_dir) as app, app.app_context():
        with transaction() as session:
            session.execute(select(Member).where(Member.member_no == "J001")).scalar_one().active = False

    result = run(node_dir, "station", "check")
    assert result.exit_code == 1
    assert "deputy J001 (陈委员): no longer an active member" in result.output


def test_work_station_page_shows_the_head_and_the_deputies_by_name(make_node):
    node_dir = make_node(node_id="620302001", name="测试政协")
    configure(node_dir, ["work_station"], STATION.format(head_is_member="false", deputies='["J001", "J002"]'))
    assert run(node_dir, "members", "add", "--name", "陈委员", "--sector", "农业界", "--member-no", "J001").exit_code == 0
    with node_app(node_dir) as app:
        response = app.test_client().get("/practices/work-station/?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Member work station" in page
    assert "刘书记" in page and "to be co-opted as a member" in page
    assert "陈委员" in page and "member J002 not found" in page


def test_work_station_page_gives_the_same_check_as_the_command(make_node):
    """委员工作站's check is also a page: /practices/work-station/ lists what ``station check`` names, or says the
    station is complete."""
    node_dir = make_node(node_id="620302001", name="测试政协")
    configure(node_dir, ["work_station"], STATION.format(head_is_member="true", deputies='["J001", "J002"]'))
    for name, number in (("陈委员", "J001"), ("周委员", "J002")):
        assert run(node_dir, "members", "add", "--name", name, "--sector", "农业界", "--member-no", number).exit_code == 0
    with node_app(node_dir) as app:
        page = app.test_client().get("/practices/work-station/?lang=en").get_data(as_text=True)
        assert "Station complete" in page
        with app.app_context(), transaction() as session:
            session.execute(select(Member).where(Member.member_no == "J002")).scalar_one().active = False
        page = app.test_client().get("/practices/work-station/?lang=en").get_data(as_text=True)
    command = run(node_dir, "station", "check")
    assert command.exit_code == 1
    problems = [line for line in command.output.splitlines() if "no longer an active member" in line]
    assert problems == ["deputy J002 (周委员): no longer an active member"]
    assert f"<li class=\"error\">{problems[0]}</li>" in page and "Station complete" not in page
