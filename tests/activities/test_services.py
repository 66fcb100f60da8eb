"""The activity rules at the service: each step and each refusal, with nothing stored after a refusal; the
guard hook refusing and the closing hook hearing of a committed close."""

from __future__ import annotations

import dataclasses

import pytest

from shangliang.core.activities import schemas as s, services
from shangliang.core.app import create_app
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.plugins import hookimpl

from .conftest import FORUM, determined_topic, rows

DAY = 86_400_000


def run(app, work, node=None, actor="office"):
    """``work(session, node)`` in one write transaction of ``app``."""
    with app.app_context():
        node = node or node_context()
        with transaction(actor) as session:
            return work(session, node)


def action(app, uid, shape, node=None, actor="office"):
    return run(app, lambda session, n: services.act(session, n, uid, shape, actor).as_dict(n), node, actor)


def assert_refused(app, error, match, work, node=None):
    """``work`` is refused with ``error`` naming ``match``, and no row changes."""
    before = rows(app)
    with pytest.raises(error, match=match):
        run(app, work, node)
    assert rows(app) == before


@pytest.fixture
def topic(client):
    return determined_topic(client)


@pytest.fixture
def uid(app, topic):
    return run(app, lambda session, node: services.create(session, node, s.ActivityIn(**FORUM, topics=[topic]),
                                                          "office").uid)


def invite(app, uid, **fields):
    return action(app, uid, s.ActivityInviteAction(action="invite", **fields))


def stage(app, topic_uid):
    from shangliang.core.topics import services as topics

    with app.app_context():
        return topics.get_topic(get_session(), topic_uid).stage


# -- planning -------------------------------------------------------------------------------------------------


def test_an_activity_is_planned_on_topics_held_here_in_a_known_form(app, uid, topic):
    with app.app_context():
        data = services.show(node_context(), services.get_activity(get_session(), uid))
    assert data["status"] == "planned" and data["topics"] == [topic] and data["form"] == "forum"
    assert data["ends_ms"] - data["starts_ms"] == 150 * 60_000
    assert uid.startswith("620302001:")


@pytest.mark.parametrize("changes, match", [
    ({"form": "tea_party"}, "unknown consultation form 'tea_party'"),
    ({"topics": []}, "topics is empty"),
    ({"topics": ["620302001:nothing"]}, "no topic '620302001:nothing'"),
    ({"ends": "2026-06-10 08:00"}, "ends before it starts"),
    ({"starts": "next tuesday"}, "is not a moment"),
    ({"title": "  "}, "title is empty"),
])
def test_planning_refuses_bad_input_and_stores_nothing(app, topic, changes, match):
    fields = {**FORUM, "topics": [topic], **changes}
    assert_refused(app, InputError, match, lambda session, node: services.create(session, node, s.ActivityIn(**fields), "o"))


def test_a_topic_not_yet_determined_is_not_consulted(app, client):
    from .conftest import ROAD, basic

    collected = client.post("/api/v1/topics", json=ROAD, headers=basic("wang")).get_json()["topic"]["uid"]
    assert_refused(app, InputError, "is collected", lambda session, node: services.create(
        session, node, s.ActivityIn(**FORUM, topics=[collected]), "o"))


# -- invitations, replies, attendance -------------------------------------------------------------------------


def test_invitations_replies_and_attendance(app, uid):
    invite(app, uid, kind="member", member_no="J001")
    invite(app, uid, kind="department", name="县交通运输局")
    data = invite(app, uid, kind="node", name="市政协提案委", node_id="6203")
    people = data["activity"]["invitations"]
    assert [(i["kind"], i["name"], i["node_id"], i["reply"]) for i in people] == [
        ("member", "李强", None, "pending"), ("department", "县交通运输局", None, "pending"),
        ("node", "市政协提案委", "6203", "pending")]
    action(app, uid, s.ActivityReplyAction(action="reply", invitation=people[0]["id"], reply="attend"))
    data = action(app, uid, s.ActivityReplyAction(action="reply", invitation=people[1]["id"], reply="leave",
                                                  reason="局长外出"))
    assert [(i["reply"], i["reason"]) for i in data["activity"]["invitations"]][:2] == [("attend", None),
                                                                                         ("leave", "局长外出")]
    data = action(app, uid, s.ActivityAttendAction(action="attend", present=["J001", "市政协提案委"]))
    assert [i["attended"] for i in data["activity"]["invitations"]] == [True, False, True]
    assert data["activity"]["status"] == "open"


