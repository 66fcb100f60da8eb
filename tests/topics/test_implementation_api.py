"""The implementation API (/api/v1/topics/<uid>/implementation, /api/v1/topics/assignments): status codes,
the error body, who may do what, and what a handling unit's user sees."""

from __future__ import annotations

from .conftest import IDLE, LEAD, OTHER, basic, expect_error, implementation_rows, implementing_topic

ASSIGN = {"assignments": [{"unit": LEAD, "role": "lead", "working_days": 10},
                          {"unit": OTHER, "role": "participating", "due": "+5"}]}


def assigned(client):
    uid = implementing_topic(client)
    answer = client.post(f"/api/v1/topics/{uid}/implementation/assignments", json=ASSIGN, headers=basic("wang"))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return uid, answer.get_json()


def file(client, uid, user, kind="final", body="道路已修复"):
    return client.post(f"/api/v1/topics/{uid}/implementation/reports", json={"kind": kind, "body": body},
                       headers=basic(user))


def test_the_office_assigns_units_and_everyone_reads_the_state(unit_app, client):
    uid, state = assigned(client)
    assert [(a["unit"], a["role"], a["state"]) for a in state["assignments"]] == [
        (LEAD, "lead", "assigned"), (OTHER, "participating", "assigned")]
    assert state["ready_for_feedback"] is False and state["waiting"]
    shown = client.get(f"/api/v1/topics/{uid}/implementation", headers=basic("li")).get_json()
    assert len(shown["assignments"]) == 2


def test_bad_assignments_answer_400_with_the_field_and_store_nothing(unit_app, client):
    uid = implementing_topic(client)
    before = implementation_rows(unit_app)
    for body, words, field in (
            ({"assignments": [{"unit": "不存在的局", "role": "lead", "working_days": 3}]}, "no handling unit", "unit"),
            ({"assignments": [{"unit": LEAD, "role": "lead", "due": "2020-01-01"}]}, "has passed", None),
            ({"assignments": [{"unit": LEAD, "role": "lead", "working_days": 3},
                              {"unit": LEAD, "role": "participating", "working_days": 3}]}, "assigned to topic", "unit"),
            ({"assignments": [{"unit": OTHER, "role": "participating", "working_days": 3}]}, "exactly one lead", "role")):
        answer = client.post(f"/api/v1/topics/{uid}/implementation/assignments", json=body, headers=basic("wang"))
        expect_error(answer, 400, "invalid_input", words, field=field)
    assert implementation_rows(unit_app) == before
    refused = client.post(f"/api/v1/topics/{uid}/implementation/assignments", json=ASSIGN, headers=basic("li"))
    expect_error(refused, 403, "forbidden")
    missing = client.post("/api/v1/topics/620302001:nothing/implementation/assignments", json=ASSIGN,
                          headers=basic("wang"))
    expect_error(missing, 404, "not_found")


def test_units_report_on_their_own_part_and_see_only_it(unit_app, client):
    uid, _ = assigned(client)
    before = implementation_rows(unit_app)
    expect_error(file(client, uid, "mz"), 400, "invalid_input", f"{IDLE} is not assigned", field="unit")
    expect_error(file(client, uid, "wang"), 403, "forbidden", "handling_unit")  # the office does not report
    expect_error(file(client, uid, "jt", kind="weekly"), 400, "invalid_input", "unknown report kind", field="kind")
    assert implementation_rows(unit_app) == before
    filed = file(client, uid, "cz", "progress", "资金已拨付")
    assert filed.status_code == 201, filed.get_data(as_text=True)
    body = filed.get_json()
    assert body["report"]["review"] == "pending" and body["report"]["unit"] == OTHER
    assert [a["unit"] for a in body["implementation"]["assignments"]] == [OTHER]
    own = client.get(f"/api/v1/topics/{uid}/implementation", headers=basic("cz")).get_json()
    assert [a["unit"] for a in own["assignments"]] == [OTHER]
    listed = client.get("/api/v1/topics/assignments", headers=basic("cz")).get_json()["assignments"]
    assert [(a["unit"], a["topic"]) for a in listed] == [(OTHER, uid)]
    assert client.get("/api/v1/topics/assignments", headers=basic("mz")).get_json()["assignments"] == []
    assert len(client.get("/api/v1/topics/assignments", headers=basic("wang")).get_json()["assignments"]) == 2


