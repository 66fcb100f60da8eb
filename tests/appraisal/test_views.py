"""The appraisal pages (/appraisal): Chinese first; the office creates an appraisal and takes each step on its page;
a refused step flashes why and stores nothing; a handling unit's user sees and reports on its own rectifications
only; who rated what is the office's to see."""

from __future__ import annotations

from .conftest import PASSWORD, YEAR, key_topics, rows, show


def signed_in(client, user):
    answer = client.post("/login", data={"username": user, "password": PASSWORD})
    assert answer.status_code == 302
    return client


def either(text, *words):
    """The page shows one of ``words`` (Chinese once the catalogue has the appraisal's messages, English before)."""
    return any(word in text for word in words)


def follow(client, response):
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_office_runs_an_appraisal_on_its_pages(app, client):
    uids = key_topics(app)
    office = signed_in(client, "wang")
    page = office.get("/appraisal").get_data(as_text=True)
    assert either(page, "民主评议", "Democratic appraisal") and either(page, "创建年度评议", "Create the year")
    text = follow(office, office.post("/appraisal", data={"year": str(YEAR), "kind": "departments",
                                                          "title": "政府部门民主评议"}))
    assert "政府部门民主评议" in text and either(text, "上年度重点议题及其成果", "Last year") and uids[0] in text
    act = "/appraisal/1"
    follow(office, office.post(act, data={"action": "subject", "unit": "交通局"}))
    follow(office, office.post(act, data={"action": "group", "name": "第一组", "leader": "J001", "members": "J002",
                                          "subjects": "1"}))
    follow(office, office.post(act, data={"action": "visit", "group": "1", "subject": "1", "date": "2026-11-02",
                                          "place": "交通局", "findings": "养护资金不足"}))
    follow(office, office.post(act, data={"action": "rate", "subject": "1", "member": "J001",
                                          "rating": "unsatisfied", "comment": "养护不到位"}))
    text = follow(office, office.post(act, data={"action": "report", "body": "评议报告", "recipients": "区委、区政府"}))
    assert either(text, "已于", "Sent on") and "区委、区政府" in text
    text = follow(office, office.post(act, data={"action": "rectify", "subject": "1", "requirements": "加强养护",
                                                 "working_days": "10"}))
    assert "加强养护" in text and "李强" in text and "养护资金不足" in text
    assert show(app, 1)["subjects"][0]["rectification"]["unit"] == "交通局"


def test_a_refused_step_says_why_and_stores_nothing(app, client):
    office = signed_in(client, "wang")
    follow(office, office.post("/appraisal", data={"year": str(YEAR), "kind": "departments", "title": "评议"}))
    before = rows(app)
    text = follow(office, office.post("/appraisal/1", data={"action": "subject", "unit": "没有的局"}))
    assert "没有承办单位" in text
    text = follow(office, office.post("/appraisal/1", data={"action": "report", "body": "x", "recipients": "区委"}))
    assert "没有可报告的已确认评议对象" in text
    text = follow(office, office.post("/appraisal/1", data={"action": "group", "name": "x", "leader": "J001",
                                                            "subjects": "one"}))
    assert "必须是数字" in text
    text = follow(office, office.post("/appraisal", data={"year": "soon", "kind": "departments", "title": "x"}))
    assert "必须是数字" in text
    assert rows(app) == before
    assert office.get("/appraisal/99").status_code == 404


def test_a_unit_sees_and_reports_on_its_own_rectifications_only(app, client):
    from shangliang.core.appraisal import services

    from .conftest import run

    aid = run(app, services.create_appraisal, YEAR, "departments", "评议")
    traffic = run(app, services.add_subject, aid, "交通局", None, "")
    housing = run(app, services.add_subject, aid, "住建局", None, "")
    run(app, services.add_group, aid, "第一组", "J001", [], [traffic, housing])
    run(app, services.rate, aid, traffic, "J001", "satisfied", "投票意见甲")
    run(app, services.rate, aid, housing, "J001", "satisfied", "")
    run(app, services.send_report, aid, "报告", "", ["区委"])
    mine = run(app, services.assign_rectification, aid, traffic, None, "交通整改要求", 10, None)
    theirs = run(app, services.assign_rectification, aid, housing, None, "住建整改要求", 10, None)
    unit = signed_in(client, "chen")
    text = unit.get("/appraisal/rectifications").get_data(as_text=True)
    assert "交通整改要求" in text and "住建整改要求" not in text
    text = unit.get(f"/appraisal/{aid}").get_data(as_text=True)
    assert "交通整改要求" in text
    assert "住建整改要求" not in text
    assert "投票意见甲" not in text  # who rated what is the office's to see
    assert "投票意见甲" in signed_in(client.application.test_client(), "wang").get(f"/appraisal/{aid}").get_data(
        as_text=True)
    text = follow(unit, unit.post(f"/appraisal/rectifications/{mine}", data={"kind": "final", "body": "已完成"}))
    assert "已完成" in text
    before = rows(app)
    assert unit.post(f"/appraisal/rectifications/{theirs}", data={"kind": "final", "body": "x"}).status_code == 404
    text = follow(unit, unit.post(f"/appraisal/rectifications/{mine}", data={"kind": "final", "body": "再报"}))
    assert "正等待政协办公室审核" in text
    assert rows(app) == before


def test_members_and_the_public_read_but_do_not_write(app, client):
    member = signed_in(client, "li")
    assert member.get("/appraisal").status_code == 200
    assert member.post("/appraisal", data={"year": str(YEAR), "kind": "departments", "title": "x"}).status_code == 403
