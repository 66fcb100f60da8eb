"""The four plan practices — 年度协商计划 approval (Kailu), 选题-商题-定题 (Putian), 1246+X (Huzhou), 三个一起
(Ma'anshan): enabled on a node, each refuses what its rule forbids with a named error and stores nothing, accepts
the conforming path; disabled, the core's default accepts what the practice refused. Settings that do not fit
are refused at start-up, naming the setting; the pages render; the 三个一起 report counts real rows."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import tomlkit
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from shangliang.core.activities import services as activities
from shangliang.core.activities.models import Activity
from shangliang.core.activities.schemas import (
    ActivityAttendAction,
    ActivityCloseAction,
    ActivityIn,
    ActivityInviteAction,
    ActivityMinutesAction,
)
from shangliang.core.app import create_app
from shangliang.core.cli import cli
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import ConfigError, Conflict, InputError
from shangliang.core.plans import services as plans
from shangliang.core.topics import services as topics
from shangliang.core.topics.schemas import TopicIn
from shangliang.plugins.city.three_together import services as together_services
from shangliang.plugins.county.plan_approval import services as approval_services

from ..plans.conftest import ITEM, ROAD, add, amend, counts, create, publish, show, step
from ..topics.conftest import PASSWORD, basic, expect_error, expect_user_added

YEAR = 2027
DECISION = {"approver": "县委常委会", "reference": "县委办发〔2027〕3号"}


# ---------------------------------------------------------------------------
# Helpers: a county node made with the real CLI, its plugins set in node.toml as an operator would
# ---------------------------------------------------------------------------


def run(node: Path, *args: str):
    return CliRunner().invoke(cli, ["--node", str(node), *args], catch_exceptions=False)


def configure(node_dir: Path, enabled: list[str], tables: str = "") -> None:
    """Set ``[plugins] enabled`` and append plugin tables to node.toml (replacing tables appended before)."""
    path = node_dir / "node.toml"
    text = path.read_text(encoding="utf-8").split("\n# practice tables\n")[0]
    document = tomlkit.parse(text)
    document["plugins"]["enabled"] = enabled
    path.write_text(tomlkit.dumps(document) + "\n# practice tables\n" + tables, encoding="utf-8")


@pytest.fixture
def county(make_node, runner) -> Path:
    node_dir = make_node(node_id="620302", name="测试政协")
    expect_user_added(runner, node_dir, "wang", "office", "王主任")
    return node_dir


@contextmanager
def node_app(node_dir: Path, enabled: list[str], tables: str = "") -> Iterator[Flask]:
    configure(node_dir, enabled, tables)
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    try:
        yield app
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def refusal(node_dir: Path, enabled: list[str], tables: str = "") -> str:
    configure(node_dir, enabled, tables)
    with pytest.raises(ConfigError) as caught:
        create_app(node_dir)
    return str(caught.value)


def status(app: Flask, year: int = YEAR) -> str:
    return show(app, year)["status"]


def signed_in(app: Flask):
    client = app.test_client()
    response = client.post("/login", data={"username": "wang", "password": PASSWORD})
    assert response.status_code == 302
    return client


def new_topic(app: Flask, title: str, stage: str = "determined") -> str:
    """A topic raised and accepted here, moved stage by stage to ``stage``."""
    from shangliang.core.topics.models import STAGES

    with app.app_context(), transaction("test") as session:
        topic, _route = topics.raise_topic(session, node_context(), TopicIn(**{**ROAD, "title": title}), "test")
        for to in STAGES[1:STAGES.index(stage) + 1]:
            topics.advance(session, node_context(), topic, to, "test", "test")
        return topic.uid


def move_topic(app: Flask, uid: str, stage: str) -> None:
    from shangliang.core.topics.models import STAGES

    with app.app_context(), transaction("test") as session:
        topic = topics.get_topic(session, uid, lock=True)
        for to in STAGES[STAGES.index(topic.stage) + 1:STAGES.index(stage) + 1]:
            topics.advance(session, node_context(), topic, to, "test", "test")


def activity_on(app: Flask, uid: str, title: str = "季度协商座谈会") -> str:
    with app.app_context(), transaction("test") as session:
        created = activities.create(session, node_context(), ActivityIn(
            form="forum", title=title, topics=[uid], starts="2026-06-10 09:00", ends="2026-06-10 11:00",
            place="会议室", organiser="提案委员会"), "test")
        return created.uid


def act(app: Flask, uid: str, action) -> dict:
    with app.app_context(), transaction("test") as session:
        return activities.act(session, node_context(), uid, action, "test").activity.as_dict()


def invite(app: Flask, uid: str, *departments: str) -> None:
    for name in departments:
        act(app, uid, ActivityInviteAction(action="invite", kind="department", name=name))


def attend(app: Flask, uid: str, *present: str) -> dict:
    return act(app, uid, ActivityAttendAction(action="attend", present=list(present)))


def minutes(app: Flask, uid: str) -> None:
    act(app, uid, ActivityMinutesAction(action="minutes", text="会议纪要", approved_by="主席会议"))


def close(app: Flask, uid: str) -> dict:
    return act(app, uid, ActivityCloseAction(action="close"))


def activity_rows(app: Flask, uid: str) -> tuple:
    with app.app_context():
        activity = get_session().execute(select(Activity).where(Activity.uid == uid)).scalar_one()
        return activity.status, [(i.name, i.attended) for i in activity.invitations]


# ---------------------------------------------------------------------------
# plan_approval — 年度协商计划 approval (Kailu, seed 001 8-9)
# ---------------------------------------------------------------------------


def test_plan_approval_requires_the_standing_committee_and_its_decision_document(county):
    with node_app(county, ["plan_approval"]) as app:
        create(app)
        add(app)
        shown = show(app)["approval"]["steps"]
        assert [(s["key"], s["body"], s["reference_required"]) for s in shown] == [
            ("chair_meeting", "政协主席会议", False), ("standing_committee", "党委常委会", True)]
        step(app, "chair_meeting")
        before = counts(app)
        with pytest.raises(InputError, match="cites its document or minute: the reference is empty"):
            step(app, "standing_committee", approver="县委常委会")
        with pytest.raises(InputError, match="approver '政协主席会议' does not name it .it must contain '常委会'"):
            step(app, "standing_committee", approver="政协主席会议", reference="县委办发〔2027〕3号")
        with pytest.raises(InputError, match="approver is empty"):
            step(app, "standing_committee", approver="  ", reference="县委办发〔2027〕3号")
        assert counts(app) == before and status(app) == "in_approval"
        step(app, "standing_committee", **DECISION)
        plan, _determined = publish(app)
        assert plan["status"] == "published"
        assert plan["steps"][-1]["reference"] == "县委办发〔2027〕3号"


def test_without_plan_approval_the_default_publishes_a_decision_without_reference_by_any_approver(county):
    with node_app(county, []) as app:
        create(app)
        add(app)
        step(app, "chair_meeting")
        step(app, "standing_committee", approver="政协主席会议")  # no reference, not the standing committee
        plan, _determined = publish(app)
    assert plan["status"] == "published"
    assert plan["steps"][-1]["reference"] == ""


def test_plan_approval_refuses_to_publish_a_decision_recorded_without_its_reference(county):
    with node_app(county, []) as app:  # recorded before the practice was enabled
        create(app)
        add(app)
        step(app, "chair_meeting")
        step(app, "standing_committee", approver="县委常委会")
    with node_app(county, ["plan_approval"]) as app:
        before = counts(app)
        with pytest.raises(InputError, match="the standing_committee step of round 1 .approver 县委常委会.*has no "
                                             "reference"):
            publish(app)
        assert counts(app) == before and status(app) == "in_approval"


def test_plan_approval_refusal_through_the_api_and_the_command_line(county):
    with node_app(county, ["plan_approval"]) as app:
        create(app)
        add(app)
        step(app, "chair_meeting")
        before = counts(app)
        client = app.test_client()
        answer = client.post(f"/api/v1/plans/{YEAR}/steps", headers=basic("wang"), json={
            "step": "standing_committee", "approver": "主席会议", "decision": "approved", "reference": "纪要1号"})
        expect_error(answer, 400, "invalid_input", "does not name it")
        result = run(county, "plans", "step", str(YEAR), "--step", "standing_committee", "--approver", "县委常委会",
                     "--decision", "approved")
        assert result.exit_code == 2 and "the reference is empty" in result.output
        assert counts(app) == before


def test_plan_approval_guard_names_an_empty_approver_itself():
    settings = approval_services.CONFIG_DEFAULTS
    plan = {"year": YEAR, "round": 1, "steps": []}
    assert approval_services.guard(plan, "step", "chair_meeting", {"approver": " "}, settings) == [
        "step chair_meeting records who took it: the approver is empty"]
    assert approval_services.guard(plan, "step", "chair_meeting", {"approver": "主席会议"}, settings) == []
    assert "has no approved standing_committee step" in approval_services.guard(plan, "publish", None, {}, settings)[0]


@pytest.mark.parametrize("table, named", [
    ('standing_committee_marker = ""', "plugins.plan_approval.standing_committee_marker"),
    ("chair_meeting_body = 3", "plugins.plan_approval.chair_meeting_body"),
])
def test_plan_approval_refuses_settings_that_are_not_names(county, table, named):
    message = refusal(county, ["plan_approval"], f"[plugins.plan_approval]\n{table}\n")
    assert named in message and "non-empty name" in message


# ---------------------------------------------------------------------------
# topic_selection — 选题-商题-定题 (Putian, seed 003)
# ---------------------------------------------------------------------------


def test_topic_selection_takes_select_joint_meeting_decide_and_the_joint_meeting_names_party_and_government(county):
    with node_app(county, ["topic_selection"]) as app:
        create(app)
        add(app)
        assert [s["key"] for s in show(app)["approval"]["steps"]] == ["selection", "joint_meeting", "standing_committee"]
        with pytest.raises(InputError, match="unknown approval step .chair_meeting."):
            step(app, "chair_meeting")
        step(app, "selection")
        before = counts(app)
        with pytest.raises(InputError) as neither:
            step(app, "joint_meeting", approver="联席会议", reference="联席会议纪要1号", opinion="同意")
        assert "names no one from the party committee" in str(neither.value)
        assert "names no one from the government" in str(neither.value)
        with pytest.raises(InputError) as no_government:
            step(app, "joint_meeting", approver="联席会议", reference="联席会议纪要1号", opinion="市委副书记出席")
        assert "names no one from the government" in str(no_government.value)
        assert "names no one from the party committee" not in str(no_government.value)
        with pytest.raises(InputError, match="cites its document or minute"):
            step(app, "joint_meeting", approver="市委、市政府、市政协联席会议")
        assert counts(app) == before
        step(app, "joint_meeting", approver="联席会议", reference="联席会议纪要1号", opinion="市委、市政府分管领导出席，同意")
        with pytest.raises(InputError, match="cites its document or minute"):
            step(app, "standing_committee", approver="市委常委会议")
        step(app, "standing_committee", approver="市委常委会议", reference="莆委办〔2027〕5号")
        plan, _determined = publish(app)
        assert plan["status"] == "published"
        assert [s["step"] for s in plan["steps"]] == ["selection", "joint_meeting", "standing_committee"]


def test_topic_selection_refusal_on_the_command_line_stores_nothing(county):
    with node_app(county, ["topic_selection"]) as app:
        create(app)
        add(app)
        step(app, "selection")
        before = counts(app)
        result = run(county, "plans", "step", str(YEAR), "--step", "joint_meeting", "--approver", "联席会议",
                     "--decision", "approved", "--reference", "纪要1号", "--opinion", "市政府出席")
        assert result.exit_code == 2
        assert "Error:" in result.output and "names no one from the party committee" in result.output
        assert counts(app) == before


def test_without_topic_selection_the_default_steps_apply_and_joint_meeting_is_unknown(county):
    with node_app(county, []) as app:
        create(app)
        add(app)
        with pytest.raises(InputError, match="unknown approval step .joint_meeting."):
            step(app, "joint_meeting", approver="联席会议", reference="纪要1号")
        step(app, "chair_meeting", approver="联席会议")
        assert show(app)["approval"]["next"] == "standing_committee"


@pytest.mark.parametrize("enabled, table, named", [
    (["topic_selection"], "party_markers = []", "plugins.topic_selection.party_markers"),
    (["topic_selection"], 'government_markers = ["市政府", ""]', "plugins.topic_selection.government_markers"),
    (["topic_selection"], 'joint_meeting_body = "  "', "plugins.topic_selection.joint_meeting_body"),
    (["topic_selection", "plan_approval"], "", "both give the plan's approval steps"),
])
def test_topic_selection_refuses_settings_that_do_not_fit(county, enabled, table, named):
    message = refusal(county, enabled, f"[plugins.topic_selection]\n{table}\n")
    assert named in message


# ---------------------------------------------------------------------------
# huzhou_1246 — 1246+X (Huzhou, seed 003)
# ---------------------------------------------------------------------------

PATTERN = {"plenary": 1, "face_to_face": 2, "standing_committee": 4, "forum": 6}


def plan_with(app: Flask, year: int, numbers: dict[str, int]) -> None:
    create(app, year)
    n = 0
    for form, count in numbers.items():
        for _ in range(count):
            n += 1
            add(app, year, form=form, topic={**ROAD, "title": f"{year} 议题 {n}"})


def approve(app: Flask, year: int) -> None:
    step(app, "chair_meeting", year)
    step(app, "standing_committee", year, **DECISION)


def test_huzhou_1246_blocks_a_plan_short_of_its_numbers_and_says_what_is_short(county):
    with node_app(county, ["huzhou_1246"]) as app:
        forms = app.test_client().get("/api/v1/plans/forms", headers=basic("wang")).get_json()
        assert "face_to_face" in [f["key"] for f in forms["forms"]]
        plan_with(app, YEAR, {**PATTERN, "face_to_face": 1, "online": 2})
        checks = {c["rule"]: c for c in show(app)["checks"] if c["source"] == "huzhou_1246"}
        short = checks["1246+X: 2 face-to-face sessions a year (书记、市长与委员面对面协商)"]
        assert (short["met"], short["blocks"], short["detail"]) == (False, True, "1 face-to-face session planned, 1 short")
        forums = checks["1246+X: 6 bi-monthly forums a year (双月座谈协商)"]
        assert (forums["met"], forums["detail"]) == (True, "6 bi-monthly forums planned")
        assert [c["detail"] for r, c in checks.items() if r.startswith("1246+X: X")] == ["2 planned"]
        approve(app, YEAR)
        assert show(app)["approval"]["can_publish"] is False
        before = counts(app)
        with pytest.raises(Conflict, match="short: 1246.X: 2 face-to-face sessions a year .* 1 short"):
            publish(app)
        assert counts(app) == before and status(app) == "in_approval"

        page = signed_in(app).get(f"/plans/{YEAR}?lang=en").get_data(as_text=True)
        assert "1 face-to-face session planned, 1 short" in page and "Blocks publication" in page

        plan_with(app, YEAR + 1, PATTERN)
        assert all(c["met"] for c in show(app, YEAR + 1)["checks"] if c["source"] == "huzhou_1246")
        approve(app, YEAR + 1)
        plan, _determined = publish(app, YEAR + 1)
        assert plan["status"] == "published"


def test_without_huzhou_1246_a_short_plan_publishes_and_face_to_face_is_unknown(county):
    with node_app(county, []) as app:
        create(app)
        with pytest.raises(InputError, match="unknown consultation form 'face_to_face'"):
            add(app, form="face_to_face")
        add(app, form="forum")
        approve(app, YEAR)
        plan, _determined = publish(app)
    assert plan["status"] == "published"


@pytest.mark.parametrize("table, named", [
    ("forum = 0", "plugins.huzhou_1246.forum"),
    ('face_to_face = "2"', "plugins.huzhou_1246.face_to_face"),
    ("plenary = true", "plugins.huzhou_1246.plenary"),
])
def test_huzhou_1246_refuses_numbers_that_are_not_positive_whole_numbers(county, table, named):
    message = refusal(county, ["huzhou_1246"], f"[plugins.huzhou_1246]\n{table}\n")
    assert named in message and "positive whole number" in message


# ---------------------------------------------------------------------------
# three_together — 三个一起 (Ma'anshan, seed 003)
# ---------------------------------------------------------------------------

TOGETHER = {"departments": ["区委办公室", "区交通运输局"], "sectors": [], "members": []}


def test_three_together_refuses_a_plan_item_without_party_and_government_departments(county):
    with node_app(county, ["three_together"]) as app:
        create(app)
        before = counts(app)
        with pytest.raises(InputError, match="participants name no party committee department") as caught:
            add(app, participants={"departments": ["区交通运输局"]})
        assert "no government department" not in str(caught.value)
        with pytest.raises(InputError, match="participants name no government department"):
            add(app, participants={"departments": ["区委办公室"]})
        assert counts(app) == before
        add(app, participants=TOGETHER)
        approve(app, YEAR)
        publish(app)
        before = counts(app)
        second = {**ITEM, "topic": {**ROAD, "title": "第二个议题"}}
        with pytest.raises(InputError, match="no government department"):
            amend(app, kind="add", item={**second, "participants": {"departments": ["区委统战部"]}},
                  reason="区委交办", approved_by="主席会议", reference="纪要7号")
        assert counts(app) == before
        amend(app, kind="add", item={**second, "participants": TOGETHER}, reason="区委交办", approved_by="主席会议",
              reference="纪要7号")
        assert len(show(app)["items"]) == 2


def test_three_together_activity_opens_with_both_invited_and_closes_when_both_attended(county):
    with node_app(county, ["three_together"]) as app:
        uid = activity_on(app, new_topic(app, "老旧小区改造"))
        invite(app, uid, "区住建局")
        with pytest.raises(InputError, match=r"refused \(attend\): 三个一起: .*invitations name no party committee"):
            attend(app, uid, "区住建局")
        assert activity_rows(app, uid) == ("planned", [("区住建局", None)])
        invite(app, uid, "区委统战部")
        attend(app, uid, "区住建局")  # both invited: the roll is taken
        minutes(app, uid)
        with pytest.raises(InputError, match=r"refused \(close\): .*attendance shows no party committee department"):
            close(app, uid)
        assert activity_rows(app, uid) == ("open", [("区住建局", True), ("区委统战部", False)])
        attend(app, uid, "区住建局", "区委统战部")
        assert close(app, uid)["status"] == "closed"


def test_without_three_together_the_default_accepts_items_and_activities_without_them(county):
    with node_app(county, []) as app:
        create(app)
        add(app, participants={"departments": ["区交通运输局"]})
        uid = activity_on(app, new_topic(app, "老旧小区改造"))
        attend(app, uid)
        minutes(app, uid)
        assert close(app, uid)["status"] == "closed"
        assert len(show(app)["items"]) == 1


def test_three_together_report_counts_the_plan_activities_and_adopted_results_against_the_targets(county):
    targets = "[plugins.three_together]\ntargets = {topics = 2, activities = 2, adopted_results = 1}\n"
    with node_app(county, []) as app:  # before the practice: an item and an activity without the party committee
        year = together_services.this_year(app.config)
        create(app, year)
        add(app, year, participants={"departments": ["区交通运输局"]}, topic={**ROAD, "title": "单独议题"})
        alone = activity_on(app, new_topic(app, "单独协商"), "单独座谈会")
        invite(app, alone, "区交通运输局")
        attend(app, alone, "区交通运输局")
        minutes(app, alone)
        close(app, alone)
    with node_app(county, ["three_together"], targets) as app:
        for title in ("一起议题一", "一起议题二"):
            add(app, year, participants=TOGETHER, topic={**ROAD, "title": title})
        held = activity_on(app, new_topic(app, "一起协商"), "一起座谈会")
        invite(app, held, "区委办公室", "区财政局")
        attend(app, held, "区委办公室", "区财政局")
        minutes(app, held)
        close(app, held)
        adopted = show(app, year)["items"][1]["topic_uid"]
        move_topic(app, adopted, "implementing")

        result = run(county, "together", "report", "--year", str(year), "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert [(r["key"], r["count"], r["target"], r["short"]) for r in report["rows"]] == [
            ("topics", 2, 2, 0), ("activities", 1, 2, 1), ("adopted_results", 1, 1, 0)]
        assert report["plan"] == {"status": "draft", "items": 3}
        assert [a["title"] for a in report["activities"]] == ["一起座谈会"]
        assert [t["title"] for t in report["adopted_results"]] == ["一起议题一"]
        assert run(county, "together", "report", "--year", str(year - 1), "--json").output.count('"count": 0') == 3

        text = run(county, "together", "report", "--year", str(year))
        assert text.exit_code == 0 and "activities held together" in text.output

        assert app.test_client().get("/practices/three-together/").status_code == 302  # sign in first
        page = signed_in(app).get(f"/practices/three-together/?year={year}&lang=en").get_data(as_text=True)
        assert "Three together" in page and "Activities held together" in page
        assert '<tr id="row-activities"><td>Activities held together</td><td>1</td><td>2</td>' in page
        assert "1 short" in page and "一起座谈会" in page and "单独座谈会" not in page


@pytest.mark.parametrize("table, named", [
    ("targets = {topics = -1, activities = 8, adopted_results = 6}", "plugins.three_together.targets.topics"),
    ("targets = {topics = 10, activities = 8}", "plugins.three_together.targets.adopted_results"),
    ("targets = {topics = 10, activities = 8, adopted_results = 6, proposals = 3}", "unknown target(s) proposals"),
    ("party_markers = []", "plugins.three_together.party_markers"),
])
def test_three_together_refuses_settings_that_do_not_fit(county, table, named):
    message = refusal(county, ["three_together"], f"[plugins.three_together]\n{table}\n")
    assert named in message


def test_the_practices_are_listed_with_their_level_and_hooks(county):
    infos = {i["name"]: i for i in json.loads(run(county, "plugins", "list", "--json").output)}
    expected = {
        "plan_approval": ("county", ["node_configured", "plan_approval_steps", "plan_guard"]),
        "topic_selection": ("city", ["node_configured", "plan_approval_steps", "plan_guard"]),
        "huzhou_1246": ("city", ["consultation_forms", "node_configured", "plan_checks"]),
        "three_together": ("city", ["activity_guard", "node_configured", "plan_guard", "register_blueprints",
                                    "register_commands"]),
    }
    for name, (level, hooks) in expected.items():
        info = infos[name]
        assert (info["error"], info["kind"], info["level"], info["hooks"]) == (None, "installed", level, hooks)
        assert info["summary"]
