"""The ``topics`` commands on one node: what they print, their exit codes, and that a refusal stores nothing."""

import json

import pytest

from shangliang.core.app import create_app

from ..conftest import invoke

# -- raising and advancing ----------------------------------------------------------------------------------


def _add(runner, node_dir, *extra, areas=("620302001", "620302002")):
    args = ["topics", "add", "--title", "两镇之间道路维修", "--category", "交通", "--raised-by-kind", "public",
            "--raised-by-name", "村民代表", "--json", *extra]
    for area in areas:
        args += ["--area", area]
    return invoke(runner, node_dir, *args)


def test_raising_a_topic_prints_its_uid_and_the_suggestion(runner, township):
    result = _add(runner, township)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["uid"].startswith("620302001:") and data["stage"] == "collected" and data["holder"] == "620302001"
    assert data["suggestion"]["action"] == "escalate" and data["suggestion"]["to"] == "620302"
    shown = json.loads(invoke(runner, township, "topics", "show", data["uid"], "--json").output)
    assert shown["areas"] == ["620302001", "620302002"]
    assert [e["action"] for e in shown["events"]] == ["raised"]


@pytest.mark.parametrize(
    "areas, message",
    [
        (("6203021",), "7 digits"),
        (("62a",), "malformed division code"),
        (("320703",), "outside this node's province"),
    ],
)
def test_bad_areas_are_refused_and_nothing_is_stored(runner, township, areas, message):
    result = _add(runner, township, areas=areas)
    assert result.exit_code == 2 and message in result.output
    assert json.loads(invoke(runner, township, "topics", "list", "--json").output) == []


def test_stages_move_one_at_a_time_and_a_refusal_changes_nothing(runner, township):
    uid = json.loads(_add(runner, township).output)["uid"]
    skipped = invoke(runner, township, "topics", "advance", uid, "--to", "consulting")
    assert skipped.exit_code == 2 and "the next stage is determined" in skipped.output
    assert json.loads(invoke(runner, township, "topics", "show", uid, "--json").output)["stage"] == "collected"
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        assert invoke(runner, township, "topics", "advance", uid, "--to", stage).exit_code == 0
    again = invoke(runner, township, "topics", "advance", uid, "--to", "feedback")
    assert again.exit_code == 2 and "already feedback" in again.output
    closed = invoke(runner, township, "topics", "advance", uid, "--to", "closed")
    assert closed.exit_code == 2 and "closes only with its result" in closed.output
    shown = json.loads(invoke(runner, township, "topics", "show", uid, "--json").output)
    assert [e["to_stage"] for e in shown["events"]][-1] == "feedback" and len(shown["events"]) == 6
    assert shown["stage"] == "feedback" and shown["result"] is None


def test_stages_are_given_by_code_or_by_the_name_a_person_reads(runner, township):
    uid = json.loads(_add(runner, township).output)["uid"]
    assert invoke(runner, township, "topics", "advance", uid, "--to", "确定议题").exit_code == 0
    assert invoke(runner, township, "topics", "advance", uid, "--to", "Researching").exit_code == 0
    listed = json.loads(invoke(runner, township, "topics", "list", "--stage", "调查研究", "--json").output)
    assert [t["uid"] for t in listed] == [uid] and listed[0]["stage"] == "researching"
    assert json.loads(invoke(runner, township, "topics", "list", "--stage", "收集议题", "--json").output) == []
    unknown = invoke(runner, township, "topics", "advance", uid, "--to", "讨论")
    assert unknown.exit_code == 2 and "unknown stage '讨论'" in unknown.output
    assert json.loads(invoke(runner, township, "topics", "show", uid, "--json").output)["stage"] == "researching"


def test_a_topic_held_elsewhere_cannot_be_advanced_here(township, runner):
    from shangliang.core.db import transaction
    from shangliang.core.topics import services

    uid = json.loads(_add(runner, township).output)["uid"]
    app = create_app(township)
    with app.app_context():
        with transaction() as session:
            services.get_topic(session, uid).holder = "620302"
    result = invoke(runner, township, "topics", "advance", uid, "--to", "determined")
    assert result.exit_code == 2 and "held by 620302" in result.output
    app.extensions["shangliang.db"].engine.dispose()
