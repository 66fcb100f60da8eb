"""Proposals across levels on one node: the proposer's consent, forwarding's refusals (no consent, no parent,
forwarded already, read-only after), the routing suggestion from the areas, a proposal made from a closed
topic's result with the link shown both ways, and a not-filed proposal's social-opinion intent."""

from __future__ import annotations

from sqlalchemy import func, select

from shangliang.core.db import get_session

from ..conftest import invoke
from .conftest import basic, expect_error, ok, post, rows, submitted

TOPIC = {"title": "两镇之间道路维修", "description": "连接两镇的道路破损严重", "category": "交通",
         "areas": ["620302001", "620302002"], "raised_by_kind": "public", "raised_by_name": "村民代表"}


def _outbox(app) -> int:
    from shangliang.federation.models import OutboxMessage

    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(OutboxMessage))


def _pair_parent(county, runner) -> None:
    from shangliang.federation.signing import b64u_encode, public_from_seed

    result = invoke(runner, county, "peers", "add", "6203", "http://127.0.0.1:9",
                    f"ed25519:parent:{b64u_encode(public_from_seed(bytes(range(1, 33))))}")
    assert result.exit_code == 0, result.output


def test_consent_is_the_proposers_or_the_offices_record_of_it(client, app):
    p = submitted(client)
    before = rows(app)
    expect_error(post(client, f"/{p['id']}/consent", {}, "fang"), 403, "forbidden", "proposer")
    expect_error(post(client, f"/{p['id']}/consent", {}), 400, "invalid_input", "written consent")
    assert rows(app)["proposals"] == before["proposals"]
    shown = ok(post(client, f"/{p['id']}/consent", {}, "li"))["proposal"]
    assert shown["consent"]["by"] == "api:li" and shown["consent"]["note"] is None
    expect_error(post(client, f"/{p['id']}/consent", {}, "li"), 409, "conflict", "already")
    q = submitted(client)
    recorded = ok(post(client, f"/{q['id']}/consent", {"note": "书面同意书存档"}))["proposal"]
    assert recorded["consent"] == {"by": "api:wang", "note": "书面同意书存档", "at_ms": recorded["consent"]["at_ms"]}


def test_forwarding_is_refused_without_consent_without_a_parent_and_twice(client, app, county, runner):
    p = submitted(client, areas=["620302001", "620321"])
    assert p["areas"] == ["620302001", "620321"]
    sent_before = _outbox(app)
    expect_error(post(client, f"/{p['id']}/forward", {}), 409, "conflict", "consent")
    ok(post(client, f"/{p['id']}/consent", {}, "li"))
    expect_error(post(client, f"/{p['id']}/forward", {}, "li"), 403, "forbidden")
    expect_error(post(client, f"/{p['id']}/forward", {}), 400, "invalid_input", "no parent")
    expect_error(post(client, f"/{p['id']}/forward", {"areas": ["62030"]}), 400, "invalid_input", "division code")
    assert _outbox(app) == sent_before
    assert ok(client.get(f"/api/v1/proposals/{p['id']}", headers=basic("wang")))["proposal"]["status"] == "submitted"

    _pair_parent(county, runner)
    answer = ok(post(client, f"/{p['id']}/forward", {"note": "请市政协审查"}))
    assert answer["proposal"]["status"] == "forwarded" and answer["sent"]["to"] == "6203"
    assert answer["sent"]["kind"] == "x-proposals.forward"
    assert answer["route"] == {"belongs_to": "6203", "action": "escalate", "to": "6203",
                               "reason": answer["route"]["reason"]}
    assert answer["proposal"]["upstream"]["node"] == "6203" and answer["proposal"]["upstream"]["events"] == []
    assert _outbox(app) == sent_before + 1
    expect_error(post(client, f"/{p['id']}/forward", {}), 409, "conflict", "already")
    # read-only here
    expect_error(post(client, f"/{p['id']}/review", {"decision": "filed"}), 409, "conflict", "forwarded")
    # the proposer rates only once the parent's lead unit has replied
    from .conftest import SATISFIED

    expect_error(post(client, f"/{p['id']}/ratings", SATISFIED, "li"), 409, "conflict", "not yet answered")
    client.post("/login", data={"username": "wang", "password": "correct-horse"})
    page = client.get(f"/proposals/{p['id']}").get_data(as_text=True)
    assert "6203" in page and "620321" in page and "/forward\"" not in page  # no forward form any more
    client.get("/logout")
    assert _outbox(app) == sent_before + 1
    # a proposal not held here
    expect_error(post(client, "/99999/forward", {}), 404, "not_found")


