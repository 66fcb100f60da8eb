"""A higher level joins a lower one's consultation (issue 11, item 5): ``x-activities.invite``, ``.join``,
``.opinions``, ``.update``.

First three nodes in this process — township 620302001 (the host), county 620302 (the relay), city 6203
— paired with ``keys show`` / ``peers add``, the envelopes carried from one outbox to the next inbox by
hand: the whole exchange, each body check and each refusal (422 ``invalid_body`` or the federation's own
403), with nothing stored.

Then real node processes on loopback (city, county, township; a second township paired but not started),
their workers delivering over HTTP: the township invites the city through the county, the city accepts
with its participants and sends opinions, the township records them with node_id 6203, and on closing the
city sees the minutes; a join from a node that is not above the host is refused.
"""

from __future__ import annotations

import shlex
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from shangliang.core.app import create_app
from shangliang.core.db import get_session

from ..conftest import invoke
from ..nodes import wait_for
from .conftest import PASSWORD, ROAD, TOWNSHIP, act, basic, expect_error, ok, planned, rows

COUNTY, CITY, SIBLING = "620302", "6203", "620302002"
JOIN, OPINIONS, INVITE, UPDATE = "x-activities.join", "x-activities.opinions", "x-activities.invite", \
    "x-activities.update"
PEOPLE = [{"name": "市发展改革委", "kind": "department"}, {"name": "张委员", "kind": "member"}]


# -- three nodes in this process, envelopes carried by hand ----------------------------------------------------


def _pair(runner, a, b) -> None:
    for x, y in ((a, b), (b, a)):
        line = shlex.split(invoke(runner, y, "keys", "show").output)
        result = invoke(runner, x, "peers", "add", *line)
        assert result.exit_code == 0, result.output


