"""The activities API: status codes and error bodies, roles (online opinions by members and the public),
materials, the calendar, and every route in the OpenAPI document."""

from __future__ import annotations

from icalendar import Calendar

from .conftest import FUTURE, act, basic, create, determined_topic, expect_error, ok, planned, rows, snapshot, topic_of


def test_plan_show_and_list(client):
    topic = determined_topic(client)
    made = create(client, [topic])
    body = ok(made, 201)
    uid = body["activity"]["uid"]
    assert made.headers["Location"].endswith(f"/api/v1/activities/{uid}")
    shown = ok(client.get(f"/api/v1/activities/{uid}", headers=basic("li")))  # any user reads
    assert shown["topics"] == [topic] and shown["status"] == "planned" and shown["window_open"] is False
    listed = ok(client.get("/api/v1/activities", headers=basic("zhang")))
    assert [a["uid"] for a in listed["activities"]] == [uid] and listed["next_cursor"] is None
    expect_error(client.get("/api/v1/activities/x:y", headers=basic("wang")), 404, "not_found", "no activity")
    expect_error(client.get("/api/v1/activities?status=maybe", headers=basic("wang")), 400, "invalid_input", "statuses")


def test_bad_input_is_refused_naming_it_and_nothing_is_stored(app, client):
    topic = determined_topic(client)
    before = rows(app)
    expect_error(create(client, [topic], form="tea_party"), 400, "invalid_input", "unknown consultation form")
    expect_error(create(client, [topic], user="li"), 403, "forbidden")
    expect_error(client.post("/api/v1/activities", json={"title": "x"}, headers=basic("wang")), 400, "invalid_input",
                 "missing field")
    assert rows(app) == before


def test_attendance_for_a_person_not_invited_is_refused(app, client):
    uid, _ = planned(client)
    ok(act(client, uid, "invite", kind="member", member_no="J001"))
    before = snapshot(client, uid)
    expect_error(act(client, uid, "attend", present=["J001", "路人甲"]), 400, "invalid_input", "路人甲 was not invited")
    assert snapshot(client, uid) == before
    expect_error(act(client, uid, "dance"), 400, "invalid_input", "unknown action 'dance'")


def test_online_opinions_by_members_and_the_public_within_the_window(app, client):
    uid, _ = planned(client)
    post = lambda user, text="修路要快": client.post(f"/api/v1/activities/{uid}/opinions", json={"text": text},  # noqa: E731
                                                     headers=basic(user))
    before = rows(app)
    expect_error(post("li"), 400, "invalid_input", "no online window")
    assert rows(app) == before
    ok(act(client, uid, "open_window", closes=FUTURE))
    assert ok(post("li"), 201)["opinion"]["speaker"] == "李强"
    assert ok(post("zhang", "同意"), 201)["opinion"]["kind"] == "online"
    expect_error(post("wang"), 403, "forbidden")  # office staff record speeches, not online opinions
    ok(act(client, uid, "close_window"))
    before = rows(app)
    expect_error(post("zhang", "晚了"), 400, "invalid_input", "is not open now")
    assert rows(app) == before
    shown = snapshot(client, uid)
    assert shown["counts"]["by_kind"]["online"] == 2
    assert shown["opinions"][0]["member_id"] == 1


def test_the_whole_activity_closes_on_the_topic_loop(client):
    uid, topic = planned(client)
    ok(act(client, uid, "invite", kind="member", member_no="J001"))
    ok(act(client, uid, "invite", kind="public", name="村民代表张某"))
    invitation = snapshot(client, uid)["invitations"][1]["id"]
    ok(act(client, uid, "reply", invitation=invitation, reply="leave", reason="农忙"))
    ok(act(client, uid, "research", who="提案委员会", place="两镇沿线", date="2026-05-20", findings="路面破损"))
    assert topic_of(client, topic)["stage"] == "researching"
    ok(act(client, uid, "attend", present=["李强"]))
    ok(act(client, uid, "opinion", speaker="李强", member_no="J001", text="东段优先"))
    ok(act(client, uid, "consensus", text="东段优先，分两年实施"))
    expect_error(act(client, uid, "close"), 409, "conflict", "no approved minutes")
    ok(act(client, uid, "minutes", text="纪要", approved_by="主席会议"))
    closed = ok(act(client, uid, "close"))
    assert closed["activity"]["status"] == "closed"
    assert closed["participation"] == [{"member_id": 1, "name": "李强", "invited": True, "reply": "pending",
                                        "attended": True, "opinions": 1}]
    shown = topic_of(client, topic)
    assert shown["stage"] == "consulting" and shown["events"][-1]["action"] == "consulted"
    expect_error(act(client, uid, "cancel", reason="x"), 409, "conflict", "is closed")


def test_materials_upload_and_download(app, client):
    uid, _ = planned(client)
    sent = client.post(f"/api/v1/activities/{uid}/materials?name=议程.txt", data="议程".encode(),
                       headers={**basic("wang"), "Content-Type": "application/octet-stream"})
    material = ok(sent, 201)["material"]
    got = client.get(f"/api/v1/activities/{uid}/materials/{material['sha256']}", headers=basic("li"))
    assert got.status_code == 200 and got.data == "议程".encode()
    expect_error(client.get(f"/api/v1/activities/{uid}/materials/{'0' * 64}", headers=basic("li")), 404, "not_found")
    expect_error(client.post(f"/api/v1/activities/{uid}/materials?name=a.txt", data=b"x",
                             headers={**basic("li"), "Content-Type": "application/octet-stream"}), 403, "forbidden")


def test_the_calendar(client):
    uid, _ = planned(client)
    answer = client.get("/api/v1/activities.ics", headers=basic("li"))
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    assert [str(e["uid"]) for e in Calendar.from_ical(answer.data).walk("VEVENT")] == [f"{uid}@shangliang"]
    assert client.get("/api/v1/activities.ics").status_code == 401


def test_every_activity_route_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    expected = {"/api/v1/activities": {"get", "post"}, "/api/v1/activities/{uid}": {"get"},
                "/api/v1/activities/{uid}/actions": {"post"}, "/api/v1/activities/{uid}/opinions": {"post"},
                "/api/v1/activities/{uid}/materials": {"post"},
                "/api/v1/activities/{uid}/materials/{sha256}": {"get"}, "/api/v1/activities.ics": {"get"}}
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
    assert "409" in paths["/api/v1/activities/{uid}/actions"]["post"]["responses"]
    names = set(doc["components"]["schemas"])
    assert {"ActivityActed", "ActivityDetail", "ActivityInviteAction", "ActivityOnlineOpinionIn"} <= names
