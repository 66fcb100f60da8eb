"""Similar matters between real nodes: two townships (620302001, 620302002) raise the same drainage complaint in
different words and escalate it to their county (620302), each node its own ``serve`` process on loopback; the
county is offered one merged matter, merges it, consults on it and records a result — and both townships
receive that result along their own topic's route."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import DRAIN_1, DRAIN_2, T1, T2

pytestmark = pytest.mark.slow

COUNTY = "620302"
WAIT = 60.0


@pytest.fixture(scope="module")
def net(module_federation):
    nodes = module_federation(COUNTY, T1, T2, in_process=True)
    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(lambda node: node.start(), nodes.values()))
    return nodes


def wait_until(what: str, probe, timeout: float = WAIT):
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
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}; last: {str(last)[:2000]}")


def show(node, uid):
    return node.run_json("topics", "show", uid)


def raise_and_escalate(node, text, area) -> str:
    added = node.run_json("topics", "add", "--title", text["title"], "--description", text["description"],
                          "--category", "城乡建设", "--area", area, "--raised-by-kind", "public",
                          "--raised-by-name", "村民代表")
    node.run("topics", "escalate", added["uid"], "--note", "排水问题涉及全区,提请区政协协商")
    return added["uid"]


def test_two_townships_escalate_the_same_complaint_the_county_merges_it_and_both_hear_the_result(net):
    county, one, two = net[COUNTY], net[T1], net[T2]
    a = raise_and_escalate(one, DRAIN_1, T1)
    b = raise_and_escalate(two, DRAIN_2, T2)
    for uid in (a, b):
        wait_until(f"{uid} at the county", lambda uid=uid: show(county, uid)["holder"] == COUNTY)
    # the county is offered one matter, from two places, with the reasons
    found = wait_until("a suggestion at the county", lambda: county.run_json("similar", "list", "--json"))
    assert len(found) == 1
    topics = found[0]["topics"]
    assert sorted(t["uid"] for t in topics) == sorted([a, b])
    assert sorted(t["from"] for t in topics) == [T1, T2] and sorted(t["areas"][0] for t in topics) == [T1, T2]
    assert found[0]["score"] >= 55 and "排水沟" in topics[1]["shared"]
    # merged: one matter held here; both topics accepted (each township hears so)
    merged = county.run_json("similar", "merge", str(found[0]["id"]), "--primary", a, "--note", "同一排水问题")
    assert merged["state"] == "merged" and merged["primary"] == a
    for node, uid in ((one, a), (two, b)):
        wait_until(f"{uid} accepted", lambda node=node, uid=uid: show(node, uid)["awaiting_acceptance"] is False)
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        county.run("topics", "advance", a, "--to", stage)
    county.run("topics", "result", a, "--kind", "协商意见", "--title", "两镇排水沟汛前清淤疏通",
               "--summary", "区住建局会同两镇汛前完成排水沟清淤", "--measure", "五月底前完成清淤",
               "--handling-unit", "区住建局")
    # both townships receive the merged matter's result along their own topic's route
    for node, uid in ((one, a), (two, b)):
        home = wait_until(f"the result at {node.id}", lambda node=node, uid=uid: (
            data := show(node, uid))["stage"] == "closed" and data)
        assert home["result"]["title"] == "两镇排水沟汛前清淤疏通"
        assert home["result"]["measures"] == ["五月底前完成清淤"]
        kinds = [(e["direction"], e["kind"]) for e in home["route"]]
        assert ("received", "topic.result") in kinds and home["route_verified"] is True
    # the county shows both closed, the original with the merged matter named
    original = show(county, b)
    assert original["stage"] == "closed" and original["result"]["title"] == "两镇排水沟汛前清淤疏通"
    assert any(e["action"] == "merged" and a in e["note"] for e in original["events"])