def test_the_same_member_is_not_invited_twice(app, uid):
    invite(app, uid, kind="member", member_no="J001")
    assert_refused(app, Conflict, "already invited", lambda session, node: services.act(
        session, node, uid, s.ActivityInviteAction(action="invite", kind="member", member_no="J001"), "o"))


def test_an_unknown_member_number_is_refused(app, uid):
    assert_refused(app, InputError, "no member with the number 'J999'", lambda session, node: services.act(
        session, node, uid, s.ActivityInviteAction(action="invite", kind="member", member_no="J999"), "o"))


def test_a_reply_needs_an_invitation_and_leave_needs_a_reason(app, uid):
    data = invite(app, uid, kind="member", member_no="J001")
    invitation = data["activity"]["invitations"][0]["id"]
    assert_refused(app, InputError, "has no invitation 999", lambda session, node: services.act(
        session, node, uid, s.ActivityReplyAction(action="reply", invitation=999, reply="attend"), "o"))
    assert_refused(app, InputError, "reason is empty", lambda session, node: services.act(
        session, node, uid, s.ActivityReplyAction(action="reply", invitation=invitation, reply="leave"), "o"))


def test_attendance_of_a_person_not_invited_is_refused_and_nothing_stored(app, uid):
    invite(app, uid, kind="member", member_no="J001")
    before = rows(app)
    with pytest.raises(InputError, match="王芳 was not invited"):
        run(app, lambda session, node: services.act(
            session, node, uid, s.ActivityAttendAction(action="attend", present=["J001", "王芳"]), "o"))
    assert rows(app) == before
    with app.app_context():
        activity = services.get_activity(get_session(), uid)
        assert [i.attended for i in activity.invitations] == [None] and activity.status == "planned"


# -- research and the topic's loop ----------------------------------------------------------------------------


def test_research_moves_a_determined_topic_to_researching(app, uid, topic):
    data = action(app, uid, s.ActivityResearchAction(action="research", who="提案委员会", place="两镇沿线",
                                                      date="2026-05-20", findings="路面破损 3 公里"))
    assert data["activity"]["research"][0]["who"] == "提案委员会"
    assert stage(app, topic) == "researching"
    action(app, uid, s.ActivityResearchAction(action="research", who="交通局", place="镇政府", date="2026-05-21",
                                              findings="资金缺口"))
    assert stage(app, topic) == "researching"  # already there


def test_research_with_a_bad_date_is_refused(app, uid, topic):
    assert_refused(app, InputError, "is not a date", lambda session, node: services.act(session, node, uid, s.ActivityResearchAction(
        action="research", who="a", place="b", date="May 20", findings="c"), "o"))
    assert stage(app, topic) == "determined"


# -- opinions, the online window, moderation ------------------------------------------------------------------

MEMBER = {"username": "li", "display_name": "李强", "role": "member", "member_id": 1}
PUBLIC = {"username": "zhang", "display_name": "张群众", "role": "public", "member_id": None}


def post(app, uid, text, user=MEMBER, node=None):
    return run(app, lambda session, n: services.post_online(session, n, uid, text, user, "web").as_dict(), node)


def test_online_opinions_only_within_the_window(app, uid):
    assert_refused(app, InputError, "has no online window", lambda session, node: services.post_online(
        session, node, uid, "修路", MEMBER, "web"))
    with app.app_context():
        now = node_context().now_ms()
    action(app, uid, s.ActivityOpenWindowAction(action="open_window", closes="2099-01-01 00:00"))
    assert post(app, uid, "先修坑洼最多的一段")["kind"] == "online"
    assert post(app, uid, "同意", user=PUBLIC)["speaker"] == "张群众"
    with app.app_context():
        later = dataclasses.replace(node_context(), clock=lambda: 4_102_444_800_000 + DAY)  # after 2099-01-01
    assert_refused(app, InputError, "is not open now", lambda session, node: services.post_online(
        session, node, uid, "晚了", MEMBER, "web"), node=later)
    action(app, uid, s.ActivityCloseWindowAction(action="close_window"))
    assert_refused(app, InputError, "is not open now", lambda session, node: services.post_online(
        session, node, uid, "关了", MEMBER, "web"))
    assert now > 0


