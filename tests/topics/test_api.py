"""The topics JSON API on one node: parsing, status codes and the error body; who may write."""

from __future__ import annotations

import json
import re

import pytest

from shangliang.core.app import create_app

from .conftest import (
    PASSWORD,
    ROAD,
    TOWNSHIP,
    act,
    attachment_rows,
    basic,
    counts,
    create,
    expect_error,
    make_app,
    upload,
)


# -- the API: happy paths ------------------------------------------------------------------------------------


def test_api_create_list_show_and_advance(client):
    created = create(client)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    uid = body["topic"]["uid"]
    assert uid.startswith(f"{TOWNSHIP}:") and created.headers["Location"].endswith(f"/api/v1/topics/{uid}")
    assert body["topic"]["stage"] == "collected" and body["topic"]["holder"] == TOWNSHIP
    assert [e["action"] for e in body["topic"]["events"]] == ["raised"]
    assert body["topic"]["events"][0]["actor"] == "api:wang"
    assert body["suggestion"]["action"] == "escalate" and body["suggestion"]["to"] == "620302"
    assert body["suggestion"]["belongs_to"] == "620302" and body["suggestion"]["reason"]

    listed = client.get("/api/v1/topics", headers=basic("li"))  # any user reads
    assert listed.status_code == 200 and [t["uid"] for t in listed.get_json()["topics"]] == [uid]
    assert client.get("/api/v1/topics?stage=collected", headers=basic("li")).get_json()["topics"][0]["uid"] == uid
    assert client.get("/api/v1/topics?stage=determined", headers=basic("li")).get_json()["topics"] == []
    assert client.get("/api/v1/topics?holder=620302", headers=basic("li")).get_json()["topics"] == []

    shown = client.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert shown["title"] == ROAD["title"] and shown["areas"] == ROAD["areas"]
    assert shown["suggestion"]["action"] == "escalate"
    assert shown["route"] == [] and shown["route_verified"] is True

    advanced = act(client, uid, "advance", to_stage="determined", note="联席会议确定")
    assert advanced.status_code == 200, advanced.get_data(as_text=True)
    assert advanced.get_json()["topic"]["stage"] == "determined" and advanced.get_json()["sent"] is None
    events = client.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()["events"]
    assert (events[-1]["to_stage"], events[-1]["note"], events[-1]["actor"]) == ("determined", "联席会议确定", "api:wang")


def test_api_result_closes_the_topic(client):
    uid = create(client, areas=[TOWNSHIP]).get_json()["topic"]["uid"]
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        assert act(client, uid, "advance", to_stage=stage).status_code == 200
    early = act(client, uid, "advance", to_stage="feedback")
    expect_error(early, 409, "conflict", "already feedback")
    result = act(client, uid, "result", kind="协商意见", title="道路维修纳入年度计划", summary="镇政府列入计划",
                 measures=["三月底前完成勘测"], handling_units=["镇政府"])
    assert result.status_code == 200, result.get_data(as_text=True)
    topic = result.get_json()["topic"]
    assert topic["stage"] == "closed" and topic["closed_ms"]
    assert topic["result"] == {"kind": "协商意见", "title": "道路维修纳入年度计划", "summary": "镇政府列入计划",
                               "measures": ["三月底前完成勘测"], "handling_units": ["镇政府"]}


# -- the API: errors ---------------------------------------------------------------------------------------


def test_api_needs_a_user(client):
    error = client.get("/api/v1/topics")
    expect_error(error, 401, "unauthenticated", "HTTP Basic")
    assert error.headers["WWW-Authenticate"].startswith("Basic")
    expect_error(client.get("/api/v1/topics", headers=basic("wang", "wrong-horse")), 401, "unauthenticated",
                 "wrong user name or password")
    expect_error(client.get("/api/v1/topics", headers=basic("nobody")), 401, "unauthenticated")
    expect_error(client.get("/api/v1/topics", headers={"Authorization": "Bearer abc"}), 401, "unauthenticated",
                 "only HTTP Basic")
    expect_error(client.post("/api/v1/topics", json=ROAD), 401, "unauthenticated")