def test_review_gates_feedback(unit_app, client):
    uid, _ = assigned(client)
    report_id = file(client, uid, "jt").get_json()["report"]["id"]
    url = f"/api/v1/topics/{uid}/implementation/reports/{report_id}/review"
    expect_error(client.post(url, json={"decision": "return"}, headers=basic("wang")), 400, "invalid_input",
                 "comment is empty")
    expect_error(client.post(url, json={"decision": "accept"}, headers=basic("jt")), 403, "forbidden")
    feedback = {"action": "advance", "to_stage": "feedback"}
    expect_error(client.post(f"/api/v1/topics/{uid}/actions", json=feedback, headers=basic("wang")), 409, "conflict",
                 "final report of its lead unit")
    reviewed = client.post(url, json={"decision": "accept", "comment": "同意"}, headers=basic("wang"))
    assert reviewed.status_code == 200, reviewed.get_data(as_text=True)
    state = reviewed.get_json()
    assert state["assignments"][0]["state"] == "accepted" and state["ready_for_feedback"] is True
    expect_error(client.post(url, json={"decision": "accept"}, headers=basic("wang")), 409, "conflict", "already")
    missing = f"/api/v1/topics/{uid}/implementation/reports/999/review"
    expect_error(client.post(missing, json={"decision": "accept"}, headers=basic("wang")), 404, "not_found")
    assert client.post(f"/api/v1/topics/{uid}/actions", json=feedback, headers=basic("wang")).status_code == 200


def test_instructions_are_recorded(unit_app, client):
    uid, _ = assigned(client)
    answer = client.post(f"/api/v1/topics/{uid}/implementation/instructions",
                         json={"leader": "张区长", "body": "请抓紧办理", "date": "2026-01-05"}, headers=basic("wang"))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["instructions"][0]["leader"] == "张区长"
    expect_error(client.post(f"/api/v1/topics/{uid}/implementation/instructions",
                             json={"leader": "张区长", "body": "x", "date": "someday"}, headers=basic("wang")),
                 400, "invalid_input", "not a date", field="date")


def test_a_units_user_reads_only_the_topics_assigned_to_its_unit(unit_app, client):
    """GET /api/v1/topics lists, and /api/v1/topics/<uid>, its implementation and attachments answer, only the
    topics assigned to the user's unit; another topic is 404 not_found; the office and members see every one."""
    uid, _ = assigned(client)
    other = implementing_topic(client, title="别家的学校搬迁")
    sha256 = client.post(f"/api/v1/topics/{other}/attachments?name=letter.txt", data=b"letter",
                         headers={**basic("wang"), "Content-Type": "application/octet-stream"}
                         ).get_json()["attachment"]["sha256"]
    for user, seen in (("cz", [uid]), ("jt", [uid]), ("mz", [])):
        listed = client.get("/api/v1/topics", headers=basic(user)).get_json()["topics"]
        assert [t["uid"] for t in listed] == seen, user
        for path in (f"/api/v1/topics/{other}", f"/api/v1/topics/{other}/implementation",
                     f"/api/v1/topics/{other}/attachments/{sha256}"):
            expect_error(client.get(path, headers=basic(user)), 404, "not_found", "assigned to your unit")
    assert client.get(f"/api/v1/topics/{uid}", headers=basic("cz")).get_json()["uid"] == uid
    expect_error(client.get(f"/api/v1/topics/{uid}/implementation", headers=basic("mz")), 404, "not_found")
    for user in ("wang", "li"):
        listed = {t["uid"] for t in client.get("/api/v1/topics", headers=basic(user)).get_json()["topics"]}
        assert {uid, other} <= listed, user
        assert client.get(f"/api/v1/topics/{other}/attachments/{sha256}", headers=basic(user)).status_code == 200
