"""Social-opinion reports across levels between real node processes on loopback (their workers delivering over HTTP):
a county member's report written through the township work station is forwarded township → county → city, the
author kept; the city adopts it and its leader instructs on it, and both come back down level by level to the
township, recorded at each node with the level that decided; the county member's duty record at the county
(``duty_record_items``) shows the adoptions and the instruction. And the refusal, by the protocol's error, of a
decision about a report never forwarded to the sender."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ..nodes import wait_for

CITY, COUNTY, TOWNSHIP = "6203", "620302", "620302001"
WAIT = 90.0


@pytest.fixture(scope="module")
def net(module_federation):
    nodes = module_federation(CITY, COUNTY, TOWNSHIP, in_process=True)
    nodes[COUNTY].run("members", "add", "--name", "李秀兰", "--sector", "农业界", "--member-no", "J007")
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda node: node.start(), nodes.values()))
    return nodes


def _received(node, title):
    found = [o for o in node.run_json("opinions", "list") if o["title"] == title]
    return node.run_json("opinions", "show", str(found[0]["id"])) if found else None


def _events(node, ref, count):
    data = node.run_json("opinions", "show", ref)
    return data if len(data["events"]) >= count else None


def test_a_report_goes_up_two_levels_and_the_adoption_and_instruction_come_back_down(net):
    township, county, city = net[TOWNSHIP], net[COUNTY], net[CITY]
    title = "关于乡村学校校车安全的情况反映"
    written = township.run_json("opinions", "write", "--title", title, "--sentiment", "家长反映校车超载",
                                "--analysis", "运力不足", "--suggestion", "增加校车班次", "--category", "教育",
                                "--year", "2026", "--member-no", "J007", "--author-name", "李秀兰",
                                "--author-node", COUNTY)
    ref = str(written["id"])
    assert written["author"] == {"kind": "member", "name": "李秀兰", "member_no": "J007", "node": COUNTY}
    sent = township.run_json("opinions", "decide", ref, "--decision", "forwarded", "--text", "请区政协审阅")
    assert sent["sent"] == [{"kind": "x-opinions.forward", "id": sent["sent"][0]["id"], "to": COUNTY}]

    at_county = wait_for(lambda: _received(county, title), WAIT, "the report at the county")
    assert at_county["origin"] == {"node": TOWNSHIP, "ref": ref} and at_county["status"] == "pending"
    assert at_county["author"] == written["author"] and at_county["written"]["node"] == TOWNSHIP
    county_ref = str(at_county["id"])
    county.run("opinions", "decide", county_ref, "--decision", "used", "--text", "编入区政协社情民意")
    county.run("opinions", "decide", county_ref, "--decision", "forwarded")

    at_city = wait_for(lambda: _received(city, title), WAIT, "the report at the city")
    assert at_city["origin"] == {"node": COUNTY, "ref": county_ref}
    assert at_city["author"] == written["author"] and at_city["written"]["node"] == TOWNSHIP
    city_ref = str(at_city["id"])
    city.run("opinions", "decide", city_ref, "--decision", "reported", "--body-kind", "party_committee",
             "--body", "金昌市委")
    city.run("opinions", "decide", city_ref, "--decision", "adopted", "--body", "金昌市委办公室")
    city.run("opinions", "decide", city_ref, "--decision", "instruction", "--leader", "王书记",
             "--text", "请市教育局会同交通部门落实", "--date", "2026-12-01")

    # at the county: its own two decisions, then the city's three, told by the city
    county_seen = wait_for(lambda: _events(county, county_ref, 5), WAIT, "the city's decisions at the county")
    assert [(e["kind"], e["node"], e["level"], e["remote"]) for e in county_seen["events"]] == [
        ("used", COUNTY, "county", False), ("forwarded", COUNTY, "county", False),
        ("reported", CITY, "city", True), ("adopted", CITY, "city", True), ("instruction", CITY, "city", True)]
    # at the township, where it was written: every decision above, passed down by the county
    home = wait_for(lambda: _events(township, ref, 6), WAIT, "the decisions back at the township")
    assert [(e["kind"], e["node"], e["remote"]) for e in home["events"]] == [
        ("forwarded", TOWNSHIP, False), ("used", COUNTY, True), ("forwarded", COUNTY, True),
        ("reported", CITY, True), ("adopted", CITY, True), ("instruction", CITY, True)]
    instruction = home["events"][-1]
    assert (instruction["leader"], instruction["text"], instruction["date"], instruction["level"]) == (
        "王书记", "请市教育局会同交通部门落实", "2026-12-01", "city")
    assert home["events"][-2]["body"] == "金昌市委办公室"

    # counted at the township per member and level, and at the county in the member's duty record
    stats = township.run_json("opinions", "statistics", "--year", "2026")
    (member,) = stats["by_member"]
    assert (member["name"], member["member_no"], member["home"]) == ("李秀兰", "J007", COUNTY)
    assert member["adopted_by_level"] == {"city": 1, "county": 1} and member["instructions"] == 1
    assert {r["level"]: r["adopted"] for r in stats["by_level"]} == {"county": 1, "city": 1}
    county_stats = county.run_json("opinions", "statistics", "--year", "2026")
    assert county_stats["by_member"][0]["adopted"] == 1 and county_stats["totals"]["instructions"] == 1
    items = _duty_items(county, {"id": 1, "member_no": "J007", "name": "李秀兰"}, 2026)
    assert sorted((i["kind"], i.get("decision"), i.get("level")) for i in items) == [
        ("adoption", "adopted", "city"), ("adoption", "instruction", "city"), ("adoption", "used", "county"),
        ("social_opinion", None, None)]


def _duty_items(node, member, year):
    """The county's ``duty_record_items`` for ``member`` (read in this process from the node's database)."""
    from shangliang.core.app import create_app
    from shangliang.core.context import node_context
    from shangliang.core.db import get_session

    app = create_app(node.dir)
    try:
        with app.app_context():
            here = node_context()
            found = here.pm.hook.duty_record_items(session=get_session(), node=here, member=member, year=year)
            return [i for items in found if items for i in items if i["source"] == "opinions"]
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def test_a_decision_about_a_report_never_forwarded_is_refused(net):
    from shangliang.federation import canonical, envelope, hops

    county, city = net[COUNTY], net[CITY]
    key = city.key()
    body = {"ref": "999999", "decision": {"kind": "adopted", "node": CITY, "level": "city", "body": "金昌市委",
                                          "body_kind": None, "leader": None, "text": "", "date": "2026-12-01",
                                          "at_ms": 1}}
    made = hops.append(envelope.create(key, CITY, "x-opinions.decision", body), key, CITY, COUNTY, "reply")
    refused = county.post("/federation/v1/inbox", canonical.dumps(made))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_body", refused.text
    assert "no report '999999'" in refused.json()["error"]["message"]