def _closed_topic(client) -> str:
    uid = ok(client.post("/api/v1/topics", json=TOPIC, headers=basic("wang")), 201)["topic"]["uid"]
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        ok(client.post(f"/api/v1/topics/{uid}/actions", json={"action": "advance", "to_stage": stage},
                       headers=basic("wang")))
    ok(client.post(f"/api/v1/topics/{uid}/actions", headers=basic("wang"), json={
        "action": "result", "kind": "协商意见", "title": "道路维修纳入年度计划", "summary": "镇政府列入计划",
        "measures": ["三月底前完成勘测", "六月底前开工"], "handling_units": ["镇政府"]}))
    return uid


def test_a_closed_topics_result_becomes_a_proposal_keeping_the_link(client, app):
    uid = _closed_topic(client)
    made = ok(client.post("/api/v1/proposals/from-topic", headers=basic("wang"), json={
        "topic": uid, "term": 12, "session": 1, "year": 2027, "proposer": "J001"}), 201)["proposal"]
    assert made["source_topic"] == uid and made["title"] == "道路维修纳入年度计划"
    assert made["suggestions"] == "1. 三月底前完成勘测\n2. 六月底前开工"
    assert "连接两镇的道路破损严重" in made["reasons"] and "镇政府列入计划" in made["reasons"]
    assert made["category"] == "交通" and made["areas"] == ["620302001", "620302002"]
    assert made["signers"][0]["member_no"] == "J001"
    # the link both ways: the proposal's page names the topic; the topic's page lists the proposal
    client.post("/login", data={"username": "wang", "password": "correct-horse"})
    page = client.get(f"/proposals/{made['id']}").get_data(as_text=True)
    assert uid in page
    topic_page = client.get(f"/topics/{uid}").get_data(as_text=True)
    assert f"/proposals/{made['id']}" in topic_page and "道路维修纳入年度计划" in topic_page
    client.get("/logout")
    from shangliang.core.proposals import services

    with app.app_context():
        assert [p.id for p in services.from_topic_list(get_session(), uid)] == [made["id"]]
    # refusals: a member, an open topic, an unknown one — nothing stored
    before = rows(app)
    expect_error(client.post("/api/v1/proposals/from-topic", headers=basic("li"),
                             json={"topic": uid, "term": 12, "session": 1}), 403, "forbidden")
    open_uid = ok(client.post("/api/v1/topics", json=TOPIC, headers=basic("wang")), 201)["topic"]["uid"]
    expect_error(client.post("/api/v1/proposals/from-topic", headers=basic("wang"),
                             json={"topic": open_uid, "term": 12, "session": 1, "proposer": "J001"}),
                 400, "invalid_input", "closed topic")
    expect_error(client.post("/api/v1/proposals/from-topic", headers=basic("wang"),
                             json={"topic": "620302:nope", "term": 12, "session": 1, "proposer": "J001"}),
                 400, "invalid_input", "no topic")
    assert rows(app)["proposals"] == before["proposals"]


def test_a_not_filed_social_opinion_keeps_the_intent(client):
    p = submitted(client)
    done = ok(post(client, f"/{p['id']}/review", {"decision": "not_filed", "reason": "属社情民意",
                                                 "disposal": "social_opinion"}))["proposal"]
    assert done["opinion"] == {"intended": True, "ref": None}
    q = submitted(client)
    other = ok(post(client, f"/{q['id']}/review", {"decision": "not_filed", "reason": "不属提案范围",
                                                  "disposal": "letter"}))["proposal"]
    assert other["opinion"] is None and other["upstream"] is None and other["origin"] is None


def test_the_pages_offer_consent_to_the_proposer_and_forwarding_to_the_office(client, app, county, runner):
    p = submitted(client)
    client.post("/login", data={"username": "li", "password": "correct-horse"})
    page = client.get(f"/proposals/{p['id']}").get_data(as_text=True)
    assert f"/proposals/{p['id']}/consent" in page
    answer = client.post(f"/proposals/{p['id']}/consent", data={"action": "consent"})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    client.get("/logout")
    shown = ok(client.get(f"/api/v1/proposals/{p['id']}", headers=basic("wang")))["proposal"]
    assert shown["consent"]["by"] == "web:li"

    client.post("/login", data={"username": "wang", "password": "correct-horse"})
    assert f"/proposals/{p['id']}/forward" not in client.get(f"/proposals/{p['id']}").get_data(as_text=True)
    _pair_parent(county, runner)
    assert f"/proposals/{p['id']}/forward" in client.get(f"/proposals/{p['id']}").get_data(as_text=True)
    answer = client.post(f"/proposals/{p['id']}/forward", data={"action": "forward", "areas": "620302001, 620321"})
    assert answer.status_code == 303
    client.get("/logout")
    shown = ok(client.get(f"/api/v1/proposals/{p['id']}", headers=basic("wang")))["proposal"]
    assert shown["status"] == "forwarded" and shown["areas"] == ["620302001", "620321"]
