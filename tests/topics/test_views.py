"""Topic pages on one node: what each page renders, the forms that apply, what a refused form shows."""

from __future__ import annotations

import re

from sqlalchemy import select

from shangliang.core.db import transaction

from .conftest import (
    PASSWORD,
    ROAD,
    TOWNSHIP,
    attachment_rows,
    basic,
    counts,
    create,
    expect_signed_in,
    make_app,
    upload,
)


# -- the pages -----------------------------------------------------------------------------------------------


def test_pages_need_a_signed_in_user(client):
    response = client.get("/topics")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_topics_page_is_chinese_by_default_and_english_on_request(client):
    expect_signed_in(client)
    page = client.get("/topics").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "议题" in page and "提出议题" in page
    assert 'href="/topics"' in page  # the nav link
    english = client.get("/topics?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "Raise a topic" in english and "Group by" in english


def test_raising_through_the_form_shows_the_suggestion(app, client):
    expect_signed_in(client)
    response = client.post("/topics", data={**ROAD, "areas": "620302001, 620302002"})
    assert response.status_code == 303 and "raised=" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "议题已提出" in page and ROAD["title"] in page
    assert "流转建议" in page and "上交至 620302" in page and "：上交至 620302" in page  # the reason, as routed
    assert "escalate it to" not in page and "cross this node" not in page  # in the page's language
    topics = client.get("/api/v1/topics", headers=basic("li")).get_json()["topics"]
    assert len(topics) == 1 and topics[0]["areas"] == ["620302001", "620302002"]
    assert topics[0]["raised_by"] == {"kind": "public", "name": "村民代表"}


def test_a_refused_raise_keeps_the_form_and_stores_nothing(app, client):
    expect_signed_in(client)
    before = counts(app)
    response = client.post("/topics", data={**ROAD, "areas": "320703"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "未能提出" in page and "区域 320703 不在本节点所在省份内" in page
    assert 'value="两镇之间道路维修"' in page  # what the person typed is kept
    assert counts(app) == before


def test_a_read_only_user_sees_no_forms_and_cannot_post(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    expect_signed_in(client, "li")  # a member, not linked to a member: raises nothing (test_raisers.py)
    assert 'id="raise-form"' not in client.get("/topics").get_data(as_text=True)
    page = client.get(f"/topics/{uid}").get_data(as_text=True)
    assert ROAD["title"] in page and 'id="actions"' not in page
    before = counts(app)
    refused = client.post("/topics", data=ROAD)
    assert refused.status_code == 403 and "未关联委员" in refused.get_data(as_text=True)
    assert client.post(f"/topics/{uid}/act", data={"action": "advance", "to_stage": "determined"}).status_code == 403
    assert counts(app) == before


def test_overdue_topics_come_first_and_are_marked(app, client):
    from shangliang.core.topics.models import Topic

    first = create(client, title="按时的议题").get_json()["topic"]["uid"]
    late = create(client, title="逾期的议题").get_json()["topic"]["uid"]
    create(client, title="最新的议题")
    with app.app_context():
        with transaction("test") as session:
            topic = session.execute(select(Topic).where(Topic.uid == late)).scalar_one()
            topic.due_ms, topic.overdue = 1_700_000_000_000, True  # 2023-11-15
            topic.updated_ms = 0
    expect_signed_in(client)
    page = client.get("/topics").get_data(as_text=True)
    assert page.index("逾期的议题") < page.index("最新的议题") < page.index("按时的议题")
    assert "⚠ 逾期" in page and "2023-11-15" in page and "1 个逾期" in page
    by_holder = client.get("/topics?group=holder").get_data(as_text=True)
    assert "承办方" in by_holder and by_holder.index("逾期的议题") < by_holder.index("按时的议题")
    assert client.get(f"/topics/{first}").status_code == 200
    assert client.get("/topics/620302001:NOPE").status_code == 404


def test_the_topic_page_draws_the_stages_lanes_and_the_forms_that_apply(client):
    uid = create(client).get_json()["topic"]["uid"]
    expect_signed_in(client)
    page = client.get(f"/topics/{uid}").get_data(as_text=True)
    assert 'aria-current="step"' in page and "收集议题" in page and "反馈结果" in page
    for level in ("province", "city", "county", "township"):
        assert f'data-level="{level}"' in page
    assert "省级" in page and "市级" in page and "从未发往其他节点" in page
    assert 'id="form-advance"' in page and 'value="determined"' in page and 'id="form-escalate"' in page
    for absent in ("form-accept", "form-return", "form-result", "form-delegate"):
        assert f'id="{absent}"' not in page
    english = client.get(f"/topics/{uid}?lang=en").get_data(as_text=True)
    assert "Route" in english and "Province" in english and "Escalate to 620302" in english


def test_a_refused_form_action_shows_the_message_and_changes_nothing(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    expect_signed_in(client)
    before = counts(app)
    response = client.post(f"/topics/{uid}/act", data={"action": "escalate", "note": "跨乡镇事项"})
    assert response.status_code == 400  # the page again, not a redirect: what was typed is still there
    page = response.get_data(as_text=True)
    assert "操作被拒绝" in page and "620302 is not a peer of this node" in page and "跨乡镇事项</textarea>" in page
    assert counts(app) == before
    skipped = client.post(f"/topics/{uid}/act", data={"action": "advance", "to_stage": "consulting", "note": "先议"})
    page = skipped.get_data(as_text=True)
    assert skipped.status_code == 400 and "the next stage is determined" in page and "先议</textarea>" in page
    assert counts(app) == before


def test_form_actions_move_the_topic_to_its_result(client):
    uid = create(client, areas=[TOWNSHIP]).get_json()["topic"]["uid"]
    expect_signed_in(client)
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        page = client.post(f"/topics/{uid}/act", data={"action": "advance", "to_stage": stage, "note": ""},
                           follow_redirects=True).get_data(as_text=True)
        assert "已进入阶段" in page
    page = client.get(f"/topics/{uid}").get_data(as_text=True)
    # At feedback the result closes the topic: no form offers to close it without one.
    assert 'id="form-result"' in page and 'id="form-advance"' not in page
    closing = client.post(f"/topics/{uid}/act", data={"action": "advance", "to_stage": "closed", "note": ""},
                          follow_redirects=True).get_data(as_text=True)
    assert "只能随成果办结" in closing
    done = client.post(f"/topics/{uid}/act", data={
        "action": "result", "kind": "协商意见", "title": "道路维修纳入年度计划", "summary": "镇政府列入计划",
        "measures": "三月底前完成勘测\n\n汛期前完工\n", "handling_units": "镇政府"}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "结果已记录" in page and "汛期前完工" in page and 'id="form-result"' not in page
    topic = client.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert topic["stage"] == "closed" and topic["result"]["measures"] == ["三月底前完成勘测", "汛期前完工"]


# -- attachments -----------------------------------------------------------------------------------------------


def test_the_topic_page_lists_an_attachment_with_its_link_and_a_member_cannot_attach(client):
    import hashlib

    uid = create(client).get_json()["topic"]["uid"]
    letter = "宁远堡镇、双湾镇群众联名信:道路坑洼,雨天无法通行。".encode()
    assert upload(client, uid, "联名信.txt", letter).status_code == 201
    digest = hashlib.sha256(letter).hexdigest()

    # The page lists it with a link; a member may read but not attach.
    expect_signed_in(client, "li")
    page = client.get(f"/topics/{uid}").get_data(as_text=True)
    assert "联名信.txt" in page and f"/topics/{uid}/attachments/{digest}" in page
    assert 'id="form-attach"' not in page
    assert client.get(f"/topics/{uid}/attachments/{digest}").data == letter


def test_the_page_form_attaches_a_file_with_the_csrf_token(township):
    import io

    app = make_app(township, csrf=True)
    client = app.test_client()
    uid = create(client).get_json()["topic"]["uid"]
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token})
    page = client.get(f"/topics/{uid}").get_data(as_text=True)
    assert 'id="form-attach"' in page and 'enctype="multipart/form-data"' in page
    assert "travel with the topic" in page or "随议题一同发送" in page

    def post(fields):
        return client.post(f"/topics/{uid}/attach", data=fields, content_type="multipart/form-data",
                           follow_redirects=True)

    forged = post({"file": (io.BytesIO(b"x"), "forged.txt")})  # no token: a cross-site form
    assert forged.status_code == 400 and attachment_rows(app) == 0
    sent = post({"csrf_token": token, "file": (io.BytesIO("现场照片说明".encode()), "说明.txt")})
    assert sent.status_code == 200 and attachment_rows(app) == 1
    text = sent.get_data(as_text=True)
    assert "说明.txt" in text and "已上传附件 说明.txt" in text
    empty = post({"csrf_token": token})
    assert empty.status_code == 200 and "请选择要上传的文件" in empty.get_data(as_text=True)
    assert attachment_rows(app) == 1
    app.extensions["shangliang.db"].engine.dispose()


def test_a_hop_this_node_never_saw_is_drawn_as_inferred():
    """The city delegated to the county; the township's acceptance came up through the county. The city never saw
    the county's delegation to the township, but the acceptance proves it: the route shows it, marked inferred."""
    from shangliang.core.topics.views import with_inferred

    def hop(frm, to, action, at):
        return {"from": frm, "to": to, "action": action, "meaning": action, "at_ms": at, "note": "",
                "verified": True, "problem": None}

    seen = [hop("6203", "620302", "delegate", 1), hop("620302001", "620302", "accepted", 5),
            hop("620302", "6203", "accepted", 6)]
    route = with_inferred(seen)
    assert [(h["from"], h["to"], h["action"], h.get("inferred", False)) for h in route] == [
        ("6203", "620302", "delegate", False), ("620302", "620302001", "delegate", True),
        ("620302001", "620302", "accepted", False), ("620302", "6203", "accepted", False)]
    assert route[1]["verified"] is False  # no signature is claimed for what was not seen
    unbroken = [hop("620302001", "620302", "escalate", 1), hop("620302", "6203", "escalate", 2)]
    assert with_inferred(unbroken) == unbroken
