"""The plan rules at the service: one plan a year, items while a draft, approval steps strictly in order,
publication after the last step, amendments with their approval; every refusal names what is wrong and
stores nothing."""

import pytest
from shangliang.core.context import node_context
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.plans import services
from shangliang.core.plans.schemas import PlanItemIn, PlanStepIn

from .conftest import (
    ITEM,
    ROAD,
    YEAR,
    add,
    amend,
    approve_all,
    counts,
    create,
    publish,
    raise_topic,
    run,
    show,
    step,
    topic_stage,
)


def assert_refused(app, error, words, func, *args, **kwargs):
    """``func`` raises ``error`` whose message holds ``words``, and no row changed."""
    before = counts(app)
    with pytest.raises(error) as caught:
        func(*args, **kwargs)
    for word in words:
        assert word in str(caught.value)
    assert counts(app) == before, "a refusal stored something"
    return caught.value


# -- drafting ---------------------------------------------------------------------------------------------


def test_a_node_has_one_plan_a_year(app):
    plan = create(app)
    assert plan["status"] == "draft" and plan["year"] == YEAR and plan["title"] == "2027年度政协协商计划"
    assert plan["uid"].startswith("620302:")
    assert_refused(app, Conflict, ["already has a plan for 2027"], create, app)
    assert create(app, 2028, "2028年协商计划")["title"] == "2028年协商计划"


@pytest.mark.parametrize("year", [1948, 3000])
def test_a_year_out_of_range_is_refused(app, year):
    assert_refused(app, InputError, ["year must be"], create, app, year)


def test_items_name_an_existing_topic_or_raise_one_from_the_plan(app):
    create(app)
    uid = raise_topic(app, title="河道治理")
    existing = add(app, topic_uid=uid, planned_month=None, planned_date="2027-06-15")
    assert (existing["topic_uid"], existing["planned_month"], existing["planned_date"]) == (uid, 6, "2027-06-15")
    new = add(app)
    assert new["topic_title"] == ROAD["title"] and new["position"] == 2
    assert new["participants"] == ITEM["participants"]
    assert topic_stage(app, new["topic_uid"]) == "collected"
    assert [i["topic_uid"] for i in show(app)["items"]] == [uid, new["topic_uid"]]


@pytest.mark.parametrize(
    "fields, error, words",
    [
        ({"form": "tea_party"}, InputError, ["unknown consultation form 'tea_party'", "forum"]),
        ({"planned_month": 13}, InputError, ["month must be a whole number from 1 to 12"]),
        ({"planned_month": None}, InputError, ["give a planned month"]),
        ({"planned_month": None, "planned_date": "2028-01-05"}, InputError, ["not in 2027"]),
        ({"planned_month": 4, "planned_date": "2027-05-05"}, InputError, ["disagree"]),
        ({"planned_month": None, "planned_date": "2027-02-30"}, InputError, ["not a day of the calendar"]),
        ({"lead": " "}, InputError, ["lead is empty"]),
        ({"topic_uid": "620302:NOPE"}, InputError, ["no topic '620302:NOPE' on this node"]),
        ({"topic": {**ROAD, "areas": ["320703"]}}, InputError, ["outside this node's province"]),
    ],
)
def test_a_bad_item_is_refused_and_nothing_is_stored(app, fields, error, words):
    create(app)
    assert_refused(app, error, words, add, app, YEAR, **fields)


def test_an_item_names_one_topic_once_and_not_both_kinds(app):
    create(app)
    uid = raise_topic(app)
    add(app, topic_uid=uid)
    assert_refused(app, Conflict, ["already in the plan"], add, app, YEAR, topic_uid=uid)
    assert_refused(app, InputError, ["either topic_uid"], add, app, YEAR, topic_uid=uid, topic=ROAD)


def test_no_plan_is_not_found(app):
    assert_refused(app, NotFound, ["no plan for 2030"], add, app, 2030)


def test_items_are_removed_only_from_a_draft(app):
    create(app)
    first, second = add(app), add(app, topic={**ROAD, "title": "第二个议题"})
    removed = run(app, services.remove_item, YEAR, first["id"])
    assert removed["topic_uid"] == first["topic_uid"]
    assert [i["id"] for i in show(app)["items"]] == [second["id"]]
    assert topic_stage(app, first["topic_uid"]) == "collected"  # the topic stays
    assert_refused(app, NotFound, ["no item 999"], run, app, services.remove_item, YEAR, 999)
    step(app, "chair_meeting")
    assert_refused(app, Conflict, ["in_approval", "only while it is a draft"], run, app, services.remove_item, YEAR,
            second["id"])
    assert_refused(app, Conflict, ["only while it is a draft"], add, app, YEAR, topic={**ROAD, "title": "迟到的议题"})


# -- approval ---------------------------------------------------------------------------------------------


