"""The duty API: a member's record (the member's own, the office's any; another member 403), the node-wide
assessment table (the office's), an item recorded by hand (400 without evidence, nothing stored), a report to a
higher committee refused without a parent, reminders; every route in the OpenAPI document."""

from __future__ import annotations

from .conftest import YEAR, basic, duty_rows, plenary_and_speech, proposal


def test_a_members_record_by_id_or_number(client, app):
    plenary_and_speech(app)
    proposal(app)
    answer = client.get(f"/api/v1/members/J001/duty?year={YEAR}", headers=basic("li"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["member"]["name"] == "李强" and body["counts"] == {"attendance": 1, "proposal": 1, "speech": 1}
    assert body["assessment"]["standing"] == "no_rules"
    mid = body["member"]["id"]
    assert client.get(f"/api/v1/members/{mid}/duty?year={YEAR}", headers=basic("wang")).get_json() == body


def test_a_member_may_not_read_anothers_record_nor_the_table(client):
    answer = client.get("/api/v1/members/J002/duty", headers=basic("li"))
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/duty", headers=basic("li")).status_code == 403
    assert client.get("/api/v1/members/J001/duty", headers=basic("zhang")).status_code == 403
    assert client.get("/api/v1/members/J999/duty", headers=basic("wang")).status_code == 404
    assert client.get("/api/v1/members/J001/duty?year=1800", headers=basic("wang")).status_code == 400


def test_the_assessment_table(client):
    answer = client.get(f"/api/v1/duty?year={YEAR}", headers=basic("wang"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["year"] == YEAR and len(body["members"]) == 3 and body["rules"] == []


def test_an_item_by_hand_needs_evidence(client, app):
    item = {"member": "J002", "kind": "good_deed", "title": "资助困难学生", "date": f"{YEAR}-03-01"}
    refused = client.post("/api/v1/duty/items", json=item, headers=basic("wang"))
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "evidence"
    assert duty_rows(app) == 0
    assert client.post("/api/v1/duty/items", json={**item, "evidence": "x"}, headers=basic("li")).status_code == 403
    assert duty_rows(app) == 0
    made = client.post("/api/v1/duty/items", json={**item, "evidence": "学校回执"}, headers=basic("wang"))
    assert made.status_code == 201 and made.get_json()["item"]["evidence"]["text"] == "学校回执"
    record = client.get(f"/api/v1/members/J002/duty?year={YEAR}", headers=basic("fang")).get_json()
    assert [i["kind"] for i in record["items"]] == ["good_deed"] and record["items"][0]["source"] == "duty"


def test_a_report_needs_a_parent(client, app):
    body = {"target": "6203", "member_no": "S001", "name": "赵敏",
            "items": [{"kind": "research", "title": "乡村调研", "date": f"{YEAR}-05-01"}]}
    refused = client.post("/api/v1/duty/reports", json=body, headers=basic("wang"))
    assert refused.status_code == 400 and "parent" in refused.get_json()["error"]["message"]


def test_reminders(client):
    answer = client.post("/api/v1/duty/reminders", json={"year": YEAR}, headers=basic("wang"))
    assert answer.status_code == 200 and answer.get_json()["reminded"] == []


def test_the_duty_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/duty", "/api/v1/duty/items", "/api/v1/duty/reports", "/api/v1/duty/reminders",
                 "/api/v1/members/{ref}/duty"):
        assert path in paths, path
