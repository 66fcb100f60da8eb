"""六步议事 six-step rule (Gansu ``004``, ``plugins/province/six_step``): on a real node, each stage a topic leaves
is refused without its record — the refusal names the record, nothing is stored — and allowed with it; the
settings choose the shortest description and the stages enforced; without the practice no record is asked."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from shangliang.core.activities import services as activities
from shangliang.core.activities.schemas import (ActivityCloseAction, ActivityIn, ActivityMinutesAction,
                                                ActivityResearchAction)
from shangliang.core.app import create_app
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import ConfigError, Conflict, InputError
from shangliang.core.topics import services as topics
from shangliang.core.topics.models import Topic, TopicEvent
from shangliang.core.topics.schemas import TopicIn
from shangliang.plugins.province.six_step import services as six_step

from ..conftest import invoke

JINCHUAN = "620302"  # 金川区 (Jinchang, Gansu)
REASONS = "老城区道路破损严重,雨天积水,群众出行困难,多次反映未解决"  # 30 characters
TOPIC = {"title": "城区道路改造", "description": REASONS, "category": "交通", "areas": [JINCHUAN + "001"],
         "raised_by_kind": "public", "raised_by_name": "群众代表"}
ACTIVITY = {"form": "special", "title": "城区道路改造专题协商会", "starts": "2027-06-10 09:00",
            "ends": "2027-06-10 11:30", "place": "区政协三楼会议室", "organiser": "区政协办公室"}


@contextmanager
def node_app(node_dir: Path) -> Iterator[Flask]:
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    try:
        yield app
    finally:
        app.extensions["shangliang.db"].engine.dispose()


@pytest.fixture
def six_step_node(make_node):
    return make_node(node_id=JINCHUAN, name="金川区政协", plugins=["six_step"])


@pytest.fixture
def plain_node(make_node):
    return make_node(node_id=JINCHUAN, name="金川区政协")


def raise_topic(app: Flask, **changes) -> str:
    with app.app_context(), transaction("test") as session:
        raised, _ = topics.raise_topic(session, node_context(), TopicIn(**{**TOPIC, **changes}), "test")
        return raised.uid


def advance(app: Flask, uid: str, stage: str, note: str = "") -> str:
    with app.app_context(), transaction("test") as session:
        node = node_context()
        return topics.advance(session, node, topics.get_topic(session, uid, lock=True), stage, note, "test").stage


def result(app: Flask, uid: str) -> str:
    with app.app_context(), transaction("test") as session:
        node = node_context()
        topics.record_result(session, node, topics.get_topic(session, uid, lock=True), "consultation",
                             "道路改造协商成果", "分两期改造", ["雨污分流"], ["区住建局"], "test")
        return topics.get_topic(session, uid).stage


def record(app: Flask, uid: str, what: str, note: str) -> dict[str, Any]:
    with app.app_context(), transaction("test") as session:
        return six_step.record(session, node_context(), uid, what, note, "test")


def final_report(app: Flask, uid: str) -> None:
    """The event the implementation of results writes when the office accepts the lead unit's final report."""
    with app.app_context(), transaction("test") as session:
        topic = topics.get_topic(session, uid, lock=True)
        topic.record(six_step.FINAL_REPORT, "test", node_context().id, node_context().now_ms(), "区住建局 final report")


def activity(app: Flask, uid: str) -> str:
    with app.app_context(), transaction("test") as session:
        node = node_context()
        made = activities.create(session, node, ActivityIn(**ACTIVITY, topics=[uid]), "test")
        return made.uid


def act(app: Flask, activity_uid: str, action) -> None:
    with app.app_context(), transaction("test") as session:
        activities.act(session, node_context(), activity_uid, action, "test")