@pytest.fixture
def levels(app, township, make_node, runner):
    """{node id: app} for the township (the conftest's, with its users), its county and its city."""
    county = make_node(node_id=COUNTY, name="金川区政协")
    city = make_node(node_id=CITY, name="金昌市政协")
    for node_dir in (county, city):
        result = invoke(runner, node_dir, "users", "add", "wang", "--role", "office", "--name", "王主任",
                        "--password-stdin", input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    _pair(runner, township, county)
    _pair(runner, county, city)
    apps = {COUNTY: create_app(county, test_config={"WTF_CSRF_ENABLED": False}),
            CITY: create_app(city, test_config={"WTF_CSRF_ENABLED": False})}
    apps[TOWNSHIP] = app
    yield apps
    for node_id in (COUNTY, CITY):
        apps[node_id].extensions["shangliang.db"].engine.dispose()


def carry(apps, source: str, target: str, kind: str, status: int = 202):
    """Deliver the source's newest outbox message of ``kind`` for ``target`` to the target's inbox."""
    from shangliang.federation.models import OutboxMessage

    with apps[source].app_context():
        row = get_session().execute(select(OutboxMessage).where(OutboxMessage.destination == target,
                                                                OutboxMessage.kind == kind)
                                    .order_by(OutboxMessage.id.desc())).scalars().first()
        assert row is not None, f"{source} sent no {kind} to {target}"
        data = row.envelope.encode()
    answer = apps[target].test_client().post("/federation/v1/inbox", data=data, content_type="application/json")
    assert answer.status_code == status, answer.get_data(as_text=True)
    return answer


def stored(app) -> dict:
    """The activity rows and the federation's inbox and outbox on a node."""
    from shangliang.federation.models import InboxTransfer, OutboxMessage

    counts = rows(app)
    with app.app_context():
        session = get_session()
        for model in (InboxTransfer, OutboxMessage):
            counts[model.__tablename__] = session.scalar(select(func.count()).select_from(model))
    return counts


def sign(app, origin: str, to: str, kind: str, body: dict, key=None) -> bytes:
    """A one-hop envelope from ``origin`` (signed with its key, or ``key``) to ``to``."""
    from shangliang.federation import canonical, envelope, hops, keys

    with app.app_context():
        key = key or keys.current(get_session(), app.config["NODE_DIR"])
    made = envelope.create(key, origin, kind, body)
    return canonical.dumps(hops.append(made, key, origin, to, "reply"))


def deliver(app, data: bytes):
    return app.test_client().post("/federation/v1/inbox", data=data, content_type="application/json")


def refused(answer, status: int, code: str, *words: str) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["code"] == code, error
    for word in words:
        assert word in error["message"], error


def remote(app, uid=None):
    client = app.test_client()
    if uid is None:
        return ok(client.get("/api/v1/activities/remote", headers=basic("wang")))["activities"]
    return ok(client.get(f"/api/v1/activities/remote/{uid}", headers=basic("wang")))


def remote_act(app, uid, **body):
    return app.test_client().post(f"/api/v1/activities/remote/{uid}/actions", json=body, headers=basic("wang"))


def test_the_city_joins_a_township_consultation_through_the_county(levels, client):
    township, county, city = levels[TOWNSHIP], levels[COUNTY], levels[CITY]
    uid, _topic = planned(client)
    invited = ok(act(client, uid, "invite_level", node_id=CITY, note="请市政协及有关部门参加"))["activity"]
    assert invited["levels"]["invited"] == [{"node_id": CITY, "note": "请市政协及有关部门参加",
                                            "at_ms": invited["levels"]["invited"][0]["at_ms"], "via": COUNTY,
                                            "delivery": "pending"}]
    carry(levels, TOWNSHIP, COUNTY, INVITE)
    assert remote(county) == []  # the county relays; it was not invited
    carry(levels, COUNTY, CITY, INVITE)
    (entry,) = remote(city)
    assert entry["uid"] == uid and entry["host"] == TOWNSHIP and entry["state"] == "invited"
    assert entry["activity"]["title"] == "第二季度协商座谈会" and entry["activity"]["topics"] == [ROAD["title"]]
    assert entry["activity"]["place"] == "镇政府三楼会议室" and entry["invitation"]["by"] == TOWNSHIP
    assert entry["invitation"]["note"] == "请市政协及有关部门参加"

    joined = ok(remote_act(city, uid, action="join", mode="accept", participants=PEOPLE, note="市里派两人参加"))
    assert joined["sent"] == {"kind": JOIN, "id": joined["sent"]["id"], "to": COUNTY, "host": TOWNSHIP}
    assert joined["activity"]["state"] == "join_sent"
    carry(levels, CITY, COUNTY, JOIN)
    carry(levels, COUNTY, TOWNSHIP, JOIN)
    shown = ok(client.get(f"/api/v1/activities/{uid}", headers=basic("wang")))
    assert [(i["kind"], i["name"], i["node_id"], i["reply"]) for i in shown["invitations"]] == [
        ("node", "市发展改革委", CITY, "attend"), ("node", "张委员", CITY, "attend")]
    assert shown["levels"]["joined"][0]["node_id"] == CITY and shown["levels"]["joined"][0]["mode"] == "accept"
    # The host's answer travels back up: the city sees its participants recorded.
    carry(levels, TOWNSHIP, COUNTY, UPDATE)
    carry(levels, COUNTY, CITY, UPDATE)
    entry = remote(city, uid)
    assert entry["state"] == "joined" and entry["status"] == "planned"
    assert [p["name"] for p in entry["participants"]] == ["市发展改革委", "张委员"]

    sent = ok(remote_act(city, uid, action="send_opinions", opinions=[
        {"speaker": "市发展改革委", "text": "建议纳入市级交通补助项目", "kind": "written"}]))
    assert sent["sent"]["kind"] == OPINIONS
    carry(levels, CITY, COUNTY, OPINIONS)
    carry(levels, COUNTY, TOWNSHIP, OPINIONS)
    shown = ok(client.get(f"/api/v1/activities/{uid}", headers=basic("wang")))
    (opinion,) = shown["opinions"]
    assert (opinion["speaker"], opinion["node_id"], opinion["posted_by"], opinion["kind"]) == (
        "市发展改革委", CITY, f"node:{CITY}", "written")

    ok(act(client, uid, "minutes", text="会议纪要:道路维修纳入市级补助", approved_by="镇政协联络组"))
    carry(levels, TOWNSHIP, COUNTY, UPDATE)
    carry(levels, COUNTY, CITY, UPDATE)
    ok(act(client, uid, "close"))
    carry(levels, TOWNSHIP, COUNTY, UPDATE)
    carry(levels, COUNTY, CITY, UPDATE)
    entry = remote(city, uid)
    assert entry["status"] == "closed" and entry["last_update"]["event"] == "closed"
    assert entry["minutes"]["text"] == "会议纪要:道路维修纳入市级补助" and entry["minutes"]["complete"] is True
    assert entry["opinions_recorded"] == 1
    # Closed: the city adds no one and sends nothing more.
    before = stored(city)
    expect_error(remote_act(city, uid, action="join", mode="accept", participants=[{"name": "市交通局"}]), 409,
                 "conflict", "closed")
    assert stored(city) == before

    # The pages: the host's section on higher levels; the city's list of lower levels' activities.
    client.post("/login", data={"username": "wang", "password": PASSWORD})
    page = client.get(f"/activities/{uid}").get_data(as_text=True)
    assert 'id="levels"' in page and "<code>6203</code>" in page and "市发展改革委" in page
    city_client = city.test_client()
    city_client.post("/login", data={"username": "wang", "password": PASSWORD})
    page = city_client.get("/activities/remote").get_data(as_text=True)
    assert "第二季度协商座谈会" in page and "会议纪要:道路维修纳入市级补助" in page and TOWNSHIP in page


def test_a_county_asks_to_join_and_its_page_form_sends_the_join(levels, client):
    township, county = levels[TOWNSHIP], levels[COUNTY]
    uid, _topic = planned(client)
    county_client = county.test_client()
    county_client.post("/login", data={"username": "wang", "password": PASSWORD})
    answer = county_client.post("/activities/remote", data={"action": "join", "mode": "ask", "uid": uid,
                                                            "departments": "区农业农村局\n区交通运输局"},
                                follow_redirects=True)
    assert "620302001" in answer.get_data(as_text=True)
    assert remote(county, uid)["state"] == "join_sent"
    carry(levels, COUNTY, TOWNSHIP, JOIN)
    shown = ok(client.get(f"/api/v1/activities/{uid}", headers=basic("wang")))
    assert [(i["name"], i["node_id"]) for i in shown["invitations"]] == [("区农业农村局", COUNTY),
                                                                         ("区交通运输局", COUNTY)]
    assert shown["levels"]["joined"][0]["mode"] == "ask"
    carry(levels, TOWNSHIP, COUNTY, UPDATE)
    entry = remote(county, uid)
    assert entry["state"] == "joined" and entry["activity"]["title"] == "第二季度协商座谈会"  # seen now


def test_inviting_a_level_that_is_not_above_is_refused_and_stores_nothing(levels, client):
    township = levels[TOWNSHIP]
    uid, _topic = planned(client)
    before = stored(township)
    for node_id, words in ((SIBLING, "not above"), ("6201", "not above"), ("620302001001", "not above"),
                           (TOWNSHIP, "not above"), ("six", "not a node id")):
        expect_error(act(client, uid, "invite_level", node_id=node_id), 400, "invalid_input", *words.split(" "))
    assert stored(township) == before
    ok(act(client, uid, "invite_level", node_id=COUNTY))
    after = stored(township)
    expect_error(act(client, uid, "invite_level", node_id=COUNTY), 409, "conflict", "already invited")
    assert stored(township) == after
    ok(act(client, uid, "cancel", reason="改期"))
    expect_error(act(client, uid, "invite_level", node_id=CITY), 409, "conflict", "cancelled")


def test_the_higher_level_refuses_what_it_cannot_send(levels, client):
    city = levels[CITY]
    uid, _topic = planned(client)
    before = stored(city)
    expect_error(remote_act(city, uid, action="join", mode="accept", participants=PEOPLE), 400, "invalid_input",
                 "no invitation")
    expect_error(remote_act(city, uid, action="send_opinions", opinions=[{"speaker": "甲", "text": "意见"}]), 400,
                 "invalid_input", "join it first")
    expect_error(remote_act(city, "6201001:01ABCDEF", action="join", mode="ask", participants=PEOPLE), 400,
                 "invalid_input", "not below")
    expect_error(remote_act(city, uid, action="join", mode="ask", participants=[]), 400, "invalid_input",
                 "at least one")
    expect_error(remote_act(city, uid, action="join", mode="ask", participants=[PEOPLE[0], PEOPLE[0]]), 400,
                 "invalid_input", "twice")
    expect_error(remote_act(city, "not-a-uid", action="join", mode="ask", participants=PEOPLE), 400,
                 "invalid_input", "not an activity uid")
    assert stored(city) == before
    expect_error(city.test_client().get(f"/api/v1/activities/remote/{uid}", headers=basic("wang")), 404, "not_found")


def _summary(uid: str, **changes) -> dict:
    return {"uid": uid, "title": "协商座谈会", "form": "forum", "starts_ms": 1, "ends_ms": 2, "place": "会议室",
            "organiser": "提案委员会", "host": uid.split(":")[0], "status": "planned", "topics": ["道路维修"],
            **changes}


def test_bad_bodies_are_refused_by_name_and_store_nothing(levels, client):
    township, county = levels[TOWNSHIP], levels[COUNTY]
    uid, _topic = planned(client)
    good_join = {"uid": uid, "mode": "accept", "participants": PEOPLE}
    bad_down = [
        ({k: v for k, v in good_join.items() if k != "uid"}, "body.uid is missing"),
        ({**good_join, "uid": "no uid"}, "not an activity uid"),
        ({**good_join, "mode": "maybe"}, "body.mode"),
        ({**good_join, "participants": []}, "body.participants must hold 1 to"),
        ({**good_join, "participants": [{"name": "甲", "kind": "boss"}]}, "kind must be one of"),
        ({**good_join, "participants": [{"name": "甲" * 201, "kind": "member"}]}, "longer than 200"),
        ({**good_join, "participants": [PEOPLE[0], PEOPLE[0]]}, "named twice"),
        ({**good_join, "participants": ["甲"]}, "must be an object"),
        ({**good_join, "note": 3}, "body.note has the wrong type"),
    ]
    for body, words in bad_down:
        before = stored(township)
        refused(deliver(township, sign(county, COUNTY, TOWNSHIP, JOIN, body)), 422, "invalid_body", words)
        assert stored(township) == before, words
    for body, words in (({"uid": uid, "opinions": []}, "1 to 100"),
                        ({"uid": uid, "opinions": [{"speaker": "甲", "text": " ", "kind": "written"}]}, "is empty"),
                        ({"uid": uid, "opinions": [{"speaker": "甲", "text": "好", "kind": "online"}]}, "kind")):
        before = stored(township)
        refused(deliver(township, sign(county, COUNTY, TOWNSHIP, OPINIONS, body)), 422, "invalid_body", words)
        assert stored(township) == before
    good_invite = {"activity": _summary(uid), "target": COUNTY, "note": ""}
    good_update = {"activity": _summary(uid), "to": [COUNTY], "event": "joined", "consensus": None, "minutes": None,
                   "participants": [], "opinions": {}}
    bad_up = [
        (INVITE, {**good_invite, "target": "city"}, "body.target is not a node id"),
        (INVITE, {**good_invite, "activity": _summary(uid, status="done")}, "body.activity.status"),
        (INVITE, {**good_invite, "activity": _summary(uid, host=COUNTY)}, "is not an activity of"),
        (INVITE, {**good_invite, "activity": _summary(uid, starts_ms=-1)}, "must not be negative"),
        (INVITE, {**good_invite, "activity": _summary(uid, topics=[""])}, "topics[0]"),
        (INVITE, {k: v for k, v in good_invite.items() if k != "activity"}, "body.activity is missing"),
        (UPDATE, {**good_update, "to": []}, "body.to must hold 1 to"),
        (UPDATE, {**good_update, "to": [COUNTY, COUNTY]}, "twice"),
        (UPDATE, {**good_update, "event": "party"}, "body.event"),
        (UPDATE, {**good_update, "minutes": {"text": "纪要"}}, "body.minutes.approved_by is missing"),
        (UPDATE, {**good_update, "participants": [{"node_id": CITY, "name": "甲", "reply": "maybe",
                                                   "attended": None}]}, "reply must be one of"),
        (UPDATE, {**good_update, "opinions": {CITY: -1}}, "whole numbers"),
    ]
    for kind, body, words in bad_up:
        before = stored(county)
        refused(deliver(county, sign(township, TOWNSHIP, COUNTY, kind, body)), 422, "invalid_body", words)
        assert stored(county) == before, words


def test_messages_that_do_not_fit_the_levels_are_refused_and_store_nothing(levels, client):
    township, county, city = levels[TOWNSHIP], levels[COUNTY], levels[CITY]
    uid, _topic = planned(client)
    join = {"uid": uid, "mode": "ask", "participants": PEOPLE}
    cases = [
        # a join from a node that is not above the host: the township's own child-to-parent hop, at the county
        (county, sign(township, TOWNSHIP, COUNTY, JOIN, join), "travels down"),
        # opinions from a level that has not joined
        (township, sign(county, COUNTY, TOWNSHIP, OPINIONS, {"uid": uid, "opinions": [
            {"speaker": "区农业农村局", "text": "同意", "kind": "written"}]}), "has not joined"),
        # an activity the host does not hold
        (township, sign(county, COUNTY, TOWNSHIP, JOIN, {**join, "uid": f"{TOWNSHIP}:01NOSUCHACTIVITY"}),
         "no activity"),
        # a join for an activity held at another node, which is not below the receiver
        (township, sign(county, COUNTY, TOWNSHIP, JOIN, {**join, "uid": f"{SIBLING}:01SOMEWHEREELSE"}), "not below"),
        # an invitation written by a node that is not the activity's host
        (city, sign(county, COUNTY, CITY, INVITE, {"activity": _summary(uid), "target": CITY}), "only from its host"),
        # an invitation to a node that is not above the receiver
        (county, sign(township, TOWNSHIP, COUNTY, INVITE, {"activity": _summary(uid), "target": SIBLING}),
         "not above"),
        # an update naming neither the receiver nor a node above it
        (county, sign(township, TOWNSHIP, COUNTY, UPDATE, {"activity": _summary(uid), "to": [TOWNSHIP],
                                                            "event": "joined", "consensus": None, "minutes": None,
                                                            "participants": [], "opinions": {}}), "not above"),
    ]
    for app, data, words in cases:
        before = stored(app), stored(township)
        refused(deliver(app, data), 422, "invalid_body", words)
        assert (stored(app), stored(township)) == before, words
    # A closed activity takes no one more.
    ok(act(client, uid, "minutes", text="纪要", approved_by="联络组"))
    ok(act(client, uid, "close"))
    before = stored(township)
    refused(deliver(township, sign(county, COUNTY, TOWNSHIP, JOIN, join)), 422, "invalid_body", "closed")
    assert stored(township) == before


def test_unknown_and_unpaired_senders_are_refused_by_the_federation(levels, client):
    from shangliang.federation.signing import NodeKey

    township = levels[TOWNSHIP]
    uid, _topic = planned(client)
    join = {"uid": uid, "mode": "ask", "participants": PEOPLE}
    stranger = NodeKey("ed25519:stranger", os.urandom(32))
    before = stored(township)
    # not paired with the township at all
    refused(deliver(township, sign(township, SIBLING, TOWNSHIP, JOIN, join, key=stranger)), 403, "not_a_peer")
    # the county's id with a key the township never pinned
    refused(deliver(township, sign(township, COUNTY, TOWNSHIP, JOIN, join, key=stranger)), 401, "unknown_key")
    # a kind no one registered
    refused(deliver(township, sign(levels[COUNTY], COUNTY, TOWNSHIP, "x-activities.nothing", join)), 422,
            "unknown_kind")
    assert stored(township) == before


# -- real node processes on loopback --------------------------------------------------------------------------


WAIT = 90.0


@pytest.fixture(scope="module")
def net(module_federation):
    nodes = module_federation(CITY, COUNTY, TOWNSHIP, SIBLING, in_process=True)
    running = [nodes[CITY], nodes[COUNTY], nodes[TOWNSHIP]]  # the second township is paired, not started
    with ThreadPoolExecutor(len(running)) as pool:
        list(pool.map(lambda node: node.start(), running))
    return nodes


def _joined(node, uid):
    found = [r for r in node.run_json("activities", "joined") if r["uid"] == uid]
    return found[0] if found else None


def test_a_township_invites_the_city_through_the_county_over_http(net):
    township, county, city, sibling = net[TOWNSHIP], net[COUNTY], net[CITY], net[SIBLING]
    topic = township.run_json("topics", "add", "--title", "镇区道路维修", "--category", "交通", "--description",
                              "连接两村的道路破损", "--raised-by-kind", "public", "--raised-by-name", "村民代表",
                              "--area", TOWNSHIP)["uid"]
    township.run("topics", "advance", topic, "--to", "determined")
    uid = township.run_json("activities", "create", "--form", "forum", "--title", "协商民主之家议事会", "--topic", topic,
                            "--starts", "2026-06-10 09:00", "--ends", "2026-06-10 11:00", "--place", "镇协商民主之家",
                            "--organiser", "镇政协联络组")["uid"]
    sent = township.run_json("activities", "invite-level", uid, "--to", CITY, "--note", "请市直部门参加")
    assert sent["activity"]["levels"]["invited"][0]["via"] == COUNTY

    entry = wait_for(lambda: _joined(city, uid), WAIT, "the invitation at the city")
    assert entry["state"] == "invited" and entry["activity"]["topics"] == ["镇区道路维修"]
    assert _joined(county, uid) is None  # relayed, not shown
    joined = city.run_json("activities", "join", uid, "--department", "市交通运输局", "--member", "李委员")
    assert joined["sent"]["to"] == COUNTY

    def recorded():
        data = township.run_json("activities", "show", uid)
        return data if len(data["invitations"]) == 2 else None

    shown = wait_for(recorded, WAIT, "the city's participants at the township")
    assert {(i["kind"], i["name"], i["node_id"]) for i in shown["invitations"]} == {
        ("node", "市交通运输局", CITY), ("node", "李委员", CITY)}
    wait_for(lambda: (_joined(city, uid) or {}).get("state") == "joined", WAIT, "the township's update at the city")

    city.run("activities", "send-opinions", uid, "--opinion", "市交通运输局", "建议申报农村公路养护补助")

    def opinions():
        data = township.run_json("activities", "show", uid)["opinions"]
        return data or None

    (opinion,) = wait_for(opinions, WAIT, "the city's opinion at the township")
    assert opinion["node_id"] == CITY and opinion["speaker"] == "市交通运输局"

    # A join from a node that is not above the host: refused at the county, nothing stored anywhere.
    join = {"uid": uid, "mode": "ask", "participants": [{"name": "邻镇", "kind": "department"}]}
    from shangliang.federation import canonical, envelope, hops

    key = sibling.key()
    made = envelope.create(key, SIBLING, JOIN, join)
    before = len(county.inbox()), len(township.run_json("activities", "show", uid)["invitations"])
    answer = county.post("/federation/v1/inbox", canonical.dumps(hops.append(made, key, SIBLING, COUNTY, "reply")))
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_body", answer.text
    assert "travels down" in answer.json()["error"]["message"]
    # and straight to the township, which never paired with it
    answer = township.post("/federation/v1/inbox", canonical.dumps(hops.append(made, key, SIBLING, TOWNSHIP, "reply")))
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "not_a_peer", answer.text
    assert (len(county.inbox()), len(township.run_json("activities", "show", uid)["invitations"])) == before

    township.run("activities", "minutes", uid, "--text", "议定:道路养护纳入补助申报", "--approved-by", "镇政协联络组")
    township.run("activities", "close", uid)
    closed = wait_for(lambda: (lambda e: e if e and e["status"] == "closed" else None)(_joined(city, uid)), WAIT,
                      "the minutes at the city")
    assert closed["minutes"]["text"] == "议定:道路养护纳入补助申报" and closed["opinions_recorded"] == 1
    text = city.run("activities", "joined", uid)
    assert "议定:道路养护纳入补助申报" in text and "市交通运输局" in text
