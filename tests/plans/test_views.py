"""Plan pages on one node: drafting, adding items, the approval steps, publication and amendments through the
forms; a bad form flashes a named error and stores nothing."""

from __future__ import annotations

from .conftest import PASSWORD, ROAD, counts


def signed_in(client, user="wang"):
    response = client.post("/login", data={"username": user, "password": PASSWORD})
    assert response.status_code == 302
    return client


def follow(client, response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client.get(response.headers["Location"]).get_data(as_text=True)


ITEM_FORM = {"form": "forum", "planned_month": "3", "lead": "提案委员会", "departments": "区交通局、区财政局",
             "sectors": "经济界", "members": "", **{k: v for k, v in ROAD.items() if k != "areas"}, "areas": "620302001"}


def test_pages_need_a_signed_in_user(client):
    response = client.get("/plans")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_plan_is_drafted_approved_published_and_amended_through_the_pages(client):
    signed_in(client)
    index = client.get("/plans").get_data(as_text=True)
    assert "协商计划" in index and 'href="/plans"' in index  # the nav link
    page = follow(client, client.post("/plans", data={"year": "2027", "title": ""}))
    assert "2027年度政协协商计划" in page and "草稿" in page and "增加计划项目" in page
    page = follow(client, client.post("/plans/2027/items", data=ITEM_FORM))
    assert ROAD["title"] in page and "季度/双月协商座谈会" in page and "区交通局、区财政局" in page
    assert "3月" in page and "提案委员会" in page
    page = follow(client, client.post("/plans/2027/steps", data={"step": "chair_meeting", "approver": "主席会议",
                                                                 "decision": "approved", "reference": "",
                                                                 "opinion": "同意", "decided_on": ""}))
    assert "已记录审批步骤" in page and "党委常委会" in page
    page = follow(client, client.post("/plans/2027/steps", data={"step": "standing_committee", "approver": "区委常委会",
                                                                 "decision": "approved", "reference": "纪要3号"}))
    assert "发布计划" in page
    page = follow(client, client.post("/plans/2027/publish", data={}))
    assert "计划已发布" in page and "已发布" in page and "记录调整" in page and "增加计划项目" in page
    item_id = client.get("/api/v1/plans/2027").get_json()["items"][0]["id"]
    page = follow(client, client.post("/plans/2027/amendments", data={
        "kind": "move", "item_id": str(item_id), "planned_month": "", "planned_date": "2027-10-08", "reason": "区委调整",
        "approved_by": "主席会议", "reference": "纪要5号"}))
    assert "已记录调整" in page and "2027-10-08" in page and "区委调整" in page


def test_a_bad_form_flashes_a_named_error_and_stores_nothing(app, client):
    signed_in(client)
    follow(client, client.post("/plans", data={"year": "2027"}))
    before = counts(app)
    page = follow(client, client.post("/plans/2027/items", data={**ITEM_FORM, "planned_month": "13"}))
    assert "操作被拒绝" in page and "计划月份必须是 1 到 12 之间的整数" in page
    page = follow(client, client.post("/plans/2027/items", data={**ITEM_FORM, "planned_month": "三月"}))
    assert "planned_month" in page
    page = follow(client, client.post("/plans/2027/steps", data={"step": "standing_committee", "approver": "x",
                                                                 "decision": "approved"}))
    assert "顺序不对" in page
    response = client.post("/plans", data={"year": "2027"})
    assert response.status_code == 400 and "本节点已有 2027 年协商计划" in response.get_data(as_text=True)
    assert counts(app) == before
    assert client.post("/plans/2031/publish", data={}).status_code == 404
    assert client.get("/plans/2031").status_code == 404


def test_an_amendment_without_approval_is_flashed_and_nothing_stored(app, client):
    signed_in(client)
    follow(client, client.post("/plans", data={"year": "2027"}))
    follow(client, client.post("/plans/2027/items", data=ITEM_FORM))
    follow(client, client.post("/plans/2027/steps", data={"step": "chair_meeting", "approver": "a", "decision": "approved"}))
    follow(client, client.post("/plans/2027/steps", data={"step": "standing_committee", "approver": "b",
                                                          "decision": "approved"}))
    follow(client, client.post("/plans/2027/publish", data={}))
    before = counts(app)
    page = follow(client, client.post("/plans/2027/amendments", data={
        "kind": "add", "reason": "新增", "approved_by": "", "reference": "纪要6号",
        **{f"item_{k}": v for k, v in ITEM_FORM.items()}}))
    assert "approved_by 不能为空" in page
    assert counts(app) == before


def test_a_member_reads_but_does_not_write(app, client):
    signed_in(client)
    follow(client, client.post("/plans", data={"year": "2027"}))
    member = app.test_client()
    signed_in(member, "li")
    page = member.get("/plans/2027").get_data(as_text=True)
    assert "2027年度政协协商计划" in page and "增加计划项目" not in page
    assert member.post("/plans/2027/items", data=ITEM_FORM).status_code == 403
