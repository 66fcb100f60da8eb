"""The rules of democratic appraisal at the service: last year's key topics as candidates; the appraisal, its
subjects, groups, visits, ratings, report and rectification; bad input refused by name with nothing stored."""

from __future__ import annotations

import pytest
from shangliang.core.appraisal import services
from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction
from shangliang.core.errors import Conflict, InputError, NotFound

from .conftest import LAST, YEAR, key_topics, rows, run, show


def create(app, year=YEAR, kind="key_topics", title="2027年度重点议题落实情况民主评议"):
    return run(app, services.create_appraisal, year, kind, title)


def refused(app, error, func, *args, match=None):
    before = rows(app)
    with pytest.raises(error, match=match):
        run(app, func, *args)
    assert rows(app) == before


def test_candidates_are_last_years_planned_topics_with_a_result(app):
    uids = key_topics(app)
    with app.app_context():
        found = services.candidate_subjects(get_session(), node_context(), YEAR)
        assert [c["topic"] for c in found] == uids  # the unplanned topic with a result is not key
        assert [c["unit"] for c in found] == ["交通局", "住建局"]
        assert found[0]["result"]["title"] == "纳入年度计划" and found[0]["plan_year"] == LAST
        assert services.candidate_subjects(get_session(), node_context(), LAST) == []  # no plan for 2025
        assert services.candidate_subjects(get_session(), node_context(), YEAR + 1) == []
        with pytest.raises(InputError, match="year"):
            services.candidate_subjects(get_session(), node_context(), 99999)


def test_a_topic_of_the_plan_without_a_result_is_not_a_candidate(app):
    from shangliang.core.topics.models import Topic

    uids = key_topics(app)
    with app.app_context(), transaction("test") as session:
        session.query(Topic).filter(Topic.uid == uids[1]).update({"result": None})
    with app.app_context():
        assert [c["topic"] for c in services.candidate_subjects(get_session(), node_context(), YEAR)] == uids[:1]


def test_create_once_a_year_per_kind_and_without_a_practice_no_subject_is_proposed(app):
    key_topics(app)
    appraisal_id = create(app)
    shown = show(app, appraisal_id)
    assert (shown["year"], shown["kind"], shown["status"], shown["subjects"]) == (YEAR, "key_topics", "open", [])
    assert shown["uid"] == f"620302:{appraisal_id}"
    refused(app, Conflict, services.create_appraisal, YEAR, "key_topics", "again", match="exists already")
    assert create(app, kind="departments", title="政府部门民主评议") != appraisal_id
    refused(app, InputError, services.create_appraisal, YEAR, "people", "x", match="unknown appraisal kind")
    refused(app, InputError, services.create_appraisal, 1800, "departments", "x", match="year")
    refused(app, InputError, services.create_appraisal, YEAR + 1, "departments", "  ", match="title is empty")
    refused(app, InputError, services.create_appraisal, YEAR + 1, "departments", "题" * 301, match="longer")


def test_subjects_units_and_topics_added_by_the_office_are_confirmed(app):
    uids = key_topics(app)
    appraisal_id = create(app)
    unit_subject = run(app, services.add_subject, appraisal_id, "交通局", None, "")
    topic_subject = run(app, services.add_subject, appraisal_id, None, uids[1], "重点议题")
    subjects = show(app, appraisal_id)["subjects"]
    assert [(s["id"], s["kind"], s["status"], s["source"], s["unit"], s["units"]) for s in subjects] == [
        (unit_subject, "unit", "confirmed", "office", "交通局", ["交通局"]),
        (topic_subject, "topic", "confirmed", "office", None, ["住建局"])]
    assert subjects[1]["result"]["title"] == "纳入年度计划" and subjects[1]["topic"] == uids[1]
    refused(app, Conflict, services.add_subject, appraisal_id, "交通局", None, "", match="already")
    refused(app, Conflict, services.add_subject, appraisal_id, None, uids[1], "", match="already")
    refused(app, InputError, services.add_subject, appraisal_id, None, None, "", match="give one")
    refused(app, InputError, services.add_subject, appraisal_id, "没有的局", None, "", match="no handling unit")
    refused(app, InputError, services.add_subject, appraisal_id, None, "620302:nothing", "", match="no topic")
    refused(app, NotFound, services.add_subject, 999, "交通局", None, "", match="no appraisal")