def test_a_read_only_role_cannot_write(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    before = counts(app)
    # li is a member not linked to a member: raises nothing (tests/topics/test_raisers.py: a linked member does)
    expect_error(create(client, user="li"), 403, "forbidden", "not linked to a member")
    expect_error(act(client, uid, "advance", user="li", to_stage="determined"), 403, "forbidden")
    assert counts(app) == before
    assert client.get(f"/api/v1/topics/{uid}", headers=basic("li")).status_code == 200


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({k: v for k, v in ROAD.items() if k != "title"}, "title", "missing field: title"),
        ({k: v for k, v in ROAD.items() if k != "areas"}, "areas", "missing field: areas"),
        ({**ROAD, "areas": "620302001"}, "areas", "areas must be a list"),
        ({**ROAD, "areas": []}, "areas", "areas is empty"),
        ({**ROAD, "category": 7}, "category", "category must be text"),
        ({**ROAD, "title": "  "}, None, "title is empty"),
        ({**ROAD, "areas": ["6203021"]}, "areas", "7 digits"),
        ({**ROAD, "areas": ["320703"]}, None, "outside this node's province"),
        ({**ROAD, "raised_by_kind": "alien"}, None, "raised-by kind"),
        (["not", "an", "object"], None, "JSON object"),
    ],
)
def test_a_refused_create_stores_nothing(app, client, body, field, message):
    before = counts(app)
    error = expect_error(client.post("/api/v1/topics", json=body, headers=basic("wang")), 400, "invalid_input",
                         message)
    assert error.get("field") == field
    assert counts(app) == before


def test_malformed_json_is_invalid_input(app, client):
    before = counts(app)
    response = client.post("/api/v1/topics", data=b"{not json", headers={**basic("wang"),
                                                                          "Content-Type": "application/json"})
    expect_error(response, 400, "invalid_input", "JSON object")
    assert counts(app) == before


def test_writes_must_be_json_so_a_cross_site_form_cannot_send_one(app, client):
    before = counts(app)
    form = client.post("/api/v1/topics", data=json.dumps(ROAD), headers={**basic("wang"), "Content-Type": "text/plain"})
    expect_error(form, 415, "unsupported_media_type", "application/json")
    expect_error(client.post("/api/v1/topics", data=ROAD, headers=basic("wang")), 415, "unsupported_media_type")
    assert counts(app) == before