def test_a_window_not_yet_open_refuses_opinions(app, uid):
    action(app, uid, s.ActivityOpenWindowAction(action="open_window", opens="2098-12-01 00:00", closes="2099-01-01 00:00"))
    assert_refused(app, InputError, "is not open now", lambda session, node: services.post_online(
        session, node, uid, "早了", MEMBER, "web"))


def test_office_staff_do_not_post_online(app, uid):
    action(app, uid, s.ActivityOpenWindowAction(action="open_window", closes="2099-01-01 00:00"))
    office = {"username": "wang", "display_name": "王主任", "role": "office", "member_id": None}
    assert_refused(app, InputError, "posted by signed-in members and the public", lambda session, node: services.post_online(
        session, node, uid, "内部", office, "web"))


def test_moderation_hides_or_merges_with_a_reason_and_the_counts_follow(app, uid):
    action(app, uid, s.ActivityOpinionAction(action="opinion", speaker="李强", member_no="J001", text="先修东段"))
    action(app, uid, s.ActivityOpinionAction(action="opinion", speaker="王芳", kind="written", text="东段优先"))
    data = action(app, uid, s.ActivityOpinionAction(action="opinion", speaker="某人", text="广告"))
    first, second, third = [o["id"] for o in data["activity"]["opinions"]]
    action(app, uid, s.ActivityModerateAction(action="moderate", opinion=third, decision="hide", reason="与议题无关"))
    data = action(app, uid, s.ActivityModerateAction(action="moderate", opinion=second, decision="merge", into=first,
                                                     reason="意见相同"))
    opinions = {o["id"]: o for o in data["activity"]["opinions"]}
    assert opinions[third]["hidden"] and opinions[third]["moderation"]["reason"] == "与议题无关"
    assert opinions[third]["moderation"]["by"] == "office"
    assert opinions[second]["merged_into"] == first
    assert data["activity"]["counts"] == {"total": 3, "shown": 1, "hidden": 1, "merged": 1,
                                          "by_kind": {"speech": 1, "written": 0, "online": 0}}
    assert_refused(app, Conflict, "already moderated", lambda session, node: services.act(session, node, uid, s.ActivityModerateAction(
        action="moderate", opinion=third, decision="hide", reason="again"), "o"))
    assert_refused(app, InputError, "has no opinion 999", lambda session, node: services.act(session, node, uid, s.ActivityModerateAction(
        action="moderate", opinion=first, decision="merge", into=999, reason="x"), "o"))
    data = action(app, uid, s.ActivityConsensusAction(action="consensus", text="先修东段，资金分两年安排"))
    assert data["activity"]["consensus"]["counts"]["shown"] == 1


# -- minutes, closing, cancelling -----------------------------------------------------------------------------


class Practice:
    """A practice that refuses online opinions on weekends' activities and hears of closes."""

    def __init__(self):
        self.closed = []
        self.asked = []

    @hookimpl
    def activity_guard(self, activity, action, fields, config):
        self.asked.append(action)
        if action == "attend" and not activity["materials"]:
            return ["send the materials before the meeting (会前材料)"]
        return None

    @hookimpl
    def activity_closed(self, activity, actor):
        self.closed.append((activity["uid"], activity["status"], actor))


def test_closing_needs_minutes_and_records_on_the_topic_loop(app, uid, topic):
    assert_refused(app, Conflict, "no approved minutes", lambda session, node: services.act(
        session, node, uid, s.ActivityCloseAction(action="close"), "o"))
    invite(app, uid, kind="member", member_no="J001")
    invite(app, uid, kind="member", member_no="J002")
    action(app, uid, s.ActivityAttendAction(action="attend", present=["李强"]))
    action(app, uid, s.ActivityOpinionAction(action="opinion", speaker="李强", member_no="J001", text="先修东段"))
    action(app, uid, s.ActivityMinutesAction(action="minutes", text="会议纪要……", approved_by="主席会议"))
    data = action(app, uid, s.ActivityCloseAction(action="close"))
    assert data["activity"]["status"] == "closed" and data["activity"]["closed_ms"]
    assert data["participation"] == [
        {"member_id": 1, "name": "李强", "invited": True, "reply": "pending", "attended": True, "opinions": 1},
        {"member_id": 2, "name": "王芳", "invited": True, "reply": "pending", "attended": False, "opinions": 0}]
    from shangliang.core.topics import services as topics

    with app.app_context():
        found = topics.get_topic(get_session(), topic)
        assert found.stage == "consulting"
        assert [(e.action, e.to_stage) for e in found.events][-3:] == [
            ("advanced", "researching"), ("advanced", "consulting"), ("consulted", None)]
        assert uid in found.events[-1].note
    assert_refused(app, Conflict, "is closed", lambda session, node: services.act(
        session, node, uid, s.ActivityOpinionAction(action="opinion", speaker="x", text="y"), "o"))