def test_a_topic_without_a_result_is_not_a_subject(app, client):
    from .conftest import ROAD, basic, ok

    appraisal_id = create(app)
    uid = ok(client.post("/api/v1/topics", json=ROAD, headers=basic("wang")), 201)["topic"]["uid"]
    refused(app, InputError, services.add_subject, appraisal_id, None, uid, "", match="no result")
    with app.app_context():
        assert services.detail(services.get_appraisal(get_session(), appraisal_id))["subjects"] == []


def test_proposed_subjects_await_the_office_confirm_or_dismiss(app):
    uids = key_topics(app)
    appraisal_id = create(app)
    with app.app_context(), transaction("test") as session:
        made = services.propose_subjects(session, node_context(), appraisal_id, [
            {"topic": uids[0], "unit": "交通局", "source": "democratic_appraisal", "note": "上年度重点议题"},
            {"topic": uids[1], "source": "democratic_appraisal"}], "test")
        first, second = made[0].id, made[1].id
    with app.app_context(), transaction("test") as session:  # proposing again adds nothing
        assert services.propose_subjects(session, node_context(), appraisal_id,
                                         [{"topic": uids[0], "source": "x"}], "test") == []
    before = rows(app)
    with pytest.raises(InputError, match="source"), app.app_context(), transaction("test") as session:
        services.propose_subjects(session, node_context(), appraisal_id, [{"unit": "住建局"}], "test")
    assert rows(app) == before
    assert [s["status"] for s in show(app, appraisal_id)["subjects"]] == ["proposed", "proposed"]
    refused(app, InputError, services.decide_subject, appraisal_id, first, "dismiss", "", match="reason is empty")
    refused(app, InputError, services.decide_subject, appraisal_id, first, "maybe", "", match="unknown decision")
    refused(app, NotFound, services.decide_subject, appraisal_id, 999, "confirm", "", match="no subject")
    run(app, services.decide_subject, appraisal_id, first, "confirm", "")
    run(app, services.decide_subject, appraisal_id, second, "dismiss", "已列入其他评议")
    subjects = show(app, appraisal_id)["subjects"]
    assert [(s["status"], s["note"]) for s in subjects] == [("confirmed", "上年度重点议题"),
                                                             ("dismissed", "已列入其他评议")]
    assert subjects[0]["unit"] == "交通局" and subjects[0]["decided_by"] == "test"
    refused(app, Conflict, services.decide_subject, appraisal_id, first, "dismiss", "x", match="confirmed already")


def appraisal_with_groups(app):
    """An appraisal of departments with subjects 交通局 and 住建局; group 1 (leader J001, J002) appraises 交通局,
    group 2 (leader J003) 住建局."""
    appraisal_id = create(app, kind="departments", title="政府部门民主评议")
    traffic = run(app, services.add_subject, appraisal_id, "交通局", None, "")
    housing = run(app, services.add_subject, appraisal_id, "住建局", None, "")
    one = run(app, services.add_group, appraisal_id, "第一评议组", "J001", ["J002"], [traffic])
    two = run(app, services.add_group, appraisal_id, "第二评议组", "J003", [], [housing])
    return appraisal_id, traffic, housing, one, two


def test_groups_have_a_leader_among_their_members_and_each_member_sits_in_one(app):
    appraisal_id, traffic, housing, _one, _two = appraisal_with_groups(app)
    groups = show(app, appraisal_id)["groups"]
    assert [(g["name"], g["leader"], [m["member_no"] for m in g["members"]], g["subjects"]) for g in groups] == [
        ("第一评议组", "李强", ["J001", "J002"], [traffic]), ("第二评议组", "张伟", ["J003"], [housing])]
    refused(app, InputError, services.add_group, appraisal_id, "第三组", "J002", [], [], match="already")
    refused(app, InputError, services.add_group, appraisal_id, "第一评议组", "J004", [], [], match="named")
    refused(app, InputError, services.add_group, appraisal_id, "第三组", "J999", [], [], match="no member")
    refused(app, InputError, services.add_group, appraisal_id, "第三组", "J004", [], [traffic],
            match="another group")
    refused(app, InputError, services.add_group, appraisal_id, "第三组", "J004", "J001", [], match="list")
    refused(app, NotFound, services.add_group, appraisal_id, "第三组", "J004", [], [999], match="no subject")


