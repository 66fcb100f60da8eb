"""Members of a higher committee take part locally (issue 13, item 2): a township reports items of a city
committee member over signed ``x-duty.items``, passed on up by the county to the city, whose record of the member
then holds them with the township as the reporter — real node processes on loopback, their workers delivering
over HTTP. Refused (422, dead-lettered at the sender, nothing stored): a member the target does not know, a
message that does not come from a child."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from ..nodes import wait_for

CITY, COUNTY, TOWNSHIP = "6203", "620302", "620302001"
YEAR = 2026
WAIT = 90.0


@pytest.fixture(scope="module")
def net(module_federation):
    nodes = module_federation(CITY, COUNTY, TOWNSHIP, in_process=True)
    nodes[CITY].run("members", "add", "--name", "赵敏", "--sector", "经济界", "--member-no", "S001")
    nodes[COUNTY].run("members", "add", "--name", "李强", "--sector", "农业界", "--member-no", "J001")
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda node: node.start(), nodes.values()))
    return nodes


def _dead(node, kind="x-duty.items"):
    return [m for m in node.run_json("outbox", "list") if m["kind"] == kind and m["status"] == "dead"]


def test_a_township_reports_a_city_members_items_up_two_levels(net):
    township, county, city = net[TOWNSHIP], net[COUNTY], net[CITY]
    sent = township.run_json("duty", "report", "--target", CITY, "--member-no", "S001", "--name", "赵敏",
                             "--item", "work_station", f"{YEAR}-04-08", "在委员工作站接待群众",
                             "--item", "research", f"{YEAR}-05-20", "乡村道路调研")
    assert sent["to"] == COUNTY and sent["target"] == CITY and sent["items"] == 2

    def reported():
        rec = city.run_json("duty", "record", "S001", "--year", str(YEAR))
        return rec if len(rec["items"]) == 2 else None

    rec = wait_for(reported, WAIT, "the items at the city")
    assert [(i["kind"], i["reported_by"], i["source"]) for i in rec["items"]] == [
        ("work_station", TOWNSHIP, f"node:{TOWNSHIP}"), ("research", TOWNSHIP, f"node:{TOWNSHIP}")]
    # the county passed it on and kept nothing of it
    assert county.run_json("duty", "assessment", "--year", str(YEAR))["members"][0]["items"] == 0
    hops = [m for m in county.run_json("outbox", "list") if m["kind"] == "x-duty.items"]
    assert hops and hops[0]["to"] == CITY


def test_a_member_the_target_does_not_know_is_refused(net):
    township, county = net[TOWNSHIP], net[COUNTY]
    township.run_json("duty", "report", "--target", COUNTY, "--member-no", "J404", "--name", "无此人",
                      "--item", "good_deed", f"{YEAR}-06-01", "捐助")
    dead = wait_for(lambda: _dead(township), WAIT, "the refusal at the township")
    assert "422" in str(dead[0]["last_status"]) and "J404" in (dead[0]["last_error"] or "")
    assert county.run_json("duty", "assessment", "--year", str(YEAR))["members"][0]["items"] == 0


def test_items_sent_down_from_a_parent_are_refused(net):
    county, city = net[COUNTY], net[CITY]
    body = {"target": COUNTY, "member": {"member_no": "J001", "name": "李强"}, "year": YEAR,
            "items": [{"ref": "c-1", "kind": "research", "title": "调研", "date": f"{YEAR}-03-01", "detail": ""}]}
    city.run("outbox", "send", "x-duty.items", "--to", COUNTY, "--body", json.dumps(body, ensure_ascii=False))
    dead = wait_for(lambda: _dead(city), WAIT, "the refusal at the county")
    assert "not this node's child" in (dead[0]["last_error"] or "")
    assert county.run_json("duty", "record", "J001", "--year", str(YEAR))["items"] == []