def test_steps_are_taken_strictly_in_order(app):
    create(app)
    add(app)
    error = assert_refused(app, InputError, ["step standing_committee is out of order", "next step", "chair_meeting"],
                    step, app, "standing_committee")
    assert error.field == "step"
    assert_refused(app, InputError, ["unknown approval step 'vote'", "chair_meeting, standing_committee"], step, app, "vote")
    first = step(app, "chair_meeting", reference="主席会议纪要〔2027〕1号", opinion="同意", decided_on="2026-11-20")
    assert (first["round"], first["decision"], first["decided_on"]) == (1, "approved", "2026-11-20")
    detail = show(app)
    assert detail["status"] == "in_approval" and detail["approval"]["next"] == "standing_committee"
    assert [s["state"] for s in detail["approval"]["steps"]] == ["done", "next"]
    assert_refused(app, InputError, ["out of order", "standing_committee"], step, app, "chair_meeting")
    step(app, "standing_committee", approver="区委常委会")
    detail = show(app)
    assert detail["approval"]["next"] is None and detail["approval"]["can_publish"] is True
    assert_refused(app, Conflict, ["every approval step", "publish it"], step, app, "chair_meeting")


def test_a_plan_without_items_does_not_go_to_approval(app):
    create(app)
    assert_refused(app, InputError, ["has no items"], step, app, "chair_meeting")


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"approver": ""}, ["approver is empty"]),
        ({"decision": "maybe"}, ["unknown decision 'maybe'"]),
        ({"decision": "returned"}, ["says why: the opinion is empty"]),
        ({"decided_on": "2999-01-01"}, ["in the future"]),
        ({"decided_on": "20261120"}, ["not a date written YYYY-MM-DD"]),
    ],
)
def test_a_bad_step_is_refused_and_nothing_is_stored(app, fields, words):
    create(app)
    add(app)
    assert_refused(app, InputError, words, step, app, "chair_meeting", **fields)


def test_a_returned_plan_goes_back_to_draft_and_a_new_round_starts(app):
    create(app)
    add(app)
    step(app, "chair_meeting")
    returned = step(app, "standing_committee", decision="returned", opinion="增加生态环境议题", approver="区委常委会")
    assert returned["round"] == 1
    detail = show(app)
    assert (detail["status"], detail["round"], detail["approval"]["next"]) == ("draft", 2, "chair_meeting")
    add(app, topic={**ROAD, "title": "生态环境保护"})  # a draft again: items may change
    assert_refused(app, InputError, ["out of order"], step, app, "standing_committee")
    approve_all(app)
    assert [(s["round"], s["step"], s["decision"]) for s in show(app)["steps"]] == [
        (1, "chair_meeting", "approved"), (1, "standing_committee", "returned"),
        (2, "chair_meeting", "approved"), (2, "standing_committee", "approved")]


# -- publication ------------------------------------------------------------------------------------------


def test_publication_follows_the_last_step_and_determines_collected_topics(app):
    create(app)
    collected = add(app)["topic_uid"]
    from shangliang.core.db import transaction
    from shangliang.core.topics import services as topics

    moved = raise_topic(app, title="已确定的议题")
    with app.app_context(), transaction("test") as session:
        topics.advance(session, node_context(), topics.get_topic(session, moved, lock=True), "determined")
    add(app, topic_uid=moved)
    assert_refused(app, Conflict, ["not approved", "next step is chair_meeting"], publish, app)
    step(app, "chair_meeting")
    assert_refused(app, Conflict, ["next step is standing_committee"], publish, app)
    step(app, "standing_committee", approver="区委常委会")
    plan, determined = publish(app)
    assert plan["status"] == "published" and plan["published_ms"] is not None
    assert determined == [collected]
    assert topic_stage(app, collected) == "determined" and topic_stage(app, moved) == "determined"
    assert_refused(app, Conflict, ["already published"], publish, app)
    assert_refused(app, Conflict, ["published: its approval is over"], step, app, "chair_meeting")
    assert_refused(app, Conflict, ["published", "only while it is a draft"], add, app, YEAR, topic={**ROAD, "title": "x"})


# -- amendments -------------------------------------------------------------------------------------------

APPROVAL = {"reason": "区委交办新任务", "approved_by": "政协主席会议", "reference": "主席会议纪要〔2027〕5号"}


def _published(app):
    create(app)
    item = add(app)
    approve_all(app)
    publish(app)
    return item


def test_amendments_change_only_a_published_plan(app):
    create(app)
    item = add(app)
    assert_refused(app, Conflict, ["draft", "amendments change a published plan"], amend, app, YEAR, kind="move",
            item_id=item["id"], planned_month=5, **APPROVAL)


@pytest.mark.parametrize("missing", ["reason", "approved_by", "reference"])
def test_an_amendment_without_its_approval_is_refused_and_nothing_is_stored(app, missing):
    item = _published(app)
    fields = {**APPROVAL, missing: "  "}
    error = assert_refused(app, InputError, [f"{missing} is empty", "who approved it"], amend, app, YEAR, kind="move",
                    item_id=item["id"], planned_month=5, **fields)
    assert error.field == missing