def test_cancel_with_a_reason(app, uid):
    assert_refused(app, InputError, "reason is empty", lambda session, node: services.act(
        session, node, uid, s.ActivityCancelAction(action="cancel", reason=" "), "o"))
    data = action(app, uid, s.ActivityCancelAction(action="cancel", reason="汛期推迟"))
    assert data["activity"]["status"] == "cancelled" and data["activity"]["cancelled_reason"] == "汛期推迟"
    assert_refused(app, Conflict, "is cancelled", lambda session, node: services.act(
        session, node, uid, s.ActivityCancelAction(action="cancel", reason="again"), "o"))


def test_an_unknown_activity_is_not_found(app):
    with pytest.raises(NotFound, match="no activity"):
        run(app, lambda session, node: services.act(session, node, "x:y", s.ActivityCloseAction(action="close"), "o"))


def test_a_practice_refuses_through_the_guard_and_hears_of_the_close(township, client):
    topic = determined_topic(client)
    practice = Practice()
    app = create_app(township, plugins=[practice])
    try:
        uid = run(app, lambda session, node: services.create(session, node, s.ActivityIn(**FORUM, topics=[topic]),
                                                             "office").uid)
        invite(app, uid, kind="member", member_no="J001")
        assert_refused(app, InputError, r"refused \(attend\): send the materials before the meeting", lambda session, node:
                services.act(session, node, uid, s.ActivityAttendAction(action="attend", present=["J001"]), "o"))
        run(app, lambda session, node: services.add_materials(session, node, uid, [("议程.txt", "议程".encode())], "o"))
        action(app, uid, s.ActivityAttendAction(action="attend", present=["J001"]))
        action(app, uid, s.ActivityMinutesAction(action="minutes", text="纪要", approved_by="主席"))
        assert practice.closed == []
        action(app, uid, s.ActivityCloseAction(action="close"), actor="cli:clerk")
        assert practice.closed == [(uid, "closed", "cli:clerk")]
        assert practice.asked[:2] == ["create", "invite"] and "material" in practice.asked
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_materials_are_kept_and_the_same_bytes_refused(app, uid):
    added = run(app, lambda session, node: [m.as_dict() for m in services.add_materials(
        session, node, uid, [("议程.txt", b"agenda")], "o")])
    with app.app_context():
        found, path = services.material_file(get_session(), node_context(), uid, added[0]["sha256"])
        assert path.read_bytes() == b"agenda" and found.name == "议程.txt"
    assert_refused(app, InputError, "already a material", lambda session, node: services.add_materials(
        session, node, uid, [("again.txt", b"agenda")], "o"))
    assert_refused(app, InputError, "is empty", lambda session, node: services.add_materials(
        session, node, uid, [("empty.txt", b"")], "o"))


def test_the_calendar_parses_back(app, uid):
    from icalendar import Calendar

    action(app, uid, s.ActivityCancelAction(action="cancel", reason="推迟"))  # cancelled activities stay listed
    with app.app_context():
        data = services.calendar(get_session(), node_context())
    events = Calendar.from_ical(data).walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [f"{uid}@shangliang"]
    event = events[0]
    assert str(event["summary"]) == FORUM["title"] and str(event["location"]) == FORUM["place"]
    assert str(event["status"]) == "CANCELLED"
    assert event.decoded("dtstart").isoformat() == "2026-06-10T01:00:00+00:00"  # 09:00 in Asia/Shanghai