def state(app: Flask, uid: str) -> tuple[str, int]:
    """The topic's stage and how many events it has: a refusal changes neither."""
    with app.app_context():
        session = get_session()
        topic = session.scalar(select(Topic).where(Topic.uid == uid))
        return topic.stage, session.scalar(select(func.count()).select_from(TopicEvent)
                                           .where(TopicEvent.topic_id == topic.id))


def assert_refused(app: Flask, uid: str, work, *words: str, error=InputError) -> str:
    before = state(app, uid)
    with pytest.raises(error) as caught:
        work()
    message = str(caught.value)
    for word in words:
        assert word in message, message
    assert state(app, uid) == before
    return message


def to_stage(app: Flask, uid: str, stage: str) -> None:
    """Take a topic to ``stage`` with every record the rule asks for on the way."""
    steps = {"determined": lambda: advance(app, uid, "determined", "区政协主席会议 2027-03-02 决定"),
             "researching": lambda: (advance(app, uid, "researching"),
                                     record(app, uid, "research", "社法委 2027-04-01 赴城关镇调研")),
             "consulting": lambda: (advance(app, uid, "consulting"),
                                    record(app, uid, "minutes", "2027-06-10 专题协商会纪要")),
             "implementing": lambda: (advance(app, uid, "implementing"), final_report(app, uid)),
             "feedback": lambda: (advance(app, uid, "feedback"), record(app, uid, "feedback", "电话告知群众代表"))}
    for stage_ in six_step.STEPS[1:six_step.STEPS.index(stage) + 1]:
        steps[stage_]()


# ---------------------------------------------------------------------------
# Each stage: refused without its record, by name, nothing stored; allowed with it
# ---------------------------------------------------------------------------


def test_collected_is_left_only_with_reasons_of_min_description_characters(six_step_node):
    with node_app(six_step_node) as app:
        short = raise_topic(app, description="路坏了")
        assert_refused(app, short, lambda: advance(app, short, "determined", "主席会议决定"),
                       "six-step rule (六步议事)", "leaves collected (收集议题)", "its source and the reasons",
                       "3 characters, fewer than the 20", "plugins.six_step.min_description")
        assert state(app, short)[0] == "collected"
        long_enough = raise_topic(app)
        assert advance(app, long_enough, "determined", "主席会议决定") == "determined"


def test_the_shortest_description_is_a_setting(make_node):
    node_dir = make_node(node_id=JINCHUAN, name="金川区政协", plugins=["six_step"],
                         extra_toml="\n[plugins.six_step]\nmin_description = 2\n")
    with node_app(node_dir) as app:
        uid = raise_topic(app, description="路坏了")
        assert advance(app, uid, "determined", "主席会议决定") == "determined"


def test_determined_is_left_only_with_who_decided(six_step_node):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        advance(app, uid, "determined")  # no note: who decided is not said
        assert_refused(app, uid, lambda: advance(app, uid, "researching"), "leaves determined (确定议题)",
                       "who decided it and when is not recorded", f"six-step record {uid} decision")
        made = record(app, uid, "decision", "区政协主席会议 2027-03-02 决定")
        assert made["action"] == "decided" and made["stage"] == "determined"
        assert advance(app, uid, "researching") == "researching"


def test_a_note_naming_who_decided_on_the_move_to_determined_is_the_decision(six_step_node):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        advance(app, uid, "determined", "区政协主席会议 2027-03-02 决定")
        assert advance(app, uid, "researching") == "researching"


def test_researching_is_left_only_with_a_research_record(six_step_node):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        to_stage(app, uid, "determined")
        advance(app, uid, "researching")
        assert_refused(app, uid, lambda: advance(app, uid, "consulting"), "leaves researching (议前调研)",
                       "only with a research record", "no research record")
        record(app, uid, "research", "社法委 2027-04-01 赴城关镇调研")
        assert advance(app, uid, "consulting") == "consulting"


