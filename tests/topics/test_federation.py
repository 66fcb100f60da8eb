"""Topics between nodes: escalate, delegate, accept, return, progress and result.

First two nodes in this process, a township and its county paired with ``keys show`` / ``peers add``,
the envelopes carried from one outbox to the other inbox by hand (no worker): what each side's pages
and API show of the route.

Then one federation for the rest of the module — province 62, city 6203, county 620302, townships
620302001 and 620302002 — each node its own ``serve`` process (gunicorn and a Celery worker) on
loopback, paired the same way. Commands run the real CLI against each node's database; the nodes'
workers deliver the envelopes over HTTP.
"""

from __future__ import annotations

import shlex
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from shangliang.core.db import get_session

from ..conftest import invoke
from .conftest import TOWNSHIP, act, basic, counts, create, expect_signed_in, expect_user_added, make_app

IDS = ("62", "6203", "620302", "620302001", "620302002")
T1, T2 = "620302001", "620302002"
WAIT = 60.0


# -- a route between two paired nodes (envelopes carried by hand, no worker) ---------------------------------


@pytest.fixture
def pair(township, make_node, runner):
    county = make_node(node_id="620302", name="金川区政协")
    expect_user_added(runner, county, "zhao", "admin", "赵秘书长")
    for a, b in ((township, county), (county, township)):
        line = shlex.split(invoke(runner, b, "keys", "show").output)
        assert invoke(runner, a, "peers", "add", *line).exit_code == 0
    apps = make_app(township), make_app(county)
    yield apps
    for app in apps:
        app.extensions["shangliang.db"].engine.dispose()


def expect_carried(source_app, target_app, uid) -> None:
    """Deliver the source's newest outbox message about ``uid`` to the target's inbox, as a worker would."""
    from shangliang.federation.models import OutboxMessage

    with source_app.app_context():
        row = get_session().execute(select(OutboxMessage).where(OutboxMessage.topic == uid)
                                    .order_by(OutboxMessage.id.desc())).scalars().first()
        data = row.envelope.encode()
    response = target_app.test_client().post("/federation/v1/inbox", data=data, content_type="application/json")
    assert response.status_code == 202, response.get_data(as_text=True)


def test_an_escalated_topic_shows_its_route_and_the_receiver_accepts_it(pair):
    township_app, county_app = pair
    township = township_app.test_client()
    uid = create(township).get_json()["topic"]["uid"]
    sent = act(township, uid, "escalate", note="跨乡镇事项,提请区政协协商")
    assert sent.status_code == 200, sent.get_data(as_text=True)
    body = sent.get_json()
    assert body["sent"]["kind"] == "topic.escalate" and body["sent"]["to"] == "620302"
    assert body["topic"]["holder"] == "620302" and body["topic"]["awaiting_acceptance"] is True

    shown = township.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert shown["route_verified"] is True and shown["route"][0]["direction"] == "sent"
    assert [(h["from"], h["to"], h["action"]) for h in shown["route"][0]["hops"]] == [(TOWNSHIP, "620302", "escalate")]
    expect_signed_in(township)
    page = township.get(f"/topics/{uid}").get_data(as_text=True)
    assert "每一跳均已验证" in page and "宁远堡镇政协联络组 <code>620302001</code> → 金川区政协 <code>620302</code>" in page
    assert "marker-end=\"url(#arrow-ok)\"" in page and "跨乡镇事项" in page
    assert 'id="actions"' in page and "只有该节点可以处理" in page  # held by the county now: no forms here

    expect_carried(township_app, county_app, uid)
    county = county_app.test_client()
    expect_signed_in(county, "zhao")
    page = county.get(f"/topics/{uid}").get_data(as_text=True)
    assert "待受理" in page and 'id="form-accept"' in page and 'id="form-return"' in page
    assert 'id="form-advance"' not in page and 'id="form-escalate"' in page
    assert "收到" in page  # the envelope table: received from the township
    accepted = county.post(f"/topics/{uid}/act", data={"action": "accept"}, follow_redirects=True)
    page = accepted.get_data(as_text=True)
    assert "已受理" in page and 'id="form-accept"' not in page and 'id="form-advance"' in page
    assert 'title="web:zhao">赵秘书长</td>' in page  # who accepted it, by name
    data = county.get(f"/api/v1/topics/{uid}", headers=basic("zhao")).get_json()
    assert data["accepted_ms"] and [e["action"] for e in data["events"]][-1] == "accepted"
    assert [e["direction"] for e in data["route"]] == ["received", "sent"] and data["route_verified"] is True

    expect_carried(county_app, township_app, uid)  # the acceptance travels home
    home = township.get(f"/api/v1/topics/{uid}", headers=basic("li")).get_json()
    assert home["awaiting_acceptance"] is False and home["holder"] == "620302"
    # the route names the answer by what it was: the acceptance (受理), not a bare "reply" (答复)
    page = township.get(f"/topics/{uid}").get_data(as_text=True)
    hops = page[page.index('id="hops"'):]
    assert "<code>620302</code> → 宁远堡镇政协联络组 <code>620302001</code>" in hops  # a node by its name
    assert "受理" in hops and "答复" not in page
    assert 'title="node:620302">金川区政协</td>' in page  # the county's decision, by the county's name