def test_visits_record_day_place_and_findings_of_the_subjects_group(app):
    appraisal_id, traffic, _housing, one, two = appraisal_with_groups(app)
    run(app, services.record_visit, appraisal_id, one, traffic, "2026-11-02", "交通局", "农村公路养护资金不足")
    visits = show(app, appraisal_id)["visits"]
    assert [(v["group"], v["subject"], v["date"], v["place"], v["findings"]) for v in visits] == [
        ("第一评议组", traffic, "2026-11-02", "交通局", "农村公路养护资金不足")]
    from shangliang.core.appraisal.services import NotInGroup

    refused(app, NotInGroup, services.record_visit, appraisal_id, two, traffic, "2026-11-02", "x", "y",
            match="appraised by group")
    refused(app, InputError, services.record_visit, appraisal_id, one, traffic, "2999-01-01", "x", "y",
            match="future")
    refused(app, InputError, services.record_visit, appraisal_id, one, traffic, "yesterday", "x", "y",
            match="not a date")
    refused(app, InputError, services.record_visit, appraisal_id, one, traffic, "2026-11-02", "x", " ",
            match="findings is empty")
    refused(app, NotFound, services.record_visit, appraisal_id, 999, traffic, "2026-11-02", "x", "y",
            match="no group")


def test_ratings_by_the_subjects_group_members_once_each(app):
    from shangliang.core.appraisal.services import NotInGroup

    appraisal_id, traffic, housing, _one, _two = appraisal_with_groups(app)
    run(app, services.rate, appraisal_id, traffic, "J001", "satisfied", "")
    run(app, services.rate, appraisal_id, traffic, "J002", "unsatisfied", "养护不到位")
    subject = show(app, appraisal_id)["subjects"][0]
    assert subject["tally"] == {"satisfied": 1, "basically_satisfied": 0, "unsatisfied": 1, "total": 2,
                                "satisfaction": 0.5}
    assert [(r["member_no"], r["rating"], r["comment"]) for r in subject["ratings"]] == [
        ("J001", "satisfied", ""), ("J002", "unsatisfied", "养护不到位")]
    assert subject["unrated_by"] == []
    assert show(app, appraisal_id)["subjects"][1]["unrated_by"] == ["张伟"]
    refused(app, Conflict, services.rate, appraisal_id, traffic, "J001", "satisfied", "", match="already")
    refused(app, NotInGroup, services.rate, appraisal_id, traffic, "J003", "satisfied", "", match="appraised by")
    refused(app, NotInGroup, services.rate, appraisal_id, traffic, "J004", "satisfied", "", match="no appraisal group")
    refused(app, InputError, services.rate, appraisal_id, housing, "J003", "great", "", match="unknown rating")
    refused(app, NotFound, services.rate, appraisal_id, 999, "J003", "satisfied", "", match="no subject")


def test_the_report_waits_for_every_subject_rated_and_none_proposed(app):
    from shangliang.core.appraisal.services import SubjectsNotReady

    uids = key_topics(app)
    appraisal_id, traffic, housing, _one, _two = appraisal_with_groups(app)
    send = (services.send_report, appraisal_id, "评议报告正文", "", ["区委", "区政府"])
    refused(app, SubjectsNotReady, *send, match="not rated yet: .*住建局")
    run(app, services.rate, appraisal_id, traffic, "J001", "satisfied", "")
    run(app, services.rate, appraisal_id, housing, "J003", "basically_satisfied", "")
    with app.app_context(), transaction("test") as session:
        services.propose_subjects(session, node_context(), appraisal_id, [{"unit": "交通局", "topic": uids[0],
                                                                           "source": "x"}], "test")
    proposed = show(app, appraisal_id)["subjects"][-1]["id"]
    refused(app, SubjectsNotReady, *send, match="await the office")
    run(app, services.decide_subject, appraisal_id, proposed, "dismiss", "重复")
    refused(app, InputError, services.send_report, appraisal_id, "正文", "", [], match="to whom")
    refused(app, InputError, services.send_report, appraisal_id, " ", "", ["区委"], match="report is empty")
    refused(app, InputError, services.send_report, appraisal_id, "正文", "2999-01-01", ["区委"], match="future")
    run(app, services.send_report, *send[1:])
    shown = show(app, appraisal_id)
    assert shown["status"] == "reported"
    assert shown["report"]["recipients"] == ["区委", "区政府"] and shown["report"]["body"] == "评议报告正文"
    refused(app, Conflict, *send, match="reported")
    refused(app, Conflict, services.rate, appraisal_id, traffic, "J002", "satisfied", "", match="reported")