def test_research_recorded_on_an_activity_of_the_topic_and_its_closing_carry_the_topic_to_consulting(six_step_node):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        to_stage(app, uid, "determined")
        held = activity(app, uid)
        act(app, held, ActivityResearchAction(action="research", who="社法委", place="城关镇", date="2027-04-01",
                                              findings="路面破损"))
        assert state(app, uid)[0] == "researching"
        assert_refused(app, uid, lambda: advance(app, uid, "implementing"), "moves one stage at a time")
        act(app, held, ActivityMinutesAction(action="minutes", text="会议纪要", approved_by="区政协主席"))
        act(app, held, ActivityCloseAction(action="close"))  # researching → consulting: the research counts
        assert state(app, uid)[0] == "consulting"
        assert advance(app, uid, "implementing") == "implementing"  # the closed activity is the consultation


def test_an_activity_closing_without_research_is_refused_by_the_rule(six_step_node):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        to_stage(app, uid, "determined")
        held = activity(app, uid)
        act(app, held, ActivityMinutesAction(action="minutes", text="会议纪要", approved_by="区政协主席"))
        assert_refused(app, uid, lambda: act(app, held, ActivityCloseAction(action="close")),
                       "leaves researching (议前调研)", "no research record")


def test_consulting_is_left_only_with_an_activity_or_minutes(six_step_node):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        to_stage(app, uid, "researching")
        advance(app, uid, "consulting")
        assert_refused(app, uid, lambda: advance(app, uid, "implementing"), "leaves consulting (协商议事)",
                       "only with a consultation activity or its minutes", "no consultation activity or minutes")
        activity(app, uid)  # planned, neither held nor minuted: not yet the consultation
        assert_refused(app, uid, lambda: advance(app, uid, "implementing"), "no consultation activity or minutes")
        record(app, uid, "minutes", "2027-06-10 专题协商会纪要")
        assert advance(app, uid, "implementing") == "implementing"


def test_implementing_is_left_only_with_the_lead_units_final_report(six_step_node):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        to_stage(app, uid, "consulting")
        advance(app, uid, "implementing")
        assert_refused(app, uid, lambda: advance(app, uid, "feedback"), "leaves implementing (办理实施)",
                       "the lead unit's final report is not accepted yet", "final_report_accepted")
        final_report(app, uid)
        assert advance(app, uid, "feedback") == "feedback"


def test_feedback_is_left_only_with_the_feedback_to_whoever_raised_it(six_step_node):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        to_stage(app, uid, "implementing")
        advance(app, uid, "feedback")
        assert_refused(app, uid, lambda: result(app, uid), "leaves feedback (结果反馈)",
                       "no feedback to 群众代表 is recorded")
        record(app, uid, "feedback", "2027-09-01 电话告知群众代表")
        assert result(app, uid) == "closed"


def test_the_enforced_stages_are_a_setting(make_node):
    node_dir = make_node(node_id=JINCHUAN, name="金川区政协", plugins=["six_step"],
                         extra_toml='\n[plugins.six_step]\nenforced = ["implementing"]\n')
    with node_app(node_dir) as app:
        uid = raise_topic(app, description="路坏了")
        for stage in ("determined", "researching", "consulting", "implementing"):
            advance(app, uid, stage)
        assert_refused(app, uid, lambda: advance(app, uid, "feedback"), "final_report_accepted")


def test_without_the_practice_no_record_is_asked_for(plain_node):
    with node_app(plain_node) as app:
        uid = raise_topic(app, description="路坏了")
        for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
            assert advance(app, uid, stage) == stage
        assert result(app, uid) == "closed"


# ---------------------------------------------------------------------------
# Settings, records, the check
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("toml, words", [
    ("min_description = -1", "plugins.six_step.min_description"),
    ('min_description = "20"', "plugins.six_step.min_description"),
    ('enforced = ["collected", "closing"]', "plugins.six_step.enforced"),
    ('enforced = "collected"', "plugins.six_step.enforced"),
])
def test_a_bad_setting_stops_the_node_naming_it(make_node, toml, words):
    node_dir = make_node(node_id=JINCHUAN, name="金川区政协", plugins=["six_step"])
    with open(node_dir / "node.toml", "a", encoding="utf-8") as f:
        f.write(f"\n[plugins.six_step]\n{toml}\n")
    with pytest.raises(ConfigError) as caught:
        create_app(node_dir)
    assert words in str(caught.value)


