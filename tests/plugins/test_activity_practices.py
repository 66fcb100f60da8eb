"""The practices that hold plans and activities to their rules: 季协商座谈会 (quarterly_forum, Kailu ``001`` §13)
and 协商民主之家 (consultation_home, Lianyungang ``002``). For each rule: enabled, a change that breaks it is
refused by name and nothing is stored; a conforming one is accepted; disabled, the default accepts it. The
warnings count real activity rows."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from shangliang.core.activities import services as activities
from shangliang.core.activities.models import Activity, ActivityTopic, Invitation, Research
from shangliang.core.activities.schemas import (ActivityAttendAction, ActivityCloseAction, ActivityIn,
                                                ActivityInviteAction, ActivityMinutesAction, ActivityResearchAction)
from shangliang.core.app import create_app
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import ConfigError, Conflict, InputError
from shangliang.core.models import Notification
from shangliang.core.plans import services as plans
from shangliang.core.plans.schemas import PlanIn, PlanItemIn, PlanStepIn
from shangliang.core.topics import services as topics
from shangliang.core.topics.schemas import TopicIn
from shangliang.plugins.county.quarterly_forum import tasks as forum_tasks
from shangliang.plugins.township.consultation_home import tasks as home_tasks

from ..conftest import invoke

KAILU = "150523"
TOWNSHIP = "320706001"
YEAR = 2027
TOPIC = {"title": "城区道路改造", "description": "老城区道路破损", "category": "交通", "areas": ["150523001"],
         "raised_by_kind": "public", "raised_by_name": "群众代表"}
FORUM = {"form": "forum", "title": "第二季度协商座谈会", "starts": f"{YEAR}-06-10 09:00", "ends": f"{YEAR}-06-10 11:30",
         "place": "县政协三楼会议室", "organiser": "县政协办公室"}
HOMES = """
[[plugins.consultation_home.homes]]
name = "海州区协商民主之家"
lead = "王芳"
members = ["王芳", "李强", "张伟"]