def test_a_delegated_topic_arrives_with_its_instructions_and_due_date(pair):
    township_app, county_app = pair
    county = county_app.test_client()
    created = create(county, user="zhao", areas=[TOWNSHIP]).get_json()
    uid = created["topic"]["uid"]
    assert created["suggestion"]["action"] == "delegate" and created["suggestion"]["to"] == TOWNSHIP
    expect_signed_in(county, "zhao")
    page = county.get(f"/topics/{uid}").get_data(as_text=True)
    assert 'id="form-delegate"' in page and f'name="to" value="{TOWNSHIP}"' in page and "下放至 620302001" in page
    before = counts(county_app)
    refused = county.post(f"/topics/{uid}/act", data={"action": "delegate", "to": TOWNSHIP, "instructions": "请镇里牵头",
                                                      "due": "next week"}, follow_redirects=True)
    assert "操作被拒绝" in refused.get_data(as_text=True) and "无法识别办理期限" in refused.get_data(as_text=True)
    assert counts(county_app) == before
    done = county.post(f"/topics/{uid}/act", data={"action": "delegate", "to": TOWNSHIP, "instructions": "请镇里牵头协商",
                                                   "due": "+3"}, follow_redirects=True).get_data(as_text=True)
    assert "已下放至 620302001" in done and "下放" in done
    due_ms = county.get(f"/api/v1/topics/{uid}", headers=basic("zhao")).get_json()["due_ms"]
    assert due_ms is not None

    expect_carried(county_app, township_app, uid)
    township = township_app.test_client()
    expect_signed_in(township)
    page = township.get(f"/topics/{uid}").get_data(as_text=True)
    with township_app.test_request_context():
        from shangliang.core.topics.views import day

        assert day(due_ms) in page
    assert "请镇里牵头协商" in page and "待受理" in page and 'id="form-accept"' in page
    assert 'data-level="county"' in page and "<code>620302</code> → 宁远堡镇政协联络组 <code>620302001</code>" in page