def test_a_record_needs_a_note_and_its_stage_and_nothing_is_stored_otherwise(six_step_node):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        assert_refused(app, uid, lambda: record(app, uid, "decision", "  "), "needs a note")
        assert_refused(app, uid, lambda: record(app, uid, "feedback", "电话告知"),
                       "is collected: a feedback record belongs to the feedback stage", error=Conflict)
        assert_refused(app, uid, lambda: record(app, uid, "rumour", "x"), "unknown record 'rumour'")


def test_check_lists_what_each_stage_still_lacks(six_step_node, runner):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        to_stage(app, uid, "researching")
    shown = invoke(runner, six_step_node, "six-step", "check", uid, "--json")
    assert shown.exit_code == 0, shown.output
    rows = {row["stage"]: row for row in json.loads(shown.output)["stages"]}
    assert [rows[s]["done"] for s in six_step.STEPS] == [True, True, True, False, False, False]
    assert rows["implementing"]["lacks"] == [("the lead unit's final report is not accepted yet "
                                             "(no final_report_accepted event)")]
    text = invoke(runner, six_step_node, "six-step", "check", uid)
    assert "议前调研" in text.output and "no consultation activity or minutes" in text.output


def test_the_record_command_records_the_stages_record(six_step_node, runner):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        to_stage(app, uid, "determined")
        advance(app, uid, "researching")
    made = invoke(runner, six_step_node, "six-step", "record", uid, "research", "--note", "社法委 赴城关镇调研", "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["action"] == "research_noted"
    with node_app(six_step_node) as app:
        assert advance(app, uid, "consulting") == "consulting"


# ---------------------------------------------------------------------------
# The person who asks sees the sentence: the JSON API and the command line
# ---------------------------------------------------------------------------


def test_the_api_refuses_a_step_naming_the_record_and_stores_nothing(six_step_node, runner):
    added = invoke(runner, six_step_node, "users", "add", "wang", "--role", "office", "--name", "王主任",
                   "--password-stdin", input="correct-horse\n")
    assert added.exit_code == 0, added.output
    token = base64.b64encode(b"wang:correct-horse").decode()
    with node_app(six_step_node) as app:
        client = app.test_client()
        made = client.post("/api/v1/topics", json={**TOPIC, "description": "路坏了"},
                           headers={"Authorization": f"Basic {token}"})
        assert made.status_code == 201, made.get_data(as_text=True)
        uid = made.get_json()["topic"]["uid"]
        before = state(app, uid)
        refused = client.post(f"/api/v1/topics/{uid}/actions", json={"action": "advance", "to_stage": "determined"},
                              headers={"Authorization": f"Basic {token}"})
        assert refused.status_code == 400, refused.get_data(as_text=True)
        error = refused.get_json()["error"]
        assert error["code"] == "invalid_input"
        assert "a topic leaves collected (收集议题) only with its source and the reasons for it" in error["message"]
        assert state(app, uid) == before


def test_the_command_line_refuses_a_step_naming_the_record(six_step_node, runner):
    with node_app(six_step_node) as app:
        uid = raise_topic(app)
        advance(app, uid, "determined")
    refused = invoke(runner, six_step_node, "topics", "advance", uid, "--to", "researching")
    assert refused.exit_code == 2 and "who decided it and when is not recorded" in refused.output
    unknown = invoke(runner, six_step_node, "six-step", "check", "620302:999")
    assert unknown.exit_code == 2 and "no topic '620302:999'" in unknown.output