def test_no_confirmed_subject_nothing_to_report(app):
    from shangliang.core.appraisal.services import SubjectsNotReady

    appraisal_id = create(app)
    refused(app, SubjectsNotReady, services.send_report, appraisal_id, "正文", "", ["区委"], match="no confirmed")
    with app.app_context():
        shown = services.detail(services.get_appraisal(get_session(), appraisal_id))
        assert shown["status"] != "reported" and not shown["report"]


def reported(app):
    appraisal_id, traffic, housing, _one, _two = appraisal_with_groups(app)
    run(app, services.rate, appraisal_id, traffic, "J001", "unsatisfied", "")
    run(app, services.rate, appraisal_id, housing, "J003", "satisfied", "")
    run(app, services.send_report, appraisal_id, "报告", "", ["区委", "区政府"])
    return appraisal_id, traffic, housing


def test_rectification_follows_the_report_and_is_tracked_to_acceptance(app):
    from shangliang.core.appraisal.services import NotReported, NotYourUnit
    from shangliang.core.users.models import User

    early = create(app, kind="key_topics", title="t")
    subject = run(app, services.add_subject, early, "交通局", None, "")
    refused(app, NotReported, services.assign_rectification, early, subject, None, "整改", 10, None,
            match="follows the report")
    appraisal_id, traffic, _housing = reported(app)
    refused(app, InputError, services.assign_rectification, appraisal_id, traffic, None, "整改", None, None,
            match="either")
    refused(app, InputError, services.assign_rectification, appraisal_id, traffic, None, "整改", 0, None,
            match="at least 1")
    refused(app, InputError, services.assign_rectification, appraisal_id, traffic, None, " ", 10, None,
            match="rectify is empty")
    refused(app, InputError, services.assign_rectification, appraisal_id, traffic, "没有的局", "整改", 10, None,
            match="no handling unit")
    before = rows(app)
    rect = run(app, services.assign_rectification, appraisal_id, traffic, None, "加强农村公路养护", 10, None)
    after = rows(app)
    assert after["appraisal_rectifications"] == before["appraisal_rectifications"] + 1
    assert after["notifications"] == before["notifications"] + 1  # chen, 交通局's contact, is told
    refused(app, Conflict, services.assign_rectification, appraisal_id, traffic, None, "x", 10, None,
            match="already")
    with app.app_context():
        session = get_session()
        users = {u.username: u.id for u in session.query(User)}
        row = services.get_rectification(session, rect)
        assert (row.unit.name, row.state, row.working_days) == ("交通局", "assigned", 10)
        assert [r.id for r in services.list_rectifications(session, row.unit_id)] == [rect]
        assert services.list_rectifications(session, row.unit_id + 1) == []

    def file(user, kind, body="已完成整改"):
        with app.app_context(), transaction(user) as session:
            return services.file_rectification_report(session, node_context(), rect, users[user], kind, body,
                                                       user).id

    for user, error, match in (("zhou", NotFound, "of your unit"), ("loner", NotYourUnit, "no handling unit"),
                               ("wang", NotYourUnit, "no handling unit")):
        before = rows(app)
        with pytest.raises(error, match=match):
            file(user, "progress")
        assert rows(app) == before
    with pytest.raises(InputError, match="unknown report kind"):
        file("chen", "draft")
    progress = file("chen", "progress", "已制定方案")
    final = file("chen", "final")
    with pytest.raises(Conflict, match="awaits the office"):
        file("chen", "final")
    refused(app, InputError, services.review_rectification_report, rect, final, "return", "", match="comment")
    run(app, services.review_rectification_report, rect, progress, "accept", "")
    run(app, services.review_rectification_report, rect, final, "return", "缺少资金落实情况")
    with app.app_context():
        assert services.get_rectification(get_session(), rect).state == "reporting"
    final = file("chen", "final", "资金已落实")
    run(app, services.review_rectification_report, rect, final, "accept", "")
    refused(app, Conflict, services.review_rectification_report, rect, final, "accept", "", match="already")
    with app.app_context():
        row = services.rectification_dict(services.get_rectification(get_session(), rect))
    assert row["state"] == "accepted" and [r["review"] for r in row["reports"]] == ["accepted", "returned", "accepted"]
    with pytest.raises(Conflict, match="accepted already"):
        file("chen", "progress")


