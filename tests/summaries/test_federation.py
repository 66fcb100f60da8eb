"""Summaries between real node processes: a township sends its summary to its county, the county forwards its
subtree to the city, and the city's API shows the township's figures; a summary sent down from a parent (not a
child) is refused with nothing stored."""

from __future__ import annotations

import json

import pytest
import requests

from ..nodes import wait_for

pytestmark = pytest.mark.slow

CITY, COUNTY, TOWNSHIP = "6203", "620302", "620302001"
FAST = {
    "SHANGLIANG_FEDERATION_BACKOFF_BASE_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_HOLD_START_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_HOLD_MAX_SECONDS": "1",
    "SHANGLIANG_FEDERATION_PUMP_SECONDS": "0.3",
}


def _shown(node) -> dict:
    return {n["node"]: n for n in node.run_json("summaries", "show", "--json")["nodes"]}


def _sent(node, kind: str) -> list[dict]:
    return [r for r in node.run_json("outbox", "list", "--json") if r["kind"] == kind]


def test_a_township_summary_reaches_the_city_through_the_county(federation):
    nodes = federation(CITY, COUNTY, TOWNSHIP, in_process=True)
    city, county, township = nodes[CITY], nodes[COUNTY], nodes[TOWNSHIP]
    for title in ("村道硬化", "饮水工程", "集市摊位"):
        township.run("topics", "add", "--title", title, "--category", "民生", "--area", TOWNSHIP,
                     "--raised-by-kind", "public", "--raised-by-name", "村民代表")
    city.run("users", "add", "zhao", "--role", "office", "--name", "赵主任", "--password-stdin",
             input="correct-horse\n")
    for node in (city, county, township):
        node.env.update(FAST)
        node.start()

    township.run("summaries", "send")
    at_county = wait_for(lambda: _shown(county).get(TOWNSHIP), what="the township's summary at the county")
    assert at_county["figures"]["topics"]["total"] == 3 and not at_county["stale"]

    county.run("summaries", "send")
    at_city = wait_for(lambda: _shown(city).get(TOWNSHIP), what="the township's figures at the city")
    assert at_city["figures"]["topics"]["total"] == 3
    answer = requests.get(city.url + "/api/v1/summaries", auth=("zhao", "correct-horse"), timeout=10)
    assert answer.status_code == 200, answer.text
    tree = answer.json()
    by_node = {n["node"]: n for n in tree["nodes"]}
    assert set(by_node) == {CITY, COUNTY, TOWNSHIP}
    assert by_node[TOWNSHIP]["figures"]["topics"]["by_stage"]["collected"] == 3
    assert by_node[TOWNSHIP]["parent"] == COUNTY and by_node[COUNTY]["parent"] == CITY
    assert tree["totals"]["topics"]["total"] == 3 and tree["stale"] == []

    # The county (the township's parent, not its child) sends a summary down: refused, nothing stored.
    body = {"as_of_ms": 1, "nodes": [{"node": COUNTY, "name": "县", "level": "county", "parent": CITY,
                                      "as_of_ms": 1, "figures": {"topics": {"total": 99}}}]}
    county.run("outbox", "send", "x-summaries.report", "--to", TOWNSHIP, "--body", json.dumps(body))
    dead = wait_for(lambda: [r for r in _sent(county, "x-summaries.report") if r["to"] == TOWNSHIP
                             and r["status"] == "dead"], what="the refused summary dead-lettered")
    assert dead[0]["last_status"] == 422 and "not a paired child" in dead[0]["last_error"]
    assert set(_shown(township)) == {TOWNSHIP}