[[plugins.consultation_home.homes]]
name = "连云区协商民主之家"
lead = "陈静"
members = ["陈静", "刘洋", "杨磊"]
"""
HOME_ACTIVITY = {"form": "consultation_home", "title": "村道修缮协商议事", "starts": f"{YEAR}-05-12 14:00",
                 "ends": f"{YEAR}-05-12 16:00", "place": "新坝村村委会", "organiser": "海州区协商民主之家"}


# ---------------------------------------------------------------------------
# Helpers: one node, service calls in one write transaction each
# ---------------------------------------------------------------------------


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


def call(app: Flask, func, *args) -> Any:
    with app.app_context(), transaction("test") as session:
        node = node_context()
        found = func(session, node, *args, "test")
        if isinstance(found, activities.Outcome):
            return found.as_dict(node)
        return found.as_dict() if hasattr(found, "as_dict") else found


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        session = get_session()
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Activity, ActivityTopic, Invitation, Research, Notification)}


def topic(app: Flask, **changes) -> str:
    """A topic raised here and moved to determined; its uid."""
    with app.app_context(), transaction("test") as session:
        node = node_context()
        data = {**TOPIC, "areas": [node.id if len(node.id) == 9 else node.id + "001"], **changes}
        raised, _ = topics.raise_topic(session, node, TopicIn(**data), "test")
        topics.advance(session, node, raised, "determined", "test", "test")
        return raised.uid


def plan(app: Flask, status: str = "published", items: tuple[tuple[str, int], ...] = (("forum", 6),),
         year: int = YEAR) -> list[str]:
    """The year's plan with items (form, month), each a new topic; taken to ``status``. The items' topic uids."""
    call(app, plans.create_plan, PlanIn(year=year, title=""))
    uids = []
    for number, (form, month) in enumerate(items):
        item = call(app, plans.add_item, year, PlanItemIn.model_validate(
            {"form": form, "planned_month": month, "lead": "提案委员会",
             "topic": {**TOPIC, "title": f"计划议题{number}", "raised_by_kind": "special_committee"}}))
        uids.append(item["topic_uid"])
    if status == "published":
        approve(app, year)
        with app.app_context(), transaction("test") as session:
            plans.publish(session, node_context(), year, "test")
    return uids


def approve(app: Flask, year: int = YEAR) -> None:
    for key, approver in (("chair_meeting", "政协主席会议"), ("standing_committee", "县委常委会")):
        call(app, plans.take_step, year, PlanStepIn.model_validate(
            {"step": key, "approver": approver, "decision": "approved", "reference": "县委常委会纪要〔2027〕3号"}))


def create(app: Flask, topic_uids: list[str], base: dict = FORUM, **changes) -> dict:
    return call(app, activities.create, ActivityIn(**{**base, "topics": topic_uids, **changes}))


def act(app: Flask, uid: str, action) -> dict:
    return call(app, activities.act, uid, action)


def assert_refused(app: Flask, work, *words: str, error=InputError) -> str:
    """``work()`` is refused with a message holding ``words``, and no row changes."""
    before = counts(app)
    with pytest.raises(error) as caught:
        work()
    message = str(caught.value)
    for word in words:
        assert word in message, message
    assert counts(app) == before
    return message


def status_of(app: Flask, uid: str) -> str:
    with app.app_context():
        return get_session().scalar(select(Activity.status).where(Activity.uid == uid))


def notifications(app: Flask) -> list[Notification]:
    with app.app_context():
        return list(get_session().execute(select(Notification).order_by(Notification.id)).scalars())


def invite_department(app: Flask, uid: str) -> None:
    act(app, uid, ActivityInviteAction(action="invite", kind="department", name="县交通局"))


def research(app: Flask, uid: str, who: str, date: str) -> None:
    act(app, uid, ActivityResearchAction(action="research", who=who, place="城关镇", date=date, findings="路面破损"))


ATTEND = ActivityAttendAction(action="attend", present=["县交通局"])


# ---------------------------------------------------------------------------
# 季协商座谈会: a forum's topic is in the year's published plan, or raised by the party committee or government
# ---------------------------------------------------------------------------


@pytest.fixture
def forum_node(make_node):
    return make_node(node_id=KAILU, name="开鲁县政协", plugins=["quarterly_forum"])


@pytest.fixture
def plain_county(make_node):
    return make_node(node_id=KAILU, name="开鲁县政协")


def test_a_forum_on_a_topic_outside_the_published_plan_is_refused_by_name(forum_node):
    with node_app(forum_node) as app:
        plan(app)
        outside = topic(app)  # raised by the public, not in the plan
        assert_refused(app, lambda: create(app, [outside]), "refused (create)", "quarterly forum (季协商座谈会)",
                          "published consultation plan", "government, party_committee", outside,
                          "not items of the published 2027 plan", "raised by public",
                          "plugins.quarterly_forum.outside_plan_raised_by")


def test_a_forum_on_a_topic_of_a_draft_plan_is_refused(forum_node):
    with node_app(forum_node) as app:
        (planned,) = plan(app, status="draft")
        with app.app_context(), transaction("test") as session:  # determined by hand: the plan is not published
            topics.advance(session, node_context(), topics.get_topic(session, planned, lock=True), "determined")
        assert_refused(app, lambda: create(app, [planned]), "the 2027 plan is draft, not published")


def test_a_forum_on_a_planned_topic_or_one_raised_by_the_party_committee_or_government_is_accepted(forum_node):
    with node_app(forum_node) as app:
        (planned,) = plan(app)
        party = topic(app, raised_by_kind="party_committee", raised_by_name="县委办公室")
        government = topic(app, raised_by_kind="government", raised_by_name="县政府办公室")
        made = create(app, [planned, party, government])
        assert made["status"] == "planned" and made["topics"] == [planned, party, government]
        assert counts(app)["activities"] == 1


def test_a_forum_mixing_a_planned_topic_with_an_unplanned_one_is_refused_naming_only_the_unplanned(forum_node):
    with node_app(forum_node) as app:
        (planned,) = plan(app)
        outside = topic(app, raised_by_kind="member", raised_by_name="李委员")
        message = assert_refused(app, lambda: create(app, [planned, outside]), outside, "raised by member")
        assert planned not in message


def test_the_plan_of_another_year_does_not_make_a_topic_planned(forum_node):
    with node_app(forum_node) as app:
        (planned,) = plan(app, year=YEAR - 1)
        assert_refused(app, lambda: create(app, [planned]), "there is no 2027 plan")


def test_who_may_raise_a_forum_topic_outside_the_plan_is_a_setting(make_node):
    node_dir = make_node(node_id=KAILU, name="开鲁县政协", plugins=["quarterly_forum"],
                         extra_toml='\n[plugins.quarterly_forum]\noutside_plan_raised_by = ["special_committee"]\n')
    with node_app(node_dir) as app:
        party = topic(app, raised_by_kind="party_committee", raised_by_name="县委办公室")
        assert_refused(app, lambda: create(app, [party]), "raised by party_committee", "or one raised by special_committee")
        committee = topic(app, raised_by_kind="special_committee", raised_by_name="提案委")
        assert create(app, [committee])["status"] == "planned"


def test_other_forms_are_not_held_to_the_forum_rule(forum_node):
    with node_app(forum_node) as app:
        outside = topic(app)
        assert create(app, [outside], form="special")["form"] == "special"


def test_without_the_practice_a_forum_on_any_topic_is_accepted(plain_county):
    with node_app(plain_county) as app:
        outside = topic(app)
        assert create(app, [outside])["status"] == "planned"
        assert counts(app)["activities"] == 1


# ---------------------------------------------------------------------------
# 季协商座谈会: a special committee's research, research_lead_days before, ahead of attendance and closing
# ---------------------------------------------------------------------------


def forum(app: Flask) -> str:
    (planned,) = plan(app)
    uid = create(app, [planned])["uid"]
    invite_department(app, uid)
    return uid


def test_attendance_without_a_special_committees_research_is_refused_and_nothing_stored(forum_node):
    with node_app(forum_node) as app:
        uid = forum(app)
        assert_refused(app, lambda: act(app, uid, ATTEND), "refused (attend)", "research by a special committee (专门委员会)",
                "dated on or before 2027-05-21", "20 days before the forum",
                "plugins.quarterly_forum.research_lead_days", "before attendance is taken", "found: none")
        assert status_of(app, uid) == "planned"
        with app.app_context():
            assert get_session().scalar(select(Invitation.attended)) is None


def test_research_by_someone_not_a_special_committee_does_not_count(forum_node):
    with node_app(forum_node) as app:
        uid = forum(app)
        research(app, uid, "李委员、王专家", f"{YEAR}-04-01")
        assert_refused(app, lambda: act(app, uid, ATTEND), "found: none")


def test_research_too_close_to_the_forum_is_refused_naming_what_was_found(forum_node):
    with node_app(forum_node) as app:
        uid = forum(app)
        research(app, uid, "提案委员会", f"{YEAR}-05-22")  # 19 days before 10 June
        assert_refused(app, lambda: act(app, uid, ATTEND), "dated on or before 2027-05-21", "提案委员会 on 2027-05-22")


def test_attendance_after_a_special_committees_research_in_time_is_accepted(forum_node):
    with node_app(forum_node) as app:
        uid = forum(app)
        research(app, uid, "政协经济委员会", f"{YEAR}-05-21")  # exactly 20 days before
        shown = act(app, uid, ATTEND)["activity"]
        assert shown["status"] == "open"
        assert [i["attended"] for i in shown["invitations"]] == [True]


def test_closing_without_the_research_is_refused(forum_node):
    with node_app(forum_node) as app:
        uid = forum(app)
        act(app, uid, ActivityMinutesAction(action="minutes", text="会议纪要", approved_by="县政协主席"))
        assert_refused(app, lambda: act(app, uid, ActivityCloseAction(action="close")), "refused (close)",
                "before the forum is closed")
        assert status_of(app, uid) == "planned"
        research(app, uid, "提案委员会", f"{YEAR}-04-20")
        assert act(app, uid, ActivityCloseAction(action="close"))["activity"]["status"] == "closed"


def test_the_lead_time_and_the_special_committees_are_settings(make_node):
    node_dir = make_node(node_id=KAILU, name="开鲁县政协", plugins=["quarterly_forum"], extra_toml=(
        '\n[plugins.quarterly_forum]\nresearch_lead_days = 40\nspecial_committees = ["经济委员会"]\n'))
    with node_app(node_dir) as app:
        uid = forum(app)
        research(app, uid, "提案委员会", f"{YEAR}-04-01")  # not one of the committees listed
        research(app, uid, "经济委员会", f"{YEAR}-05-01")  # listed, but 40 days before is 1 May: in time
        assert act(app, uid, ATTEND)["activity"]["status"] == "open"
    node_dir = make_node(node_id=KAILU, name="开鲁县政协", plugins=["quarterly_forum"], extra_toml=(
        '\n[plugins.quarterly_forum]\nresearch_lead_days = 41\nspecial_committees = ["经济委员会"]\n'))
    with node_app(node_dir) as app:
        uid = forum(app)
        research(app, uid, "提案委员会", f"{YEAR}-04-01")
        research(app, uid, "经济委员会", f"{YEAR}-05-01")
        assert_refused(app, lambda: act(app, uid, ATTEND), "dated on or before 2027-04-30", "found: 经济委员会 on 2027-05-01")


def test_without_the_practice_attendance_needs_no_research(plain_county):
    with node_app(plain_county) as app:
        uid = forum(app)
        assert act(app, uid, ATTEND)["activity"]["status"] == "open"


# ---------------------------------------------------------------------------
# 季协商座谈会: the plan's quarters, the settings, the warning
# ---------------------------------------------------------------------------


def checks_of(app: Flask) -> list[dict]:
    with app.app_context():
        session = get_session()
        shown = plans.show(session, node_context(), plans.get_plan(session, YEAR))
    return [c for c in shown["checks"] if c["source"] == "quarterly_forum"]


def test_the_plan_shows_one_check_a_quarter_for_its_forum(forum_node):
    with node_app(forum_node) as app:
        plan(app, status="draft", items=(("forum", 2), ("forum", 11), ("special", 5)))
        checks = checks_of(app)
        assert [(c["rule"].split(" (")[0], c["met"], c["blocks"]) for c in checks] == [
            ("季协商座谈会 quarterly forum Q1", True, False), ("季协商座谈会 quarterly forum Q2", False, False),
            ("季协商座谈会 quarterly forum Q3", False, False), ("季协商座谈会 quarterly forum Q4", True, False)]
        assert checks[1]["detail"] == "no forum planned in Q2"
        assert checks[0]["detail"] == "1 planned: 计划议题0"
        approve(app)
        with app.app_context(), transaction("test") as session:  # not blocking by default: published
            assert plans.publish(session, node_context(), YEAR, "test")[0].status == "published"


def test_a_quarter_without_a_forum_blocks_publication_when_the_setting_says_so(make_node):
    node_dir = make_node(node_id=KAILU, name="开鲁县政协", plugins=["quarterly_forum"],
                         extra_toml="\n[plugins.quarterly_forum]\nplan_check_blocks = true\n")
    with node_app(node_dir) as app:
        plan(app, status="draft", items=(("forum", 2), ("forum", 5), ("forum", 8)))
        approve(app)

        def publish():
            with app.app_context(), transaction("test") as session:
                plans.publish(session, node_context(), YEAR, "test")

        message = assert_refused(app, publish, "is not published while it is short", "quarterly forum Q4",
                          "no forum planned in Q4", error=Conflict)
        assert "Q1" not in message and "Q3" not in message
        with app.app_context():
            assert plans.get_plan(get_session(), YEAR).status == "in_approval"


def test_without_the_practice_the_plan_has_no_quarter_checks(plain_county):
    with node_app(plain_county) as app:
        plan(app, status="draft")
        assert checks_of(app) == []


@pytest.mark.parametrize("table, named", [
    ('special_committees = "提案委员会"', "plugins.quarterly_forum.special_committees"),
    ('special_committees = [""]', "plugins.quarterly_forum.special_committees"),
    ('outside_plan_raised_by = ["department"]', "unknown kind(s) 'department'"),
    ('outside_plan_raised_by = "government"', "plugins.quarterly_forum.outside_plan_raised_by"),
    ('plan_check_blocks = "yes"', "plugins.quarterly_forum.plan_check_blocks"),
])
def test_quarterly_forum_settings_problems_are_named(make_node, table, named):
    node_dir = make_node(node_id=KAILU, name="开鲁县政协", plugins=["quarterly_forum"],
                         extra_toml=f"\n[plugins.quarterly_forum]\n{table}\n")
    assert named in refusal(node_dir)


def test_the_forum_warning_is_scheduled_in_each_quarters_last_month(forum_node):
    with node_app(forum_node) as app:
        celery_app = app.extensions["celery"]
        entry = celery_app.conf.beat_schedule["quarterly_forum.warn"]
        assert entry["task"] == forum_tasks.WARN == "shangliang.plugins.quarterly_forum.warn"
        assert (entry["schedule"].month_of_year, entry["schedule"].day_of_month) == ({3, 6, 9, 12}, {1})
        assert forum_tasks.WARN in celery_app.tasks
        assert "quarterly_forum.remind" in celery_app.conf.beat_schedule


def test_the_forum_warning_tells_the_office_when_the_quarter_has_no_forum(forum_node):
    with node_app(forum_node) as app:
        (planned,) = plan(app)
        create(app, [planned], starts=f"{YEAR}-03-31 09:00", ends=f"{YEAR}-03-31 11:00")  # Q1, not Q2
        create(app, [planned], form="special", starts=f"{YEAR}-06-10 09:00")  # Q2, not a forum
        with app.app_context():
            notification_id = forum_tasks.warn.run(today=f"{YEAR}-06-01")
        (row,) = notifications(app)
    assert row.id == notification_id
    assert (row.recipient_role, row.source) == ("office", "quarterly_forum")
    assert row.subject == "Quarterly forum (季协商座谈会) Q2 2027: no forum planned or held"
    assert f"ends on {YEAR}-06-30" in row.body and "at least 20 days before it" in row.body


def test_the_forum_warning_is_silent_when_the_quarter_has_a_forum(forum_node):
    with node_app(forum_node) as app:
        (planned,) = plan(app)
        create(app, [planned], starts=f"{YEAR}-06-30 20:00", ends=f"{YEAR}-06-30 22:00")  # the quarter's last evening
        with app.app_context():
            assert forum_tasks.warn.run(today=f"{YEAR}-06-01") is None
        assert notifications(app) == []


def test_a_cancelled_forum_does_not_count(forum_node):
    from shangliang.core.activities.schemas import ActivityCancelAction

    with node_app(forum_node) as app:
        (planned,) = plan(app)
        uid = create(app, [planned])["uid"]
        act(app, uid, ActivityCancelAction(action="cancel", reason="改期"))
        with app.app_context():
            assert forum_tasks.warn.run(today=f"{YEAR}-06-01") is not None
        assert len(notifications(app)) == 1


# ---------------------------------------------------------------------------
# 协商民主之家: a home's consultation is held by a configured home, its public invitees from the listed groups
# ---------------------------------------------------------------------------


@pytest.fixture
def home_node(make_node):
    return make_node(node_id=TOWNSHIP, name="新坝镇政协联络组", plugins=["consultation_home"], extra_toml=HOMES)


def test_the_home_form_is_offered_while_the_practice_is_enabled(home_node, make_node):
    with node_app(home_node) as app, app.app_context():
        offered = {f["key"]: f for f in plans.forms_and_steps(node_context())["forms"]}
        assert offered["consultation_home"]["description"] == "协商民主之家协商议事活动"
    with node_app(make_node(node_id=TOWNSHIP, name="新坝镇政协联络组")) as app:
        uid = topic(app)
        assert_refused(app, lambda: create(app, [uid], HOME_ACTIVITY), "unknown consultation form 'consultation_home'")


def test_a_home_consultation_not_held_by_a_configured_home_is_refused_by_name(home_node):
    with node_app(home_node) as app:
        uid = topic(app)
        assert_refused(app, lambda: create(app, [uid], HOME_ACTIVITY, organiser="新坝镇政府", place="新坝村村委会"),
                "refused (create)", "consultation home (协商民主之家)", "海州区协商民主之家, 连云区协商民主之家",
                "plugins.consultation_home.homes", "organiser '新坝镇政府' and place '新坝村村委会' name none")


def test_a_home_consultation_naming_a_home_as_organiser_or_place_is_accepted(home_node):
    with node_app(home_node) as app:
        uid = topic(app)
        assert create(app, [uid], HOME_ACTIVITY)["organiser"] == "海州区协商民主之家"
        assert create(app, [uid], HOME_ACTIVITY, organiser="新坝镇政协联络组", place="连云区协商民主之家")["status"] \
            == "planned"
        assert counts(app)["activities"] == 2


def test_a_public_invitee_outside_the_listed_groups_is_refused_and_nothing_stored(home_node):
    with node_app(home_node) as app:
        uid = create(app, [topic(app)], HOME_ACTIVITY)["uid"]
        assert_refused(app, lambda: act(app, uid, ActivityInviteAction(action="invite", kind="public", name="张三")),
                "refused (invite)", "村民, 居民, 退休人员, 党员代表, 信访人", "plugins.consultation_home.public_groups",
                "'张三' names none")


@pytest.mark.parametrize("name", ["村民代表张三", "居民李四", "退休人员王五", "党员代表赵六", "信访人钱七"])
def test_a_public_invitee_from_a_listed_group_is_accepted(home_node, name):
    with node_app(home_node) as app:
        uid = create(app, [topic(app)], HOME_ACTIVITY)["uid"]
        shown = act(app, uid, ActivityInviteAction(action="invite", kind="public", name=name))["activity"]
        assert [(i["kind"], i["name"]) for i in shown["invitations"]] == [("public", name)]


def test_departments_and_other_forms_are_not_held_to_the_groups(home_node):
    with node_app(home_node) as app:
        uid = create(app, [topic(app)], HOME_ACTIVITY)["uid"]
        act(app, uid, ActivityInviteAction(action="invite", kind="department", name="市交通局"))
        other = create(app, [topic(app)], HOME_ACTIVITY, form="grassroots", organiser="新坝镇政府")["uid"]
        act(app, other, ActivityInviteAction(action="invite", kind="public", name="张三"))
        assert counts(app)["activity_invitations"] == 2


def test_the_groups_and_forms_are_settings_and_disabling_restores_the_default(make_node):
    tables = '\n[plugins.consultation_home]\npublic_groups = ["渔民"]\nforms = ["grassroots"]\n' + HOMES
    grassroots = {**HOME_ACTIVITY, "form": "grassroots", "organiser": "新坝镇政府"}
    node_dir = make_node(node_id=TOWNSHIP, name="新坝镇政协联络组", plugins=["consultation_home"], extra_toml=tables)
    with node_app(node_dir) as app:
        uid = topic(app)
        assert_refused(app, lambda: create(app, [uid], grassroots), "consultation home (协商民主之家)")
        held = create(app, [uid], grassroots, organiser="海州区协商民主之家")["uid"]
        assert_refused(app, lambda: act(app, held, ActivityInviteAction(action="invite", kind="public", name="村民代表张三")),
                "渔民")
        act(app, held, ActivityInviteAction(action="invite", kind="public", name="渔民代表张三"))
    plain = make_node(node_id=TOWNSHIP, name="新坝镇政协联络组")
    with node_app(plain) as app:
        made = create(app, [topic(app)], grassroots)
        shown = act(app, made["uid"], ActivityInviteAction(action="invite", kind="public", name="张三"))["activity"]
        assert (made["organiser"], shown["invitations"][0]["name"]) == ("新坝镇政府", "张三")


@pytest.mark.parametrize("table, named", [
    ("public_groups = []", "plugins.consultation_home.public_groups"),
    ('public_groups = ["村民", 3]', "plugins.consultation_home.public_groups"),
    ('forms = ["Bad Key"]', "plugins.consultation_home.forms"),
    ("forms = []", "plugins.consultation_home.forms"),
])
def test_consultation_home_settings_problems_are_named(make_node, table, named):
    node_dir = make_node(node_id=TOWNSHIP, name="新坝镇政协联络组", plugins=["consultation_home"],
                         extra_toml=f"\n[plugins.consultation_home]\n{table}\n")
    assert named in refusal(node_dir)


# ---------------------------------------------------------------------------
# 协商民主之家: the warning in the quarter's last month, and the page
# ---------------------------------------------------------------------------


def test_the_home_warning_is_scheduled_in_each_quarters_last_month(home_node):
    with node_app(home_node) as app:
        celery_app = app.extensions["celery"]
        entry = celery_app.conf.beat_schedule["consultation_home.quarter_warning"]
        assert entry["task"] == home_tasks.WARN == "shangliang.plugins.consultation_home.quarter_warning"
        assert (entry["schedule"].month_of_year, entry["schedule"].day_of_month) == ({3, 6, 9, 12}, {1})
        assert home_tasks.WARN in celery_app.tasks


def test_the_home_warning_names_only_the_homes_without_a_consultation_this_quarter(home_node):
    from shangliang.core.activities.schemas import ActivityCancelAction

    with node_app(home_node) as app:
        uid = topic(app)
        create(app, [uid], HOME_ACTIVITY)  # 海州 in Q2
        create(app, [uid], HOME_ACTIVITY, organiser="连云区协商民主之家", starts=f"{YEAR}-07-01 09:00",
               ends=f"{YEAR}-07-01 10:00")  # 连云 in Q3, not Q2
        cancelled = create(app, [uid], HOME_ACTIVITY, organiser="连云区协商民主之家")["uid"]  # 连云 in Q2, cancelled
        act(app, cancelled, ActivityCancelAction(action="cancel", reason="改期"))
        with app.app_context():
            notification_id = home_tasks.quarter_warning.run(today=f"{YEAR}-06-01")
        (row,) = notifications(app)
    assert row.id == notification_id
    assert (row.recipient_role, row.source) == ("office", "consultation_home")
    assert row.subject == "Consultation homes (协商民主之家): 1 without a Q2 2027 consultation"
    assert "- 连云区协商民主之家 (lead: 陈静)" in row.body
    assert "海州区协商民主之家" not in row.body


def test_the_home_warning_is_silent_when_every_home_has_one(home_node):
    with node_app(home_node) as app:
        uid = topic(app)
        create(app, [uid], HOME_ACTIVITY)
        create(app, [uid], HOME_ACTIVITY, organiser="新坝镇政协联络组", place="连云区协商民主之家")
        with app.app_context():
            assert home_tasks.quarter_warning.run(today=f"{YEAR}-06-01") is None
        assert notifications(app) == []


def test_the_homes_page_shows_each_homes_consultations_this_year(home_node, runner):
    import datetime as dt

    year = dt.date.today().year
    result = invoke(runner, home_node, "users", "add", "wang", "--role", "office", "--name", "王主任",
                    "--password-stdin", input="correct-horse\n")
    assert result.exit_code == 0, result.output
    with node_app(home_node) as app:
        uid = topic(app)
        this_year = create(app, [uid], HOME_ACTIVITY, title="今年的协商议事", starts=f"{year}-12-30 09:00",
                           ends=f"{year}-12-30 10:00")
        create(app, [uid], HOME_ACTIVITY, title="去年的协商议事", starts=f"{year - 1}-05-12 09:00",
               ends=f"{year - 1}-05-12 10:00")
        client = app.test_client()
        anonymous = client.get("/practices/consultation-homes/?lang=en").get_data(as_text=True)
        assert f"Consultations in {year}" in anonymous and "No consultation this year yet." in anonymous
        assert "今年的协商议事" not in anonymous  # titles are for signed-in users
        assert client.post("/login", data={"username": "wang", "password": "correct-horse"}).status_code == 302
        page = client.get("/practices/consultation-homes/?lang=en").get_data(as_text=True)
    assert "今年的协商议事" in page and f"/activities/{this_year['uid']}" in page and f"{year}-12-30" in page
    assert "去年的协商议事" not in page
    haizhou, lianyun = page.split("连云区协商民主之家")[0], page.split("连云区协商民主之家")[1]
    assert "今年的协商议事" in haizhou and "No consultation this year yet." in lianyun