def test_unknown_topics_actions_and_stages(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    expect_error(client.get("/api/v1/topics/620302001:NOPE", headers=basic("li")), 404, "not_found", "no topic")
    expect_error(act(client, "620302001:NOPE", "accept"), 404, "not_found")
    expect_error(client.get("/api/v1/topics?stage=dreaming", headers=basic("li")), 400, "invalid_input",
                 "unknown stage")
    before = counts(app)
    expect_error(act(client, uid, "teleport"), 400, "invalid_input", "unknown action", field="action")
    expect_error(client.post(f"/api/v1/topics/{uid}/actions", json={"to_stage": "determined"}, headers=basic("wang")),
                 400, "invalid_input", "missing field: action", field="action")
    expect_error(act(client, uid, "advance"), 400, "invalid_input", "missing field: to_stage", field="to_stage")
    expect_error(act(client, uid, "advance", to_stage="consulting"), 400, "invalid_input",
                 "the next stage is determined")
    expect_error(act(client, uid, "result", title="x", summary="y"), 409, "conflict", "feedback stage")
    expect_error(act(client, uid, "result", title="x", summary="y", measures="not a list"), 400, "invalid_input",
                 field="measures")
    expect_error(act(client, uid, "accept"), 409, "conflict", "already accepted")
    expect_error(act(client, uid, "return", reason="不属于本级"), 400, "invalid_input", "raised here")
    assert counts(app) == before


def test_actions_that_need_a_peer_are_refused_clearly(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    before = counts(app)
    expect_error(act(client, uid, "escalate", note="跨乡镇事项"), 400, "invalid_input", "620302 is not a peer")
    expect_error(act(client, uid, "escalate"), 400, "invalid_input", "missing field: note", field="note")
    expect_error(act(client, uid, "delegate", to="620302001001", instructions="请村里协商"), 400, "invalid_input",
                 "not a peer")
    assert counts(app) == before
    topic = client.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert topic["holder"] == TOWNSHIP and topic["awaiting_acceptance"] is False


def test_a_delegation_due_date_is_read_on_the_node_calendar_and_refused_by_name(app, client):
    uid = create(client).get_json()["topic"]["uid"]
    before = counts(app)
    expect_error(act(client, uid, "delegate", to="620302001001", instructions="请村里协商", due="soon"), 400,
                 "invalid_input", "due date 'soon' is not understood")
    expect_error(act(client, uid, "delegate", to="620302001001", instructions="请村里协商", due="2020-01-01"), 400,
                 "invalid_input", "2020-01-01 has passed")
    # A date the calendar accepts gets as far as the peer check.
    expect_error(act(client, uid, "delegate", to="620302001001", instructions="请村里协商", due="+3"), 400,
                 "invalid_input", "not a peer")
    assert counts(app) == before


def test_session_writes_need_the_csrf_token_and_basic_does_not(township):
    app = make_app(township, csrf=True)
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    signed_in = client.post("/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    before = counts(app)
    expect_error(client.post("/api/v1/topics", json=ROAD), 403, "forbidden", "X-CSRFToken")
    assert counts(app) == before
    with_token = client.post("/api/v1/topics", json=ROAD, headers={"X-CSRFToken": token})
    assert with_token.status_code == 201, with_token.get_data(as_text=True)
    assert client.get("/api/v1/topics").status_code == 200  # reading needs no token
    script = app.test_client()  # no cookie, no token: HTTP Basic alone
    assert script.post("/api/v1/topics", json=ROAD, headers=basic("wang")).status_code == 201
    app.extensions["shangliang.db"].engine.dispose()


# -- attachments -----------------------------------------------------------------------------------------------


def test_a_file_is_attached_kept_under_its_hash_and_downloaded(app, client, township):
    import hashlib

    uid = create(client).get_json()["topic"]["uid"]
    letter = "宁远堡镇、双湾镇群众联名信:道路坑洼,雨天无法通行。".encode()
    added = upload(client, uid, "联名信.txt", letter)
    assert added.status_code == 201, added.get_data(as_text=True)
    digest = hashlib.sha256(letter).hexdigest()
    assert added.get_json()["attachment"] == {"name": "联名信.txt", "size": len(letter), "sha256": digest,
                                              "travels": True}
    assert (township / "attachments" / digest[:2] / digest).read_bytes() == letter

    shown = client.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert shown["attachments"] == [{"name": "联名信.txt", "size": len(letter), "sha256": digest, "kept_here": True}]
    assert shown["events"][-1]["action"] == "attached" and digest in shown["events"][-1]["note"]
    download = client.get(f"/api/v1/topics/{uid}/attachments/{digest}", headers=basic("li"))
    assert download.status_code == 200 and download.data == letter
    assert "attachment" in download.headers["Content-Disposition"]


def test_bad_attachments_are_refused_and_nothing_is_stored(app, client, township):
    uid = create(client).get_json()["topic"]["uid"]
    assert upload(client, uid, "a.txt", b"first").status_code == 201
    before, files = counts(app), sorted((township / "attachments").rglob("*"))
    rows = attachment_rows(app)
    expect_error(upload(client, uid, "again.txt", b"first"), 400, "invalid_input", "already attached", "as a.txt")
    expect_error(upload(client, uid, "empty.txt", b""), 400, "invalid_input", "empty")
    expect_error(upload(client, uid, "", b"x"), 400, "invalid_input", "name", field="name")
    expect_error(upload(client, uid, "bad\x07name.txt", b"x"), 400, "invalid_input", "control characters")
    expect_error(upload(client, uid, "b.txt", b"x", content_type="multipart/form-data"), 415,
                 "unsupported_media_type", "application/octet-stream")
    expect_error(upload(client, uid, "b.txt", b"x", user="li"), 403, "forbidden")
    expect_error(upload(client, "620302001:NOPE", "b.txt", b"x"), 404, "not_found")
    expect_error(client.get(f"/api/v1/topics/{uid}/attachments/{'0' * 64}", headers=basic("li")), 404, "not_found",
                 "no attachment")
    assert counts(app) == before and attachment_rows(app) == rows
    assert sorted((township / "attachments").rglob("*")) == files


def test_an_attachment_over_the_limit_is_refused_before_it_is_stored(township):
    app = create_app(township, test_config={"WTF_CSRF_ENABLED": False, "TOPICS_ATTACHMENT_MAX_BYTES": 10})
    client = app.test_client()
    uid = create(client).get_json()["topic"]["uid"]
    expect_error(upload(client, uid, "big.bin", b"x" * 11), 400, "invalid_input", "at most 10")
    assert upload(client, uid, "small.bin", b"x" * 10).status_code == 201
    assert attachment_rows(app) == 1
    app.extensions["shangliang.db"].engine.dispose()
