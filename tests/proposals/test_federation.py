"""Proposals across levels (issue 12, item 4): a county proposal forwarded to the city with its proposer's
consent, the city's handling told back, the proposer's rating sent up — real node processes on loopback,
their workers delivering over HTTP; and the refusals (no consent, forwarded already, no parent, a tampered
or unknown answer)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ..nodes import wait_for

CITY, COUNTY = "6203", "620302"
PASSWORD = "correct-horse"
WAIT = 90.0
RATE = ["--contact", "satisfied", "--attitude", "satisfied", "--measures", "basically", "--pertinence", "satisfied",
        "--leader-attention", "satisfied", "--result", "satisfied", "--overall", "satisfied"]


@pytest.fixture(scope="module")
def net(module_federation):
    nodes = module_federation(CITY, COUNTY, in_process=True)
    county, city = nodes[COUNTY], nodes[CITY]
    county.run("members", "add", "--name", "李强", "--sector", "农业界", "--member-no", "J001")
    county.run("users", "add", "li", "--role", "member", "--name", "李强", "--member", "J001", "--password-stdin",
               input=PASSWORD + "\n")
    city.run("users", "add", "chen", "--role", "handling_unit", "--name", "陈科长", "--password-stdin",
             input=PASSWORD + "\n")
    city.run("units", "add", "--name", "市交通运输局", "--kind", "government", "--contacts", "chen")
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda node: node.start(), (city, county)))
    return nodes


def _submit(node, title="关于跨县公路养护的建议", *extra):
    return node.run_json("proposals", "submit", "--title", title, "--reasons", "两县交界道路破损",
                         "--suggestions", "由市级统筹养护资金", "--category", "城乡建设", "--term", "12",
                         "--session", "1", "--year", "2027", *extra)


def _at_city(city, title):
    found = [p for p in city.run_json("proposals", "list") if p["title"] == title]
    return city.run_json("proposals", "show", str(found[0]["id"])) if found else None


def _upstream(county, ref, status):
    data = county.run_json("proposals", "show", ref)
    return data if (data["upstream"] or {}).get("status") == status else None


def test_a_county_proposal_is_handled_at_the_city_and_rated_at_the_county(net):
    county, city = net[COUNTY], net[CITY]
    title = "关于跨县公路养护的建议"
    p = _submit(county, title, "--area", "620302001", "--area", "620321", "--as", "li")
    ref = str(p["id"])
    assert p["areas"] == ["620302001", "620321"]

    # no consent yet: refused, nothing sent
    refused = county.invoke("proposals", "forward", ref)
    assert refused.returncode == 2 and "consent" in (refused.stdout + refused.stderr)
    assert county.run_json("proposals", "show", ref)["status"] == "submitted"

    consented = county.run_json("proposals", "consent", ref, "--as", "li")
    assert consented["consent"]["by"].endswith("as li")
    sent = county.run_json("proposals", "forward", ref, "--note", "涉及两县,请市政协审查")
    assert sent["sent"]["to"] == CITY and sent["proposal"]["status"] == "forwarded"
    assert sent["route"]["action"] == "escalate" and sent["route"]["belongs_to"] == CITY

    # forwarded already, and read-only here
    again = county.invoke("proposals", "forward", ref)
    assert again.returncode == 2 and "already" in (again.stdout + again.stderr)
    review = county.invoke("proposals", "review", ref, "--decision", "filed")
    assert review.returncode == 2 and "forwarded" in (review.stdout + review.stderr)

    there = wait_for(lambda: _at_city(city, title), WAIT, "the proposal at the city")
    assert there["kind"] == "forwarded" and there["status"] == "submitted"
    assert there["origin"] == {"node": COUNTY, "ref": ref}
    assert [s["name"] for s in there["signers"]] == ["李强"] and there["areas"] == ["620302001", "620321"]
    assert there["consent"]["by"].endswith("as li")
    wait_for(lambda: _upstream(county, ref, "submitted"), WAIT, "the city's receipt at the county")

    city_ref = str(there["id"])
    number = city.run_json("proposals", "review", city_ref, "--decision", "filed")["number"]
    city.run("proposals", "assign", number, "--lead", "市交通运输局")
    # the city's office cannot rate for the proposer: the proposer rates at the county
    assert city.invoke("proposals", "rate", number, *RATE).returncode == 2
    city.run("proposals", "reply", number, "--classification", "planned", "--text", "列入2027年市级养护计划",
             "--as", "chen")

    replied = wait_for(lambda: _upstream(county, ref, "replied"), WAIT, "the city's reply at the county")
    events = [e["event"] for e in replied["upstream"]["events"]]
    assert events == ["received", "filed", "assigned", "replied"]
    assert replied["upstream"]["number"] == number
    assert replied["upstream"]["events"][-1]["summary"] == "列入2027年市级养护计划"
    assert replied["upstream"]["events"][-1]["detail"]["unit"] == "市交通运输局"
    shown = county.run("proposals", "show", ref)
    assert "列入2027年市级养护计划" in shown and number in shown

    rated = county.run_json("proposals", "rate", ref, *RATE, "--comment", "办理认真", "--as", "li")
    assert rated["ratings"][0]["overall"] == "satisfied"
    def rated_at_city():
        data = city.run_json("proposals", "show", number)
        return data if data["status"] == "rated" else None

    counted = wait_for(rated_at_city, WAIT, "the proposer's rating at the city")
    (rating,) = counted["ratings"]
    assert rating["rated_by"].startswith(f"node:{COUNTY}:") and rating["measures"] == "basically"
    assert rating["comment"] == "办理认真"
    city.run("proposals", "close", number)
    closed = wait_for(lambda: _upstream(county, ref, "closed"), WAIT, "the closing at the county")
    assert [e["event"] for e in closed["upstream"]["events"]][-2:] == ["rated", "closed"]

    # the city has no parent: forwarding from there is refused, nothing sent
    own = _submit(city, "关于市区公交线网优化的建议", "--body-kind", "special_committee", "--body-name", "提案委员会")
    city.run("proposals", "consent", str(own["id"]), "--note", "委员会书面同意")
    lonely = city.invoke("proposals", "forward", str(own["id"]))
    assert lonely.returncode == 2 and "no parent" in (lonely.stdout + lonely.stderr)
    assert city.run_json("proposals", "show", str(own["id"]))["status"] == "submitted"


def test_a_tampered_or_unknown_answer_is_refused_with_the_protocols_error(net):
    from shangliang.federation import canonical, envelope, hops

    county, city = net[COUNTY], net[CITY]
    key = city.key()
    body = {"ref": "999999", "event": "filed", "status": "filed", "number": "2027-1-0099", "round": 1,
            "summary": "", "detail": {}, "at_ms": 1}
    before = len(county.inbox())
    made = hops.append(envelope.create(key, CITY, "x-proposals.answer", body), key, CITY, COUNTY, "reply")
    unknown = county.post("/federation/v1/inbox", canonical.dumps(made))
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "invalid_body", unknown.text
    assert "no proposal 999999" in unknown.json()["error"]["message"]

    made = hops.append(envelope.create(key, CITY, "x-proposals.answer", {**body, "ref": "1"}), key, CITY, COUNTY,
                       "reply")
    made["body"]["summary"] = "篡改"
    tampered = county.post("/federation/v1/inbox", canonical.dumps(made))
    assert tampered.status_code == 401 and tampered.json()["error"]["code"] == "bad_signature", tampered.text

    # a forward written by the parent (the wrong way): refused
    forward = {"proposal": {"ref": "1", "title": "t", "reasons": "r", "suggestions": "s", "category": "c",
                            "year": 2027, "term": 12, "session": 1, "kind": "member", "proposers": ["某"],
                            "areas": [], "source_topic": None},
               "consent": {"by": "x", "note": "", "at_ms": 1}, "note": ""}
    made = hops.append(envelope.create(key, CITY, "x-proposals.forward", forward), key, CITY, COUNTY, "reply")
    down = county.post("/federation/v1/inbox", canonical.dumps(made))
    assert down.status_code == 422 and down.json()["error"]["code"] == "invalid_body", down.text
    assert "comes from this node's child" in down.json()["error"]["message"]
    assert len(county.inbox()) == before

    # a forward whose body does not fit: refused by the field's name, nothing kept at the city
    ckey = county.key()
    kept = len(city.run_json("proposals", "list"))
    bad = {**forward, "proposal": {**forward["proposal"], "areas": ["not-a-code"]}}
    made = hops.append(envelope.create(ckey, COUNTY, "x-proposals.forward", bad), ckey, COUNTY, CITY, "reply")
    answer = city.post("/federation/v1/inbox", canonical.dumps(made))
    assert answer.status_code == 422 and "body.proposal.areas" in answer.json()["error"]["message"], answer.text
    missing = {**forward, "consent": {"by": "x", "at_ms": 1}}
    made = hops.append(envelope.create(ckey, COUNTY, "x-proposals.forward", missing), ckey, COUNTY, CITY, "reply")
    answer = city.post("/federation/v1/inbox", canonical.dumps(made))
    assert answer.status_code == 422 and "body.consent.note is missing" in answer.json()["error"]["message"]
    # a rating of a proposal the county never forwarded
    rating = {"ref": "424242", "round": 1, "contact": "satisfied", "attitude": "satisfied", "measures": "satisfied",
              "pertinence": "satisfied", "leader_attention": "satisfied", "result": "satisfied",
              "overall": "satisfied", "comment": "", "by": "li"}
    made = hops.append(envelope.create(ckey, COUNTY, "x-proposals.rating", rating), ckey, COUNTY, CITY, "reply")
    answer = city.post("/federation/v1/inbox", canonical.dumps(made))
    assert answer.status_code == 422 and "no proposal 424242" in answer.json()["error"]["message"], answer.text
    assert len(city.run_json("proposals", "list")) == kept


def test_an_unsatisfied_proposer_at_the_county_sends_the_city_into_a_new_round(net):
    county, city = net[COUNTY], net[CITY]
    title = "关于跨县客运班线的建议"
    ref = str(_submit(county, title, "--as", "li")["id"])
    county.run("proposals", "consent", ref, "--note", "书面同意书存档")
    county.run("proposals", "forward", ref, "--area", "620302", "--area", "620321")
    there = wait_for(lambda: _at_city(city, title), WAIT, "the proposal at the city")
    number = city.run_json("proposals", "review", str(there["id"]), "--decision", "filed")["number"]
    city.run("proposals", "assign", number, "--lead", "市交通运输局")
    city.run("proposals", "reply", number, "--classification", "cannot_now", "--text", "暂无资金",
             "--reasons", "财力有限", "--as", "chen")
    wait_for(lambda: _upstream(county, ref, "replied"), WAIT, "the reply at the county")
    unhappy = [*RATE[:-1], "unsatisfied"]
    county.run("proposals", "rate", ref, *unhappy, "--as", "li")
    # one rating per round: a second one before the city answers is refused here
    assert county.invoke("proposals", "rate", ref, *RATE, "--as", "li").returncode == 2

    again = wait_for(lambda: _upstream(county, ref, "assigned"), WAIT, "the new round at the county")
    assert again["upstream"]["round"] == 2 and again["upstream"]["events"][-1]["event"] == "unsatisfied"
    shown = city.run_json("proposals", "show", number)
    assert shown["round"] == 2 and shown["status"] == "assigned" and shown["ratings"][0]["overall"] == "unsatisfied"
    city.run("proposals", "reply", number, "--classification", "planned", "--text", "列入下年度计划", "--as", "chen")
    wait_for(lambda: _upstream(county, ref, "replied"), WAIT, "the second reply at the county")
    rated = county.run_json("proposals", "rate", ref, *RATE, "--as", "li")
    assert [r["round"] for r in rated["ratings"]] == [1, 2]
    wait_for(lambda: (lambda d: d if d["status"] == "rated" else None)(city.run_json("proposals", "show", number)),
             WAIT, "the second rating at the city")
