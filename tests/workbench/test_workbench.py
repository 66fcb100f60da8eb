"""The workbench: what waits for each person, from every feature, on the home page, in the API and the CLI;
and the inbox of notifications, read and marked read by its owner only."""

from __future__ import annotations

import json

from sqlalchemy import select

from shangliang.core.db import transaction
from shangliang.core.models import Notification
from shangliang.core.notifications import notify
from shangliang.core.topics.models import Topic
from shangliang.core.users.models import User

from ..conftest import invoke
from ..proposals.conftest import ROAD, assigned, basic, ok, post, submitted

TOPIC = {"title": "两镇之间道路维修", "description": "路面破损", "category": "交通", "areas": ["620302001", "620302002"],
         "raised_by_kind": "public", "raised_by_name": "村民代表"}


def workbench(client, user) -> dict[str, dict]:
    body = ok(client.get("/api/v1/me/workbench", headers=basic(user)))
    return {item["key"]: item for item in body["items"]} | {"_order": [i["key"] for i in body["items"]],
                                                            "_unread": body["unread"]}


def sign_in(client, user):
    assert client.post("/login", data={"username": user, "password": "correct-horse"}).status_code == 302


def test_each_person_sees_what_waits_for_them_and_nothing_of_others(client):
    joint = submitted(client, "li", title="关于联名修缮学校的建议", cosigners=["J002"])
    solo = submitted(client, "wei", title="关于增设公交线路的建议")
    handled = assigned(client, title="关于治理河道的建议")
    # the office: proposals awaiting review (the joint one still waits for its co-signer: not yet)
    office = workbench(client, "wang")
    review = office["proposals.to_review"]
    assert review["count"] == 1 and [e["title"] for e in review["entries"]] == [solo["title"]]
    assert review["entries"][0]["url"] == f"/proposals/{solo['id']}"
    assert "proposals.to_sign" not in office and "proposals.to_handle" not in office
    # a co-signer: the joint proposal to confirm; its proposer: their open proposals
    fang = workbench(client, "fang")
    assert [e["title"] for e in fang["proposals.to_sign"]["entries"]] == [joint["title"]]
    assert fang["proposals.mine"]["count"] == 0
    li = workbench(client, "li")
    assert li["proposals.to_sign"]["count"] == 0
    assert {e["title"] for e in li["proposals.mine"]["entries"]} == {joint["title"], handled["title"]}
    assert "proposals.to_review" not in li and "topics.to_accept" not in li
    # handling units: the lead and the co-handling unit each see the part assigned to them, with its deadline
    for unit_user in ("chen", "zhou"):
        mine = workbench(client, unit_user)
        assert [e["title"] for e in mine["proposals.to_handle"]["entries"]] == [handled["title"]]
        assert mine["proposals.to_handle"]["entries"][0]["note"]
        assert not any(key.startswith("topics.to_") or key == "proposals.to_review" for key in mine)
    # the public: nothing of anyone's
    public = workbench(client, "zhang")
    assert not [k for k in public if not k.startswith("_") and public[k]["count"]]


def test_topics_to_accept_and_overdue_come_first_for_the_office(app, client):
    first = ok(client.post("/api/v1/topics", json=TOPIC, headers=basic("wang")), 201)["topic"]["uid"]
    second = ok(client.post("/api/v1/topics", json={**TOPIC, "title": "村口路灯"}, headers=basic("wang")), 201)["topic"]["uid"]
    with app.app_context(), transaction("test") as session:
        passed = session.execute(select(Topic).where(Topic.uid == first)).scalar_one()
        passed.accepted_ms, passed.upstream = None, "620302001"  # as a township's escalation arrives
        late = session.execute(select(Topic).where(Topic.uid == second)).scalar_one()
        late.overdue, late.due_ms = True, 1_767_196_799_999  # 2025-12-31, end of day in Shanghai
    office = workbench(client, "wang")
    assert office["_order"][0] == "topics.overdue" and office["topics.overdue"]["urgent"]
    assert [e["title"] for e in office["topics.overdue"]["entries"]] == ["村口路灯"]
    assert office["topics.overdue"]["entries"][0]["overdue"]
    assert office["topics.to_accept"]["count"] == 1
    assert office["topics.to_accept"]["entries"][0]["url"] == f"/topics/{first}"
    assert "620302001" in office["topics.to_accept"]["entries"][0]["note"]
    # the home page is the workbench, in Chinese
    sign_in(client, "wang")
    page = client.get("/").get_data(as_text=True)
    assert "工作台" in page and "待受理议题" in page and "逾期议题" in page and "村口路灯" in page
    assert page.index("逾期议题") < page.index("待受理议题")  # the urgent card first
    assert "暂无待办" in page and "待审查提案" in page  # kinds with nothing waiting: one quiet line
    nav = page[page.index("<nav>"):page.index("</nav>")]
    assert nav.index(">议题<") < nav.index(">提案<") < nav.index(">消息<")  # the features' order, built-ins first
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Topics to accept" in english and "Overdue topics" in english
    # a handling unit's user sees neither
    assert "topics.to_accept" not in workbench(client, "chen")