def test_a_delegation_against_the_routing_suggestion_is_asked_again_and_a_refusal_keeps_what_was_typed(pair):
    _township_app, county_app = pair
    county = county_app.test_client()
    uid = create(county, user="zhao", areas=[TOWNSHIP, "620302002"]).get_json()["topic"]["uid"]  # belongs here
    expect_signed_in(county, "zhao")
    before = counts(county_app)
    typed = {"action": "delegate", "to": TOWNSHIP, "instructions": "请镇里先行调研", "due": "+5"}
    asked = county.post(f"/topics/{uid}/act", data=typed)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 409 and 'id="against"' in page and "留在本级协商" in page
    assert "请镇里先行调研" in page and 'value="+5"' in page and 'name="confirm_against"' in page
    assert counts(county_app) == before  # nothing sent, nothing recorded
    # a refusal shows the form again with what was typed and the reason, and stores nothing
    refused = county.post(f"/topics/{uid}/act", data={**typed, "due": "next week", "confirm_against": "1"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="refusal"' in page and "无法识别办理期限" in page
    assert 'value="next week"' in page and "请镇里先行调研" in page
    assert counts(county_app) == before
    done = county.post(f"/topics/{uid}/act", data={**typed, "confirm_against": "1"})
    assert done.status_code == 303
    assert county.get(f"/api/v1/topics/{uid}", headers=basic("zhao")).get_json()["holder"] == TOWNSHIP


# -- five node processes --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def net(module_federation):
    nodes = module_federation(*IDS, in_process=True)
    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(lambda node: node.start(), nodes.values()))
    return nodes


def show(node, uid):
    return node.run_json("topics", "show", uid)


def fails(node, *args) -> str:
    """Run a command that must be refused; return its message."""
    with pytest.raises(AssertionError) as refused:
        node.run(*args)
    return str(refused.value)


def wait_until(what: str, probe, timeout: float = WAIT):
    """Poll ``probe()`` until it returns something true; fail with ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except AssertionError as exc:  # e.g. the topic has not arrived yet
            last = exc
        else:
            if last:
                return last
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; last: {str(last)[:2000]}")


def arrived(node, uid, **fields):
    def probe():
        data = show(node, uid)
        return data if all(data[k] == v for k, v in fields.items()) else None

    return wait_until(f"{uid} at {node.id} with {fields}", probe)


def raise_topic(node, title, *areas, kind="public", name="群众来信") -> dict:
    args = ["topics", "add", "--title", title, "--category", "城乡建设", "--description", f"{title}(测试)",
            "--raised-by-kind", kind, "--raised-by-name", name]
    for area in areas:
        args += ["--area", area]
    return node.run_json(*args)


def written(node) -> tuple[int, int]:
    """(outbox rows, topic events) on a node: what an action would have written."""
    outbox = len(node.run_json("outbox", "list", "--limit", "100000"))
    events = sum(len(show(node, t["uid"])["events"]) for t in node.run_json("topics", "list"))
    return outbox, events


def walk(node, uid, stages):
    for stage in stages:
        node.run("topics", "advance", uid, "--to", stage, "--note", f"进入{stage}")


def test_road_repair_escalated_accepted_consulted_and_result_fed_back(net):
    township, county = net[T1], net["620302"]
    added = raise_topic(township, "两镇之间道路维修", T1, T2)
    uid = added["uid"]
    assert uid.startswith(f"{T1}:")
    assert added["suggestion"]["action"] == "escalate" and added["suggestion"]["to"] == "620302"
    assert added["suggestion"]["belongs_to"] == "620302"

    sent = township.run_json("topics", "escalate", uid, "--note", "跨乡镇事项,提请区政协协商")
    assert sent["holder"] == "620302" and sent["sent"]["kind"] == "topic.escalate"

    at_county = arrived(county, uid, holder="620302")
    assert at_county["awaiting_acceptance"] is True and at_county["upstream"] == T1
    assert at_county["suggestion"]["action"] == "keep"
    assert at_county["route_verified"] is True
    # Not accepted yet: the county cannot start work on it.
    assert "not accepted yet" in fails(county, "topics", "advance", uid, "--to", "determined")

    county.run("topics", "accept", uid)
    at_township = arrived(township, uid, awaiting_acceptance=False, holder="620302")
    assert [e["action"] for e in at_township["events"]][-1] == "accepted"

    walk(county, uid, ["determined", "researching", "consulting", "implementing", "feedback"])
    arrived(township, uid, stage="feedback")
    county.run("topics", "result", uid, "--kind", "协商意见", "--title", "道路维修纳入2027年计划",
               "--summary", "区政府将两镇连接道路维修列入年度计划", "--measure", "三月底前完成勘测",
               "--measure", "汛期前完工", "--handling-unit", "区交通运输局", "--handling-unit", "两镇政府")

    home = arrived(township, uid, stage="closed")
    assert home["result"] == {"kind": "协商意见", "title": "道路维修纳入2027年计划",
                              "summary": "区政府将两镇连接道路维修列入年度计划",
                              "measures": ["三月底前完成勘测", "汛期前完工"],
                              "handling_units": ["区交通运输局", "两镇政府"]}
    assert home["closed_ms"] and home["holder"] == "620302"
    assert home["route_verified"] is True
    kinds = [(entry["direction"], entry["kind"]) for entry in home["route"]]
    assert ("sent", "topic.escalate") in kinds and ("received", "topic.accept") in kinds
    assert ("received", "topic.result") in kinds
    assert sum(1 for d, k in kinds if k == "topic.progress") == 5
    assert all(hop["verified"] for entry in home["route"] for hop in entry["hops"])
    # The county, which did the work, shows the same.
    assert show(county, uid)["result"]["title"] == "道路维修纳入2027年计划"
    # Text output names every hop and whether it verified.
    text = township.run("topics", "show", uid)
    assert "every hop verified" in text and "620302001 → 620302 escalate" in text


def test_result_reaches_the_origin_after_three_hops(net):
    township, county, city, province = net[T2], net["620302"], net["6203"], net["62"]
    uid = raise_topic(township, "黄河流域生态保护协同", T2, "6201")["uid"]  # crosses two cities
    township.run("topics", "escalate", uid, "--note", "涉及两市")
    arrived(county, uid, holder="620302")
    county.run("topics", "escalate", uid, "--note", "涉及两市,请市政协上交")
    arrived(city, uid, holder="6203")
    city.run("topics", "escalate", uid, "--note", "跨市事项,属省政协")
    at_province = arrived(province, uid, holder="62")
    assert at_province["upstream"] == "6203"
    received = [e for e in at_province["route"] if e["direction"] == "received"][-1]
    assert [(h["from"], h["to"]) for h in received["hops"]] == [(T2, "620302"), ("620302", "6203"), ("6203", "62")]
    assert all(h["verified"] for h in received["hops"])

    province.run("topics", "accept", uid)
    for node in (city, county, township):
        arrived(node, uid, holder="62", awaiting_acceptance=False)
    walk(province, uid, ["determined", "researching", "consulting", "implementing", "feedback"])
    province.run("topics", "result", uid, "--title", "建立跨市生态补偿机制", "--summary", "省政协专题协商形成建议",
                 "--handling-unit", "省生态环境厅")
    home = arrived(township, uid, stage="closed")
    assert home["result"]["handling_units"] == ["省生态环境厅"]
    result = [e for e in home["route"] if e["kind"] == "topic.result"][0]
    assert result["origin"] == "62" and result["verified"]
    assert [(h["from"], h["to"], h["action"]) for h in result["hops"]] == [
        ("62", "6203", "reply"), ("6203", "620302", "reply"), ("620302", T2, "reply")]
    for node in (city, county):
        assert show(node, uid)["stage"] == "closed"


def test_city_delegates_to_county_which_delegates_to_a_township(net):
    city, county, township = net["6203"], net["620302"], net[T1]
    uid = raise_topic(city, "宁远堡镇农村人居环境整治", T1, kind="party_committee", name="市委办公室")["uid"]
    suggestion = city.run_json("topics", "show", uid)["suggestion"]
    assert suggestion["action"] == "delegate" and suggestion["to"] == "620302"
    city.run("topics", "delegate", uid, "--to", "620302", "--instructions", "请区政协组织协商", "--due", "+20")
    at_county = arrived(county, uid, holder="620302")
    assert at_county["instructions"] == "请区政协组织协商" and at_county["due_ms"]
    county.run("topics", "delegate", uid, "--to", T1, "--instructions", "请镇政协工作站组织议事", "--due", "+10")
    at_township = arrived(township, uid, holder=T1)
    assert at_township["instructions"] == "请镇政协工作站组织议事"
    assert at_township["due_ms"] and at_township["due_ms"] < at_county["due_ms"]
    assert at_township["upstream"] == "620302" and at_township["route_verified"]
    township.run("topics", "accept", uid)
    for node in (county, city):
        arrived(node, uid, holder=T1, awaiting_acceptance=False)
    accept = [e for e in show(city, uid)["route"] if e["kind"] == "topic.accept"][0]
    assert [(h["from"], h["to"]) for h in accept["hops"]] == [(T1, "620302"), ("620302", "6203")]


def test_a_matter_escalated_without_need_is_returned_and_received_again(net):
    township, county = net[T2], net["620302"]
    uid = raise_topic(township, "村内路灯维修", T2)["uid"]
    assert township.run_json("topics", "show", uid)["suggestion"]["action"] == "keep"
    township.run("topics", "escalate", uid, "--note", "请区政协协调")
    arrived(county, uid, holder="620302")
    county.run("topics", "return", uid, "--reason", "属本镇范围内事项,由镇政协工作站协商")
    back = arrived(township, uid, holder=T2)
    assert back["awaiting_acceptance"] is False
    assert back["events"][-1]["action"] == "returned" and "属本镇范围内事项" in back["events"][-1]["note"]
    received = [e for e in back["route"] if e["direction"] == "received"]
    assert [h["action"] for h in received[-1]["hops"]] == ["escalate", "return"] and received[-1]["verified"]
    # The county no longer holds it, so it can do nothing more with it, and awaits nothing: both nodes show
    # the township holding it, not "sent to 620302002, not yet accepted".
    returned = show(county, uid)
    assert returned["holder"] == T2 and returned["awaiting_acceptance"] is False
    assert "held by 620302002" in fails(county, "topics", "accept", uid)
    # The township works on it itself.
    township.run("topics", "advance", uid, "--to", "determined")
    # Escalated once more, it is a new transfer at the county.
    township.run("topics", "escalate", uid, "--note", "再次提请")
    again = arrived(county, uid, holder="620302", awaiting_acceptance=True)
    transfers = [e["transfer"] for e in again["route"] if e["direction"] == "received"]
    assert len(transfers) == 2 and len(set(transfers)) == 2


def test_refused_actions_send_nothing_and_change_nothing(net):
    township, county = net[T1], net["620302"]
    # Not held here: the township sent it to the county.
    sent_up = raise_topic(township, "跨镇水渠清淤", T1, T2)["uid"]
    township.run("topics", "escalate", sent_up, "--note", "跨乡镇")
    arrived(county, sent_up, holder="620302")
    before = written(township)
    for args in (("escalate", sent_up, "--note", "x"), ("advance", sent_up, "--to", "determined"),
                 ("delegate", sent_up, "--to", "620302001001", "--instructions", "x"),
                 ("return", sent_up, "--reason", "x"), ("accept", sent_up)):
        assert "held by 620302, not by this node" in fails(township, "topics", *args)
    assert written(township) == before
    assert "no topic" in fails(township, "topics", "accept", "620302:01NOTATOPIC0000000000000000")

    uid = raise_topic(county, "区级事项", "620302")["uid"]
    before = written(county)
    # The target is not a child (a township of another county; the county's own parent).
    assert "not a child" in fails(county, "topics", "delegate", uid, "--to", "620303001", "--instructions", "x")
    assert "not a child" in fails(county, "topics", "delegate", uid, "--to", "6203", "--instructions", "x")
    # Malformed input.
    assert "note is empty" in fails(county, "topics", "escalate", uid, "--note", "  ")
    assert "instructions is empty" in fails(county, "topics", "delegate", uid, "--to", T1, "--instructions", "")
    assert "has passed" in fails(county, "topics", "delegate", uid, "--to", T1, "--instructions", "x",
                                 "--due", "2020-01-01")
    assert "not understood" in fails(county, "topics", "delegate", uid, "--to", T1, "--instructions", "x",
                                     "--due", "tomorrow")
    assert "may not end with" in fails(county, "topics", "escalate", uid, "--note", "上交\nstage: feedback")
    # Raised here: nothing to accept, nowhere to return it.
    assert "already accepted" in fails(county, "topics", "accept", uid)
    assert "raised here" in fails(county, "topics", "return", uid, "--reason", "x")
    assert written(county) == before
    # The stage does not allow it.
    walk(county, uid, ["determined", "researching"])
    after_walk = written(county)
    assert after_walk[0] == before[0]  # raised here: its stage changes are sent to nobody
    assert "before research starts" in fails(county, "topics", "escalate", uid, "--note", "x")
    assert "before research starts" in fails(county, "topics", "delegate", uid, "--to", T1, "--instructions", "x")
    assert "feedback stage" in fails(county, "topics", "result", uid, "--title", "t", "--summary", "s")
    assert written(county) == after_walk
    shown = show(county, uid)
    assert shown["holder"] == "620302" and shown["stage"] == "researching"


def test_a_topic_for_an_unknown_answer_is_refused_by_the_inbox(net):
    """An answer about a topic the receiver never saw is refused (422) and nothing is stored."""
    from shangliang.federation import envelope as env_mod, hops as hop_mod
    from shangliang.federation.canonical import dumps

    township, county = net[T1], net["620302"]
    key = county.key()
    envelope = env_mod.create(key, "620302", "topic.accept", {"decision": "consult"}, topic="620302001:01UNKNOWN")
    envelope = hop_mod.append(envelope, key, "620302", T1, "reply")
    before = len(township.inbox())
    answer = township.post("/federation/v1/inbox", dumps(envelope))
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_body"
    assert "not known here" in answer.json()["error"]["message"]
    assert len(township.inbox()) == before


def test_a_topic_delegated_back_down_its_route_tells_the_delegator_and_the_origin(net):
    township, county, city = net[T1], net["620302"], net["6203"]
    uid = raise_topic(township, "金川区与永昌县交界处河道治理", T1, "620321001")["uid"]  # two counties: the city's
    township.run("topics", "escalate", uid, "--note", "跨县事项")
    arrived(county, uid, holder="620302")
    county.run("topics", "accept", uid)
    county.run("topics", "advance", uid, "--to", "determined", "--note", "区政协已列入计划")
    county.run("topics", "escalate", uid, "--note", "涉及两区县,提请市政协")
    # The city takes the stage the county had when it sent it, not the origin's snapshot.
    at_city = arrived(city, uid, holder="6203", stage="determined", awaiting_acceptance=True)
    assert at_city["upstream"] == "620302"
    city.run("topics", "delegate", uid, "--to", "620302", "--instructions", "请金川区政协牵头,会同永昌县政协协商",
             "--due", "+15")
    again = arrived(county, uid, holder="620302", awaiting_acceptance=True)
    assert again["instructions"] == "请金川区政协牵头,会同永昌县政协协商" and again["due_ms"]
    assert again["stage"] == "determined" and again["upstream"] == T1
    county.run("topics", "accept", uid)
    # Both the city that delegated it and the township that raised it hear of the acceptance ...
    for node in (city, township):
        arrived(node, uid, holder="620302", awaiting_acceptance=False)
    county.run("topics", "advance", uid, "--to", "researching", "--note", "组织联合调研")
    # ... and of its progress.
    for node in (city, township):
        arrived(node, uid, stage="researching")
    to_city = [e for e in show(city, uid)["route"] if e["direction"] == "received" and e["kind"] == "topic.progress"]
    assert [(h["from"], h["to"]) for h in to_city[-1]["hops"]] == [("620302", "6203")] and to_city[-1]["verified"]


def test_a_return_after_two_hops_tells_the_origin_and_the_topic_can_go_down_to_it(net):
    township, county, city = net[T1], net["620302"], net["6203"]
    uid = raise_topic(township, "镇区农贸市场搬迁", T1, "620321001")["uid"]
    township.run("topics", "escalate", uid, "--note", "请区政协")
    arrived(county, uid, holder="620302")
    county.run("topics", "accept", uid)
    county.run("topics", "escalate", uid, "--note", "请市政协")
    arrived(city, uid, holder="6203")
    city.run("topics", "accept", uid)
    arrived(township, uid, holder="6203", awaiting_acceptance=False)
    # The city returns it to the node it came from — the county, not the township.
    city.run("topics", "return", uid, "--reason", "市场搬迁由区政府决定,请区政协协商")
    back = arrived(county, uid, holder="620302", awaiting_acceptance=False)
    assert back["events"][-1]["action"] == "returned"
    # The county held it before, so it holds it again at once, and the township hears so.
    home = arrived(township, uid, holder="620302")
    assert home["events"][-1]["action"] == "accepted" and home["events"][-1]["node"] == "620302"
    # The county delegates it down to the township that raised it; the township's acceptance reaches the county.
    county.run("topics", "delegate", uid, "--to", T1, "--instructions", "请镇政协工作站先行听取商户意见")
    down = arrived(township, uid, holder=T1, awaiting_acceptance=True)
    assert down["instructions"] == "请镇政协工作站先行听取商户意见" and down["upstream"] is None
    township.run("topics", "accept", uid)
    arrived(county, uid, holder=T1, awaiting_acceptance=False)


def test_a_node_that_delegated_a_topic_back_down_hears_of_it_after_it_moves_on(net):
    township, county, city, other = net[T1], net["620302"], net["6203"], net[T2]
    uid = raise_topic(township, "跨县林区防火通道建设", T1, "620321001")["uid"]
    township.run("topics", "escalate", uid, "--note", "跨县")
    arrived(county, uid, holder="620302")
    county.run("topics", "accept", uid)
    county.run("topics", "escalate", uid, "--note", "涉及两区县")
    arrived(city, uid, holder="6203")
    city.run("topics", "delegate", uid, "--to", "620302", "--instructions", "请金川区牵头", "--due", "+20")
    arrived(county, uid, holder="620302", awaiting_acceptance=True)
    county.run("topics", "accept", uid)
    arrived(city, uid, holder="620302", awaiting_acceptance=False)
    # The county passes it on to a township: its answers reach the city two levels up, and the origin.
    county.run("topics", "delegate", uid, "--to", T2, "--instructions", "请双湾镇先行调研")
    arrived(other, uid, holder=T2)
    other.run("topics", "accept", uid)
    for node in (city, township, county):
        arrived(node, uid, holder=T2, awaiting_acceptance=False)
    at_city = show(city, uid)
    accepts = [e for e in at_city["route"] if e["direction"] == "received" and e["kind"] == "topic.accept"]
    assert [(h["from"], h["to"]) for h in accepts[-1]["hops"]] == [(T2, "620302"), ("620302", "6203")]
    assert accepts[-1]["origin"] == T2 and accepts[-1]["verified"]
    # Returned to the county, which held it before: the city and the origin hear the county holds it again.
    other.run("topics", "return", uid, "--reason", "涉及县际协调,镇级无法推进")
    arrived(county, uid, holder="620302", awaiting_acceptance=False)
    for node in (city, township):
        again = arrived(node, uid, holder="620302")
        assert again["events"][-1]["action"] == "accepted" and again["events"][-1]["node"] == "620302"


def test_a_return_goes_back_down_to_the_node_that_sent_the_topic_up(net):
    township, county, city = net[T2], net["620302"], net["6203"]
    uid = raise_topic(township, "镇区停车难问题", T2, "620321001")["uid"]
    township.run("topics", "escalate", uid, "--note", "请区政协")
    arrived(county, uid, holder="620302")
    county.run("topics", "accept", uid)
    county.run("topics", "escalate", uid, "--note", "请市政协")
    arrived(city, uid, holder="6203")
    city.run("topics", "return", uid, "--reason", "由区政协协商")
    arrived(county, uid, holder="620302", awaiting_acceptance=False)
    # The county's return goes to the township that sent it up, not back to the city that returned it.
    shown = county.run_json("topics", "show", uid)
    assert shown["returns_to"] == T2
    county.run("topics", "return", uid, "--reason", "属镇级事项")
    home = arrived(township, uid, holder=T2, awaiting_acceptance=False)
    assert home["returns_to"] is None
    assert "raised here and not sent here since" in fails(township, "topics", "return", uid, "--reason", "x")
    assert show(city, uid)["holder"] == "620302"  # the city last heard that the county holds it
    assert show(city, uid)["awaiting_acceptance"] is False  # and it awaits nothing from it
    assert show(county, uid)["holder"] == T2 and show(county, uid)["awaiting_acceptance"] is False


def test_a_return_of_a_topic_never_seen_is_refused(net):
    from shangliang.federation import envelope as env_mod, hops as hop_mod
    from shangliang.federation.canonical import dumps

    township, county = net[T1], net["620302"]
    uid = f"{T1}:01NEVERSEEN000000000000000"
    body = {"topic": {"uid": uid, "title": "x", "description": "", "category": "c", "areas": [T1],
                      "raised_by": {"kind": "public", "name": "n"}, "raised_ms": 1, "stage": "collected"},
            "reason": "x"}
    own, theirs = township.key(), county.key()
    envelope = env_mod.create(own, T1, "topic.escalate", body, topic=uid)
    envelope = hop_mod.append(envelope, own, T1, "620302", "escalate")
    prev_key = {"node": T1, "id": own.key_id, "public": own.public_b64}
    envelope = hop_mod.append(envelope, theirs, "620302", T1, "return", prev_key=prev_key, note="退回")
    expect_refused(township, dumps(envelope), "returned only to a node it came from")


def _signed(node, kind, body, topic, to, action):
    from shangliang.federation import envelope as env_mod, hops as hop_mod
    from shangliang.federation.canonical import dumps

    key = node.key()
    envelope = env_mod.create(key, node.id, kind, body, topic=topic)
    return dumps(hop_mod.append(envelope, key, node.id, to, action))


def expect_refused(receiver, payload: bytes, words: str) -> None:
    """The receiver answers 422 invalid_body naming the problem, and stores nothing."""
    inbox, topics = len(receiver.inbox()), receiver.run_json("topics", "list")
    answer = receiver.post("/federation/v1/inbox", payload)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_body" and words in error["message"], error
    assert len(receiver.inbox()) == inbox
    assert receiver.run_json("topics", "list") == topics


def test_signed_messages_that_do_not_fit_the_route_are_refused(net):
    """A correctly signed neighbour still cannot answer for, take over or overstuff a topic."""
    county, t1, t2, city = net["620302"], net[T1], net[T2], net["6203"]
    snapshot = {"title": "x", "description": "", "category": "城乡建设", "areas": [T2],
                "raised_by": {"kind": "public", "name": "群众"}, "raised_ms": 1, "stage": "collected"}

    # An answer about a topic the receiver holds itself.
    kept = raise_topic(t1, "本镇事项", T1)["uid"]
    expect_refused(t1, _signed(county, "topic.progress", {"stage": "closed", "summary": "x"}, kept, T1, "reply"),
                   "held by this node")

    # An answer from a node the topic was never passed to: the county escalated it to the city, not to 620302002.
    up = raise_topic(county, "区县交界道路", "620302", "620321")["uid"]
    county.run("topics", "escalate", up, "--note", "跨县")
    arrived(city, up, holder="6203")
    result = {"result": {"kind": "k", "title": "伪造结果", "summary": "s", "measures": [], "handling_units": []},
              "closed_ms": 1}
    expect_refused(county, _signed(t2, "topic.result", result, up, "620302", "reply"), "not passed from here")
    assert show(county, up)["stage"] == "collected" and show(county, up)["holder"] == "6203"

    # A topic uid that is not the sender's own: taking over the county's topic.
    takeover = {"topic": {**snapshot, "uid": up}, "reason": "x"}
    expect_refused(county, _signed(t2, "topic.escalate", takeover, up, "620302", "escalate"), "not raised by")

    # What the wire allows but a node does not keep.
    own = f"{T2}:01FORGED000000000000000000"
    for changes, words in (({"title": "长" * 301}, "longer than 300"),
                           ({"areas": [T2, "320703001"]}, "outside this node's province"),
                           ({"stage": "researching"}, "before research starts"),
                           ({"attachments": [{"name": "x", "size": -1, "sha256": "a" * 64}]}, "attachments"),
                           ({"attachments": [{"name": "x", "size": 1, "sha256": "a" * 64 + "\n"}]}, "attachments"),
                           ({"attachments": [{"name": "x\x1b[2J", "size": 1, "sha256": "a" * 64}]}, "attachments"),
                           ({"attachments": [{"name": "../x", "size": 1, "sha256": "a" * 64}]}, "attachments")):
        body = {"topic": {**snapshot, "uid": own, **changes}, "reason": "x"}
        expect_refused(county, _signed(t2, "topic.escalate", body, own, "620302", "escalate"), words)


def test_attachments_travel_by_name_size_and_hash_and_their_bytes_stay_home(net, tmp_path):
    import hashlib

    township, county = net[T2], net["620302"]
    letter = tmp_path / "联名信.txt"
    letter.write_bytes("双湾镇三个村的联名信".encode())
    digest = hashlib.sha256(letter.read_bytes()).hexdigest()
    uid = raise_topic(township, "跨镇灌溉水渠维修", T1, T2)["uid"]
    township.run("topics", "attach", uid, str(letter))
    township.run("topics", "escalate", uid, "--note", "跨乡镇")
    at_county = arrived(county, uid, holder="620302")
    assert at_county["attachments"] == [{"name": "联名信.txt", "size": letter.stat().st_size, "sha256": digest,
                                         "kept_here": False}]
    assert f"kept at {T2}" in county.run("topics", "show", uid)
    assert show(township, uid)["attachments"][0]["kept_here"] is True
