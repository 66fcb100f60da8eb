"""The implementation section of a topic's page and /topics/assignments: the office's forms, the unit's
form, what each sees, and refusals flashed with nothing stored."""

from __future__ import annotations

import re

from .conftest import (IDLE, LEAD, OTHER, act, basic, expect_signed_in, implementation_rows, implementing_topic,
                       upload)


def signed_in(app, user):
    client = app.test_client()
    expect_signed_in(client, user)
    return client


def test_the_office_assigns_instructs_and_reviews_on_the_topic_page(unit_app, client):
    uid = implementing_topic(client)
    office = signed_in(unit_app, "wang")
    page = office.get(f"/topics/{uid}").get_data(as_text=True)
    assert 'id="implementation"' in page and 'id="form-assign"' in page and 'id="form-instruct"' in page
    assert f'<option value="{LEAD}">' in page and 'id="form-report"' not in page

    before = implementation_rows(unit_app)
    refused = office.post(f"/topics/{uid}/implementation/assign",
                          data={"unit": OTHER, "role": "participating", "deadline": "5"}, follow_redirects=True)
    assert "操作被拒绝" in refused.get_data(as_text=True) and "只能有一个牵头单位" in refused.get_data(as_text=True)
    assert implementation_rows(unit_app) == before
    done = office.post(f"/topics/{uid}/implementation/assign", data={"unit": LEAD, "role": "lead", "deadline": "10"},
                       follow_redirects=True).get_data(as_text=True)
    assert 'id="assignments"' in done and LEAD in done and 'data-role="lead"' in done
    office.post(f"/topics/{uid}/implementation/assign", data={"unit": OTHER, "role": "participating",
                                                              "deadline": "+3"})
    office.post(f"/topics/{uid}/implementation/instruct", data={"leader": "张区长", "body": "请抓紧办理"})
    page = office.get(f"/topics/{uid}").get_data(as_text=True)
    assert "张区长" in page and "请抓紧办理" in page and OTHER in page

    unit = signed_in(unit_app, "jt")
    page = unit.get(f"/topics/{uid}").get_data(as_text=True)
    assert 'id="form-report"' in page and 'id="form-assign"' not in page
    assert LEAD in page and OTHER not in page.split('id="implementation"')[1].split("</section>")[0]
    filed = unit.post(f"/topics/{uid}/implementation/report", data={"kind": "final", "body": "道路已修复,验收合格"},
                      follow_redirects=True).get_data(as_text=True)
    assert "道路已修复" in filed
    assert unit.post(f"/topics/{uid}/implementation/assign", data={"unit": IDLE, "role": "participating",
                                                                   "deadline": "3"}).status_code == 403

    page = office.get(f"/topics/{uid}").get_data(as_text=True)
    report_id = re.search(r'id="form-review-(\d+)"', page).group(1)
    returned = office.post(f"/topics/{uid}/implementation/reports/{report_id}/review", data={"decision": "return"},
                           follow_redirects=True).get_data(as_text=True)
    assert "操作被拒绝" in returned and "comment 不能为空" in returned
    accepted = office.post(f"/topics/{uid}/implementation/reports/{report_id}/review", data={"decision": "accept"},
                           follow_redirects=True).get_data(as_text=True)
    assert f'id="form-review-{report_id}"' not in accepted and 'data-state="accepted"' in accepted
    assert act(client, uid, "advance", to_stage="feedback").status_code == 200


def test_a_unit_not_assigned_has_no_report_form_and_is_refused(unit_app, client):
    uid = implementing_topic(client)
    office = signed_in(unit_app, "wang")
    office.post(f"/topics/{uid}/implementation/assign", data={"unit": LEAD, "role": "lead", "deadline": "10"})
    idle = signed_in(unit_app, "mz")
    assert idle.get(f"/topics/{uid}").status_code == 404  # not its unit's: not shown at all
    before = implementation_rows(unit_app)
    refused = idle.post(f"/topics/{uid}/implementation/report", data={"kind": "final", "body": "完成"},
                        follow_redirects=True)
    assert refused.request.path == "/topics/assignments" and f"{IDLE} 未承办议题" in refused.get_data(as_text=True)
    assert implementation_rows(unit_app) == before
    assert signed_in(unit_app, "li").post(f"/topics/{uid}/implementation/report",
                                          data={"kind": "final", "body": "完成"}).status_code == 403


def test_the_assignments_page_shows_a_units_own_part(unit_app, client):
    uid = implementing_topic(client)
    office = signed_in(unit_app, "wang")
    office.post(f"/topics/{uid}/implementation/assign", data={"unit": LEAD, "role": "lead", "deadline": "10"})
    office.post(f"/topics/{uid}/implementation/assign", data={"unit": OTHER, "role": "participating", "deadline": "3"})
    everyone = office.get("/topics/assignments").get_data(as_text=True)
    assert LEAD in everyone and OTHER in everyone
    own = signed_in(unit_app, "cz").get("/topics/assignments").get_data(as_text=True)
    table = own.split('id="assignment-list"')[1]
    assert OTHER in table and LEAD not in table and "两镇之间道路维修" in table


def test_a_unit_sees_only_the_topics_assigned_to_it(unit_app, client):
    """The list, a topic's page and its attachments: a unit's user sees its own unit's topics only."""
    mine = implementing_topic(client, title="本单位的道路维修")
    other = implementing_topic(client, title="别家的学校搬迁")
    assert upload(client, other, "信.txt", b"letter").status_code == 201
    office = signed_in(unit_app, "wang")
    office.post(f"/topics/{mine}/implementation/assign", data={"unit": LEAD, "role": "lead", "deadline": "10"})
    everyone = office.get("/topics").get_data(as_text=True)
    assert "本单位的道路维修" in everyone and "别家的学校搬迁" in everyone
    unit = signed_in(unit_app, "jt")
    listed = unit.get("/topics").get_data(as_text=True)
    assert "本单位的道路维修" in listed and "别家的学校搬迁" not in listed
    assert unit.get(f"/topics/{mine}").status_code == 200
    assert unit.get(f"/topics/{other}").status_code == 404
    sha256 = client.get(f"/api/v1/topics/{other}", headers=basic("wang")).get_json()["attachments"][0]["sha256"]
    assert office.get(f"/topics/{other}/attachments/{sha256}").status_code == 200
    assert unit.get(f"/topics/{other}/attachments/{sha256}").status_code == 404
    idle = signed_in(unit_app, "mz")  # assigned nothing: sees nothing
    assert "本单位的道路维修" not in idle.get("/topics").get_data(as_text=True)
    member = signed_in(unit_app, "li")  # members read every topic, as before
    assert "别家的学校搬迁" in member.get("/topics").get_data(as_text=True)