def test_overdue_rectifications_are_marked_once_and_handed_to_item_overdue(app):
    from shangliang.core.appraisal.models import AppraisalRectification
    from shangliang.core.plugins import get_plugin_manager, hookimpl

    seen = []

    class Follower:
        @hookimpl
        def item_overdue(self, session, item, config):
            seen.append(dict(item))

    get_plugin_manager(app).register(Follower())
    appraisal_id, traffic, _housing = reported(app)
    rect = run(app, services.assign_rectification, appraisal_id, traffic, None, "整改", 5, None)
    with app.app_context(), transaction("test") as session:
        assert services.mark_overdue(session, node_context()) == []
        session.get(AppraisalRectification, rect).due_ms = node_context().now_ms() - 1
    before = rows(app)
    with app.app_context(), transaction("worker") as session:
        assert [r.id for r in services.mark_overdue(session, node_context())] == [rect]
    with app.app_context(), transaction("worker") as session:
        assert services.mark_overdue(session, node_context()) == []
    assert rows(app)["notifications"] == before["notifications"] + 2  # the office and chen
    assert [(i["kind"], i["unit"], i["title"]) for i in seen] == [("rectification", "交通局", "交通局")]
    assert seen[0]["ref"] == f"620302:{appraisal_id}/{traffic}"
    with app.app_context():
        assert services.get_rectification(get_session(), rect).overdue is True


def test_a_practice_proposing_a_bad_subject_refuses_the_creation_and_nothing_is_stored(app):
    from shangliang.core.plugins import get_plugin_manager, hookimpl

    class Proposes:
        @hookimpl
        def appraisal_subject_candidates(self, session, node, appraisal):
            return [{"unit": "交通局", "source": "mine"}, {"unit": "没有的局", "source": "mine"}]

    get_plugin_manager(app).register(Proposes())
    refused(app, InputError, services.create_appraisal, YEAR, "departments", "评议", match="no handling unit")
    with app.app_context():
        assert services.list_appraisals(get_session(), YEAR) == []


def test_beat_runs_the_overdue_task_every_five_minutes_by_default_and_the_task_marks(app):
    from shangliang.core.appraisal.models import AppraisalRectification
    from shangliang.core.appraisal.tasks import mark_overdue_task
    from shangliang.core.plugins import get_plugin_manager

    entries = {}
    for found in get_plugin_manager(app).hook.beat_schedule(config=app.config):
        entries.update(found or {})
    assert entries["appraisal.mark_overdue"] == {"task": "shangliang.appraisal.mark_overdue", "schedule": 300.0}
    assert "shangliang.appraisal.mark_overdue" in app.extensions["celery"].tasks
    appraisal_id, traffic, _housing = reported(app)
    rect = run(app, services.assign_rectification, appraisal_id, traffic, None, "整改", 5, None)
    with app.app_context(), transaction("test") as session:
        session.get(AppraisalRectification, rect).due_ms = node_context().now_ms() - 1
    with app.app_context():
        assert mark_overdue_task.apply().get() == 1
        assert mark_overdue_task.apply().get() == 0
