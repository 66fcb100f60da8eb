"""Similar matters on one node (the county): the same drainage complaint in different words from two townships
is suggested as one matter with the reasons; unrelated topics are not; merge, keep separate, dismiss; a merge
that would pull in a topic not held here is refused by name and nothing is merged; the merged matter's result
reaches every original."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from shangliang.core.context import node_context
from shangliang.core.db import get_session, transaction

from ..conftest import invoke
from .conftest import (BOOKS, DRAIN_1, DRAIN_2, LIGHTS, T1, T2, basic, expect_error, ok, raise_topic,
                       suggestions)


def walk_to_feedback(client, uid):
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        ok(client.post(f"/api/v1/topics/{uid}/actions", json={"action": "advance", "to_stage": stage},
                       headers=basic("wang")))


def test_the_same_complaint_in_different_words_is_suggested_and_unrelated_ones_are_not(client):
    a = raise_topic(client, DRAIN_1, T1)
    raise_topic(client, LIGHTS, T2)
    raise_topic(client, BOOKS, T2)
    assert suggestions(client) == []  # nothing similar yet: the street lights and the books are other matters
    b = raise_topic(client, DRAIN_2, T2)
    found = suggestions(client)
    assert len(found) == 1
    s = found[0]
    assert s["state"] == "open" and s["primary"] is None
    assert [t["uid"] for t in s["topics"]] == [a["uid"], b["uid"]]
    first, second = s["topics"]
    # the reasons: which topics, which areas, how similar, the keywords they share
    assert first["areas"] == [T1] and second["areas"] == [T2]
    assert second["matched"] == a["uid"] and second["score"] >= 55 and s["score"] == second["score"]
    assert {"排水沟", "积水", "疏通"} <= set(second["shared"])
    # the same topics are not suggested twice
    assert len(suggestions(client)) == 1


def test_a_listing_indexes_at_most_its_share_the_oldest_first(client, app, monkeypatch):
    from shangliang.core.similar import services
    from shangliang.core.similar.models import SimilarIndexed
    monkeypatch.setattr(services, "LISTING_INDEX", 1)
    a = raise_topic(client, DRAIN_1, T1)
    b = raise_topic(client, DRAIN_2, T2)
    assert suggestions(client) == []  # the first only: nothing to match it with yet
    with app.app_context():
        assert get_session().execute(select(func.count()).select_from(SimilarIndexed)).scalar_one() == 1
    found = suggestions(client)  # the next listing indexes the second, which matches the first
    assert [t["uid"] for t in found[0]["topics"]] == [a["uid"], b["uid"]]


def test_topics_from_the_same_place_are_not_grouped(client):
    raise_topic(client, DRAIN_1, T1)
    raise_topic(client, DRAIN_2, T1)  # the same township, the same sender: one place
    assert suggestions(client) == []


def test_a_third_similar_topic_joins_the_open_suggestion(client):
    a = raise_topic(client, DRAIN_1, T1)
    b = raise_topic(client, DRAIN_2, T2)
    c = raise_topic(client, {"title": "排水沟堵塞导致雨天积水", "description": "城关社区排水沟堵塞，下雨积水，请求疏通。"},
                    "620302003")
    found = suggestions(client)
    assert len(found) == 1 and [t["uid"] for t in found[0]["topics"]] == [a["uid"], b["uid"], c["uid"]]


def test_merge_then_the_result_reaches_every_original(client, app):
    a = raise_topic(client, DRAIN_1, T1)
    b = raise_topic(client, DRAIN_2, T2)
    sid = suggestions(client)[0]["id"]
    merged = ok(client.post(f"/api/v1/similar/{sid}/merge", json={"note": "同一排水问题"}, headers=basic("wang")))
    assert merged["suggestion"]["state"] == "merged" and merged["suggestion"]["primary"] == a["uid"]
    assert suggestions(client) == [] and len(suggestions(client, "merged")) == 1
    original = ok(client.get(f"/api/v1/topics/{b['uid']}", headers=basic("wang")))
    assert original["events"][-1]["action"] == "merged" and a["uid"] in original["events"][-1]["note"]
    # the topic page shows the merged matter on both topics
    client.post("/login", data={"username": "wang", "password": "correct-horse"})
    page = client.get(f"/topics/{b['uid']}")
    assert page.status_code == 200 and 'id="merged-matter"' in page.get_data(as_text=True)
    assert a["uid"] in page.get_data(as_text=True)
    # the original moves only with the merged matter
    refused = client.post(f"/api/v1/topics/{b['uid']}/actions", json={"action": "advance", "to_stage": "determined"},
                          headers=basic("wang"))
    expect_error(refused, 400, "invalid_input", f"merged into {a['uid']}")
    # a decided suggestion is decided
    expect_error(client.post(f"/api/v1/similar/{sid}/dismiss", json={}, headers=basic("wang")), 409, "conflict",
                 "already decided")
    # the merged matter is consulted; its result closes every original with it
    walk_to_feedback(client, a["uid"])
    ok(client.post(f"/api/v1/topics/{a['uid']}/actions",
                   json={"action": "result", "kind": "协商意见", "title": "排水沟清淤纳入汛前计划",
                         "summary": "区住建局汛前完成两镇排水沟清淤", "measures": ["五月底前完成清淤"],
                         "handling_units": ["区住建局"]}, headers=basic("wang")))
    for uid in (a["uid"], b["uid"]):
        shown = ok(client.get(f"/api/v1/topics/{uid}", headers=basic("wang")))
        assert shown["stage"] == "closed" and shown["result"]["title"] == "排水沟清淤纳入汛前计划"
    shown = ok(client.get(f"/api/v1/topics/{b['uid']}", headers=basic("wang")))
    assert shown["events"][-1]["action"] == "result" and a["uid"] in shown["events"][-1]["note"]


def test_keep_separate_and_dismiss(client):
    raise_topic(client, DRAIN_1, T1)
    raise_topic(client, DRAIN_2, T2)
    sid = suggestions(client)[0]["id"]
    kept = ok(client.post(f"/api/v1/similar/{sid}/separate", json={"note": "两处情况不同"}, headers=basic("wang")))
    assert kept["suggestion"]["state"] == "separate" and kept["suggestion"]["note"] == "两处情况不同"
    assert kept["suggestion"]["decided_by"] == "api:wang"
    assert suggestions(client) == []
    # a new similar topic from a third place opens a new suggestion, which can be dismissed
    raise_topic(client, {"title": "排水沟堵塞导致雨天积水", "description": "城关社区排水沟堵塞，下雨积水，请求疏通。"},
                "620302003")
    found = suggestions(client)
    assert len(found) == 1 and found[0]["id"] != sid
    gone = ok(client.post(f"/api/v1/similar/{found[0]['id']}/dismiss", json={}, headers=basic("wang")))
    assert gone["suggestion"]["state"] == "dismissed"
    assert {s["state"] for s in suggestions(client, "all")} == {"separate", "dismissed"}


def test_a_merge_naming_a_topic_not_held_here_is_refused_and_nothing_is_merged(client, app):
    from shangliang.core.similar.models import SimilarMerged
    from shangliang.core.topics.models import Topic

    a = raise_topic(client, DRAIN_1, T1)
    b = raise_topic(client, DRAIN_2, T2)
    sid = suggestions(client)[0]["id"]
    with app.app_context(), transaction("test") as session:  # the second topic has been sent on meanwhile
        topic = session.execute(select(Topic).where(Topic.uid == b["uid"])).scalar_one()
        topic.holder = "6203"
    error = expect_error(client.post(f"/api/v1/similar/{sid}/merge", json={}, headers=basic("wang")), 409,
                         "conflict", b["uid"], "not by this node")
    assert "only topics held here" in error["message"]
    with app.app_context():
        session = get_session()
        assert session.scalar(select(func.count()).select_from(SimilarMerged)) == 0
    assert suggestions(client)[0]["state"] == "open"
    shown = ok(client.get(f"/api/v1/topics/{a['uid']}", headers=basic("wang")))
    assert [e["action"] for e in shown["events"]] == ["raised"]
    # a topic this node does not know, and a primary outside the merge
    expect_error(client.post(f"/api/v1/similar/{sid}/merge", json={"topics": [a["uid"], "620302001:nope"]},
                             headers=basic("wang")), 404, "not_found")
    expect_error(client.post(f"/api/v1/similar/{sid}/merge", json={"topics": [a["uid"]]}, headers=basic("wang")),
                 400, "invalid_input", "at least two")
    expect_error(client.post("/api/v1/similar/999999/merge", json={}, headers=basic("wang")), 404, "not_found")


def test_only_the_office_decides(client):
    raise_topic(client, DRAIN_1, T1)
    raise_topic(client, DRAIN_2, T2)
    sid = suggestions(client)[0]["id"]
    assert client.get("/api/v1/similar", headers=basic("li")).status_code == 403
    assert client.post(f"/api/v1/similar/{sid}/merge", json={}, headers=basic("zhang")).status_code == 403
    assert suggestions(client)[0]["state"] == "open"


def test_the_page_and_its_buttons(client):
    a = raise_topic(client, DRAIN_1, T1)
    raise_topic(client, DRAIN_2, T2)
    client.post("/login", data={"username": "wang", "password": "correct-horse"})
    page = client.get("/similar")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert DRAIN_1["title"] in text and DRAIN_2["title"] in text and "排水沟" in text
    sid = suggestions(client)[0]["id"]
    done = client.post(f"/similar/{sid}/decide", data={"decision": "merge", "primary": a["uid"]})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/topics/{a['uid']}")
    assert suggestions(client, "merged")[0]["primary"] == a["uid"]


def test_the_command_line(county, runner):
    from shangliang.core.app import create_app

    for text, area in ((DRAIN_1, T1), (DRAIN_2, T2)):
        result = invoke(runner, county, "topics", "add", "--title", text["title"], "--description",
                        text["description"], "--category", "城乡建设", "--area", area, "--raised-by-kind", "public",
                        "--raised-by-name", "村民")
        assert result.exit_code == 0, result.output
    listed = invoke(runner, county, "similar", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert len(rows) == 1 and len(rows[0]["topics"]) == 2
    text = invoke(runner, county, "similar", "list").output
    assert "suggestion" in text and "排水沟" in text
    refused = invoke(runner, county, "similar", "merge", str(rows[0]["id"]), "--primary", "620302:none")
    assert refused.exit_code != 0 and "not among the topics merged" in refused.output
    merged = invoke(runner, county, "similar", "merge", str(rows[0]["id"]))
    assert merged.exit_code == 0 and "merged into" in merged.output
    again = invoke(runner, county, "similar", "separate", str(rows[0]["id"]))
    assert again.exit_code != 0 and "already decided" in again.output
    app = create_app(county)
    with app.app_context():
        from shangliang.core.similar import services

        assert services.list_suggestions(get_session(), node_context(), "merged")[0].primary_id is not None
    app.extensions["shangliang.db"].engine.dispose()
