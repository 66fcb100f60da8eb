"""Implementation of a topic's result (办理实施) at the service: assignments with working-day deadlines,
leaders' instructions, units' reports and the office's review, the gate before feedback, supervision."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.models import Notification
from shangliang.core.plugins import get_plugin_manager, hookimpl
from shangliang.core.topics import implementation as impl, services
from shangliang.core.topics.models import Assignment, Topic, TopicEvent
from shangliang.core.topics.supervision import as_of_ms, mark_overdue
from shangliang.core.users.models import User

from .conftest import IDLE, LEAD, OTHER, act, create, implementation_rows, implementing_topic


class Item:
    def __init__(self, unit, role, working_days=None, due=None):
        self.unit, self.role, self.working_days, self.due = unit, role, working_days, due


def run(app, work):
    with app.app_context(), transaction("test") as session:
        return work(session, node_context())


def user_id(app, username):
    with app.app_context():
        return get_session().execute(select(User.id).where(User.username == username)).scalar_one()


def assign_two(app, uid):
    return run(app, lambda s, n: [a.id for a in impl.assign(s, n, uid, [Item(LEAD, "lead", 10),
                                                                        Item(OTHER, "participating", due="+5")],
                                                            "web:wang")])


def report(app, uid, username, kind="final", body="道路已修复,验收合格"):
    uid_ = user_id(app, username)
    return run(app, lambda s, n: impl.file_report(s, n, uid, uid_, kind, body, f"web:{username}").id)


def review(app, uid, report_id, decision="accept", comment=None):
    return run(app, lambda s, n: impl.review_report(s, n, uid, report_id, decision, comment, "web:wang").review)


def test_units_are_assigned_with_deadlines_on_the_working_calendar(unit_app, client):
    uid = implementing_topic(client)
    assign_two(unit_app, uid)
    state = run(unit_app, lambda s, n: impl.state(s, n, uid))
    lead, other = state["assignments"]
    assert (lead["unit"], lead["role"], lead["working_days"], lead["state"]) == (LEAD, "lead", 10, "assigned")
    assert (other["unit"], other["role"], other["working_days"]) == (OTHER, "participating", None)
    assert lead["due_ms"] > other["due_ms"] > 0
    assert state["ready_for_feedback"] is False and LEAD in state["waiting"]


@pytest.mark.parametrize("items, words", [
    ([Item("不存在的局", "lead", 10)], "no handling unit '不存在的局'"),
    ([Item(LEAD, "lead", 10), Item(LEAD, "participating", 5)], "assigned to topic"),
    ([Item(LEAD, "lead", due="2020-01-01")], "has passed"),
    ([Item(LEAD, "lead", 0)], "at least 1 working day"),
    ([Item(LEAD, "participating", 10)], "exactly one lead unit"),
    ([Item(LEAD, "lead", 10), Item(OTHER, "lead", 10)], "exactly one lead unit"),
    ([Item(LEAD, "chief", 10)], "unknown role"),
    ([Item(LEAD, "lead")], "either as working days"),
])
def test_bad_assignments_are_refused_by_name_and_nothing_is_stored(unit_app, client, items, words):
    uid = implementing_topic(client)
    before = implementation_rows(unit_app)
    with pytest.raises(InputError, match=words):
        run(unit_app, lambda s, n: impl.assign(s, n, uid, items, "web:wang"))
    assert implementation_rows(unit_app) == before


def test_a_second_lead_unit_is_refused_later_too(unit_app, client):
    uid = implementing_topic(client)
    assign_two(unit_app, uid)
    with pytest.raises(InputError, match="exactly one lead unit"):
        run(unit_app, lambda s, n: impl.assign(s, n, uid, [Item(IDLE, "lead", 3)], "web:wang"))
    run(unit_app, lambda s, n: impl.assign(s, n, uid, [Item(IDLE, "participating", 3)], "web:wang"))
    assert len(run(unit_app, lambda s, n: impl.state(s, n, uid))["assignments"]) == 3


def test_units_are_assigned_only_at_the_implementing_stage(unit_app, client):
    uid = create(client).get_json()["topic"]["uid"]
    with pytest.raises(Conflict, match="collected"):
        run(unit_app, lambda s, n: impl.assign(s, n, uid, [Item(LEAD, "lead", 10)], "web:wang"))


def test_leaders_instructions_are_recorded_with_their_date(unit_app, client):
    uid = implementing_topic(client)
    run(unit_app, lambda s, n: impl.instruct(s, n, uid, "张区长", "请交通局抓紧办理", "2026-01-05", "web:wang"))
    state = run(unit_app, lambda s, n: impl.state(s, n, uid))
    assert [(i["leader"], i["body"], i["date"]) for i in state["instructions"]] == [("张区长", "请交通局抓紧办理", "2026-01-05")]
    before = implementation_rows(unit_app)
    with pytest.raises(InputError, match="in the future"):
        run(unit_app, lambda s, n: impl.instruct(s, n, uid, "张区长", "再批", "2999-01-01", "web:wang"))
    with pytest.raises(InputError, match="leader is empty"):
        run(unit_app, lambda s, n: impl.instruct(s, n, uid, " ", "再批", None, "web:wang"))
    assert implementation_rows(unit_app) == before


def test_a_unit_reports_only_on_its_own_assignment(unit_app, client):
    uid = implementing_topic(client)
    assign_two(unit_app, uid)
    before = implementation_rows(unit_app)
    with pytest.raises(impl.NotAssigned, match=f"{IDLE} is not assigned"):
        report(unit_app, uid, "mz")
    with pytest.raises(impl.NotAssigned, match="no handling unit"):
        report(unit_app, uid, "wang")
    assert implementation_rows(unit_app) == before
    report(unit_app, uid, "cz", "progress", "资金已拨付一半")
    state = run(unit_app, lambda s, n: impl.state(s, n, uid))
    assert state["assignments"][1]["state"] == "reporting"
    assert state["assignments"][1]["reports"][0]["review"] == "pending"
    # a unit's user sees its own assignment only
    cz = run(unit_app, lambda s, n: impl.state(s, n, uid, services.Scope(True, s.execute(
        select(Assignment.unit_id).where(Assignment.role == "participating")).scalar())))
    assert [a["unit"] for a in cz["assignments"]] == [OTHER]


def test_a_units_user_sees_only_the_topics_assigned_to_their_unit(unit_app, client):
    """Handling units (承办单位) see what their unit was given to do: the list, one topic, its implementation
    and its attachments; a topic of another unit is not found, and a user acting for no unit sees nothing."""
    uid = implementing_topic(client)
    other = implementing_topic(client, title="另一件事")
    assign_two(unit_app, uid)

    def scope(username):
        return run(unit_app, lambda s, n: services.scope_of(s, s.execute(select(User).where(
            User.username == username)).scalar_one()))

    cz, mz, li = scope("cz"), scope("mz"), scope("li")
    assert cz.unit_only and mz.unit_only and not li.unit_only
    listed = run(unit_app, lambda s, n: [t.uid for t in services.list_topics(s, scope=cz).items])
    assert listed == [uid]
    assert run(unit_app, lambda s, n: services.list_topics(s, scope=mz).items) == []
    assert {uid, other} <= set(run(unit_app, lambda s, n: [t.uid for t in services.list_topics(s, scope=li).items]))
    assert run(unit_app, lambda s, n: services.get_topic(s, uid, scope=cz).uid) == uid
    for who in (cz, mz):
        with pytest.raises(NotFound, match="among those assigned to your unit"):
            run(unit_app, lambda s, n: services.get_topic(s, other, scope=who))
        with pytest.raises(NotFound, match="among those assigned to your unit"):
            run(unit_app, lambda s, n: impl.state(s, n, other, who))
    with pytest.raises(NotFound, match="among those assigned to your unit"):
        run(unit_app, lambda s, n: impl.state(s, n, uid, mz))
    assert run(unit_app, lambda s, n: services.holders(s, mz)) == []
    assert run(unit_app, lambda s, n: [a.topic.uid for a in impl.list_assignments(s, cz)]) == [uid]


def final_accepted_events(app, uid):
    with app.app_context():
        return get_session().execute(select(TopicEvent.note).join(Topic, TopicEvent.topic_id == Topic.id).where(
            Topic.uid == uid, TopicEvent.action == "final_report_accepted")).scalars().all()


def test_feedback_waits_for_the_lead_units_accepted_final_report(unit_app, client):
    uid = implementing_topic(client)
    assign_two(unit_app, uid)
    refused = act(client, uid, "advance", to_stage="feedback")
    assert refused.status_code == 409 and "final report of its lead unit" in refused.get_json()["error"]["message"]
    first = report(unit_app, uid, "jt")
    with pytest.raises(Conflict, match="awaits the office's review"):
        report(unit_app, uid, "jt")
    with pytest.raises(InputError, match="comment is empty"):
        review(unit_app, uid, first, "return")
    assert review(unit_app, uid, first, "return", "缺少验收材料") == "returned"
    assert act(client, uid, "advance", to_stage="feedback").status_code == 409
    assert final_accepted_events(unit_app, uid) == []  # a returned report is no record for the six-step rule
    second = report(unit_app, uid, "jt", body="已补充验收材料")
    assert review(unit_app, uid, second) == "accepted"
    assert final_accepted_events(unit_app, uid) == [LEAD]  # the implementing stage's record (六步议事)
    with pytest.raises(Conflict, match="accepted already"):
        review(unit_app, uid, second)
    with pytest.raises(Conflict, match="accepted already"):
        report(unit_app, uid, "jt", "progress", "再报")
    moved = act(client, uid, "advance", to_stage="feedback")
    assert moved.status_code == 200, moved.get_data(as_text=True)
    closed = act(client, uid, "result", title="道路已修复", summary="两镇道路修复完成", handling_units=["镇政府"])
    assert closed.get_json()["topic"]["result"]["handling_units"] == [LEAD, OTHER, "镇政府"]


def test_a_topic_with_no_units_assigned_moves_on_as_before(unit_app, client):
    uid = implementing_topic(client)
    assert act(client, uid, "advance", to_stage="feedback").status_code == 200


def test_overdue_assignments_are_marked_notified_and_hooked(unit_app, client):
    uid = implementing_topic(client)
    assign_two(unit_app, uid)
    heard = []

    class Listener:
        @hookimpl
        def item_overdue(self, session, item, config):
            heard.append(dict(item))

    with unit_app.app_context():
        get_plugin_manager().register(Listener(), "listener")
        config = unit_app.config
        with transaction("test") as session:
            due = {a.unit.name: a.due_ms for a in session.execute(select(Assignment)).scalars()}
        with transaction("test") as session:
            assert mark_overdue(session, config, due[OTHER] - 1) == []
        with transaction("test") as session:
            mark_overdue(session, config, due[OTHER] + 1)
        with transaction("test") as session:
            mark_overdue(session, config, due[OTHER] + 2)  # once only
    assert heard == [{"kind": "implementation", "ref": uid, "title": "两镇之间道路维修", "due_ms": due[OTHER],
                      "unit": OTHER, "areas": ["620302001", "620302002"]}]
    state = run(unit_app, lambda s, n: impl.state(s, n, uid))
    assert [a["overdue"] for a in state["assignments"]] == [False, True]
    with unit_app.app_context():
        notices = get_session().execute(select(Notification.recipient_role, Notification.recipient_user_id)
                                        .where(Notification.subject.contains(OTHER))).all()
        topic = get_session().execute(select(Topic).where(Topic.uid == uid)).scalar_one()
        assert sorted(notices, key=str) == sorted([("office", None), (None, user_id(unit_app, "cz"))], key=str)
        assert [e.action for e in topic.events][-1] == "assignment_overdue"


def test_supervision_as_of_a_later_day(unit_app):
    config = unit_app.config
    now = 1_780_000_000_000
    with pytest.raises(InputError, match="has passed"):
        as_of_ms(config, "2020-01-01", now)
    assert as_of_ms(config, dt.datetime.fromtimestamp(now / 1000, dt.timezone(dt.timedelta(hours=8))).date()
                    .isoformat(), now) == now
    assert as_of_ms(config, "2099-01-02", now) > now


@pytest.mark.parametrize("implementation, words", [
    ("a report", "body.implementation"),
    ({"unit": LEAD, "role": "chief", "kind": "final", "body": "完成"}, "body.implementation.role"),
    ({"unit": LEAD, "role": "lead", "kind": "weekly", "body": "完成"}, "body.implementation.kind"),
    ({"unit": " ", "role": "lead", "kind": "final", "body": "完成"}, "body.implementation.unit"),
])
def test_a_progress_message_with_a_malformed_report_is_refused(implementation, words):
    from shangliang.core.topics.federation import KINDS
    from shangliang.federation.errors import InvalidBody

    (progress,) = [k for k in KINDS if k.name == "topic.progress"]
    progress.validate({"stage": "implementing", "summary": "进展"})
    progress.validate({"stage": "implementing", "summary": "进展",
                       "implementation": {"unit": LEAD, "role": "lead", "kind": "final", "body": "完成"}})
    with pytest.raises(InvalidBody, match=words):
        progress.validate({"stage": "implementing", "summary": "进展", "implementation": implementation})