def test_an_item_is_moved_by_amendment(app):
    item = _published(app)
    amendment = amend(app, kind="move", item_id=item["id"], planned_date="2027-09-10", **APPROVAL)
    assert amendment["changes"] == {"planned_month": [3, 9], "planned_date": [None, "2027-09-10"]}
    assert amendment["reference"] == APPROVAL["reference"]
    moved = show(app)["items"][0]
    assert (moved["planned_month"], moved["planned_date"]) == (9, "2027-09-10")
    assert_refused(app, InputError, ["nothing moves"], amend, app, YEAR, kind="move", item_id=item["id"],
            planned_date="2027-09-10", **APPROVAL)
    assert_refused(app, NotFound, ["no item 999"], amend, app, YEAR, kind="move", item_id=999, planned_month=2, **APPROVAL)
    assert_refused(app, InputError, ["unknown amendment kind 'drop'"], amend, app, YEAR, kind="drop", **APPROVAL)


def test_an_item_is_added_by_amendment_and_its_topic_determined(app):
    _published(app)
    amendment = amend(app, kind="add", item={**ITEM, "topic": {**ROAD, "title": "新增议题"}, "planned_month": 11},
                      **APPROVAL)
    assert amendment["kind"] == "add" and amendment["changes"]["topic_title"] == "新增议题"
    added = show(app)["items"][-1]
    assert added["by_amendment"] is True and added["planned_month"] == 11
    assert topic_stage(app, added["topic_uid"]) == "determined"
    assert_refused(app, InputError, ["gives the item added"], amend, app, YEAR, kind="add", **APPROVAL)


# -- what a plan shows ------------------------------------------------------------------------------------


def _walk(app, uid, *stages):
    from shangliang.core.db import transaction
    from shangliang.core.topics import services as topics

    with app.app_context():
        for stage in stages:
            with transaction("test") as session:
                topics.advance(session, node_context(), topics.get_topic(session, uid, lock=True), stage)


def test_progress_per_item_and_topics_consulted_outside_the_plan(app):
    from shangliang.core.db import transaction
    from shangliang.core.topics import services as topics

    item = _published(app)
    uid = item["topic_uid"]
    row = show(app)["progress"][0]
    assert (row["consulted"], row["result"], row["implementation"]) == (False, None, None)
    _walk(app, uid, "researching", "consulting")
    assert show(app)["progress"][0]["consulted"] is True
    _walk(app, uid, "implementing")
    assert show(app)["progress"][0]["implementation"] == "implementing"
    _walk(app, uid, "feedback")
    with app.app_context(), transaction("test") as session:
        topics.record_result(session, node_context(), topics.get_topic(session, uid, lock=True), "suggestion",
                             "道路改造建议案", "分三期实施", ["一期六月开工"], ["区交通局"], "test")
    row = show(app)["progress"][0]
    assert row["implementation"] == "closed" and row["result"]["title"] == "道路改造建议案"
    assert show(app)["outside"] == []
    outside = raise_topic(app, title="计划外的议题")
    _walk(app, outside, "determined", "researching", "consulting")
    found = show(app)["outside"]  # consulted now: counted in the year it happened
    with app.app_context():
        this_year = services._today(node_context()).year
    if this_year == YEAR:
        assert [t["uid"] for t in found] == [outside]  # the planned topic is not outside its plan
    else:
        assert found == []
        create(app, this_year)
        # both were consulted this year, and neither is in this year's plan
        assert [t["uid"] for t in show(app, this_year)["outside"]] == [uid, outside]


def test_checks_show_what_each_form_lacks(app):
    create(app)
    add(app)
    checks = {c["source"]: c for c in show(app)["checks"]}
    assert checks["form:forum"]["met"] is False and checks["form:forum"]["detail"] == "1 planned"
    assert not any(c["blocks"] for c in checks.values())
    for n in range(3):
        add(app, topic={**ROAD, "title": f"座谈会议题{n}"})
    assert {c["source"]: c for c in show(app)["checks"]}["form:forum"]["met"] is True


def test_counterpart_pairs_are_checked(make_node, runner):
    from shangliang.core.app import create_app

    from .conftest import COUNTY

    node_dir = make_node(node_id=COUNTY, extra_toml='\n[plans]\ncounterpart_pairs = ["经济委|区发改局"]\n')
    app = create_app(node_dir, test_config={"WTF_CSRF_ENABLED": False})
    try:
        create(app)
        add(app, form="counterpart", lead="经济委", participants={"departments": ["区财政局"]})
        short = [c for c in show(app)["checks"] if c["source"] == "form:counterpart"]
        assert len(short) == 1 and not short[0]["met"] and "区发改局" in short[0]["detail"]
        add(app, form="counterpart", lead="经济委", participants={"departments": ["区发改局"]},
            topic={**ROAD, "title": "发改对口协商"})
        assert [c for c in show(app)["checks"] if c["source"] == "form:counterpart"] == []
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_the_service_validates_shapes_built_by_any_caller(app):
    create(app)
    with pytest.raises(InputError, match="planned month must be"):
        run(app, services.add_item, YEAR, PlanItemIn.model_validate({**ITEM, "planned_month": 0, "topic": ROAD}))
    with pytest.raises(InputError, match="out of order"):
        run(app, services.take_step, YEAR, PlanStepIn(step="standing_committee", approver="x", decision="approved"))