def test_someone_signed_out_sees_the_node_and_a_way_to_sign_in(client):
    page = client.get("/").get_data(as_text=True)
    assert "金川区政协" in page and "工作台" not in page and "登录后查看" in page


def test_the_inbox_holds_what_was_sent_to_the_user_or_their_role_and_marks_read_only_that(app, client, county, runner):
    with app.app_context(), transaction("test") as session:
        fang = session.execute(select(User).where(User.username == "fang")).scalar_one()
        notify(session, "请于周五前答复邀请", "专题协商会", user_id=fang.id, source="activities")
        notify(session, "有新的社情民意信息待处理", role="office", source="opinions")
        for_office = notify(session, "计划待审批", role="office", source="plans").id
    mine = ok(client.get("/api/v1/me/inbox", headers=basic("fang")))
    assert [n["subject"] for n in mine["notifications"]] == ["请于周五前答复邀请"] and mine["unread"] == 1
    assert mine["notifications"][0]["to"] == "you"
    assert workbench(client, "fang")["_unread"] == 1
    office = ok(client.get("/api/v1/me/inbox", headers=basic("wang")))
    assert [n["subject"] for n in office["notifications"]] == ["计划待审批", "有新的社情民意信息待处理"]
    # fang cannot mark the office's: 404, and nothing is marked, not even her own given beside it
    refused = client.post("/api/v1/me/inbox/read", json={"ids": [mine["notifications"][0]["id"], for_office]},
                          headers=basic("fang"))
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
    assert ok(client.get("/api/v1/me/inbox?unread=true", headers=basic("fang")))["unread"] == 1
    assert ok(client.get("/api/v1/me/inbox", headers=basic("wang")))["unread"] == 2
    empty = client.post("/api/v1/me/inbox/read", json={}, headers=basic("fang"))
    assert empty.status_code == 400 and empty.get_json()["error"]["field"] == "ids"
    # the admin is not of the office role: the office's notification is not theirs
    assert client.post("/api/v1/me/inbox/read", json={"ids": [for_office]}, headers=basic("admin")).status_code == 404
    # one of the office marks it read: read for the whole office (a shared in-tray)
    marked = ok(client.post("/api/v1/me/inbox/read", json={"ids": [for_office]}, headers=basic("wang")))
    assert marked == {"marked": 1, "unread": 1}
    # the page: unread first shown, marked read by a click
    sign_in(client, "fang")
    page = client.get("/inbox").get_data(as_text=True)
    assert "请于周五前答复邀请" in page and "计划待审批" not in page and "1 条未读" in page
    assert "1 条未读通知" in client.get("/").get_data(as_text=True)
    assert client.post("/inbox/read", data={"id": "all"}).status_code == 302
    assert "条未读" not in client.get("/inbox").get_data(as_text=True)
    assert client.post("/inbox/read", data={"id": str(for_office)}).status_code == 404
    # the command line: the same inbox, as the user named
    listed = json.loads(invoke(runner, county, "workbench", "inbox", "--as", "wang", "--unread", "--json").output)
    assert [n["subject"] for n in listed] == ["有新的社情民意信息待处理"]
    assert invoke(runner, county, "workbench", "read", "--as", "wang", "--all").output.strip() == "1 marked read"
    unknown = invoke(runner, county, "workbench", "inbox", "--as", "nobody")
    assert unknown.exit_code == 2 and "no active user 'nobody'" in unknown.output
    with app.app_context():
        from shangliang.core.db import get_session

        assert get_session().execute(select(Notification).where(Notification.read_at.is_(None))).first() is None


def test_the_command_line_shows_a_user_s_workbench(client, county, runner):
    handled = assigned(client, title="关于治理河道的建议")
    result = invoke(runner, county, "workbench", "show", "--as", "chen", "--json")
    assert result.exit_code == 0, result.output
    items = {i["key"]: i for i in json.loads(result.output)}
    assert [e["title"] for e in items["proposals.to_handle"]["entries"]] == [handled["title"]]
    text = invoke(runner, county, "workbench", "show", "--as", "chen").output
    assert handled["title"] in text
