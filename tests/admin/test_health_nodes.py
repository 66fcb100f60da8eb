"""A neighbour's health between real node processes (``shangliang serve`` on loopback): after a message
crosses, the sender sees it delivered and the receiver sees it received, with the clock skew of its hop; a
message to a neighbour that is down waits in the outbox and shows as pending, then failing."""

from __future__ import annotations

import json
import uuid

import pytest

from ..nodes import wait_for

pytestmark = pytest.mark.slow

FAST = {
    "SHANGLIANG_FEDERATION_BACKOFF_BASE_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_HOLD_START_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_HOLD_MAX_SECONDS": "1",
    "SHANGLIANG_FEDERATION_PUMP_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_LEASE_SECONDS": "2",
}


def escalate(node) -> str:
    topic = f"620302001:{uuid.uuid4().hex}"
    body = json.dumps({
        "topic": {"uid": topic, "title": "两镇之间道路维修", "description": "道路年久失修", "category": "交通",
                  "areas": ["620302001", "620302002"], "raised_by": {"kind": "public", "name": "村民代表"},
                  "raised_ms": 1763800000000, "stage": "collected"},
        "reason": "跨乡镇事项,提请县政协协调"}, ensure_ascii=False)
    return node.run("outbox", "send", "topic.escalate", "--to", "620302", "--topic", topic, "--body", body)


def health(node, peer: str) -> dict:
    return {row["id"]: row for row in node.run_json("peers", "health", "--json")}[peer]


def test_health_on_both_sides_of_a_delivery_and_a_neighbour_down(federation):
    nodes = federation("620302001", "620302", in_process=True)
    township, county = nodes["620302001"], nodes["620302"]
    township.env.update(FAST)
    county.env.update(FAST)
    township.start()
    # The county is down: the message waits, and delivery to it starts failing.
    escalate(township)
    failing = wait_for(lambda: (row := health(township, "620302"))["failures"] and row, what="a failed delivery")
    assert failing["pending"] == 1 and failing["last_delivered_ms"] is None and "failing" in failing["problems"]
    assert failing["name"] and failing["key_age_ms"] >= 0
    # The county comes up: the message is delivered; each side sees its half.
    county.start()
    sent = wait_for(lambda: (row := health(township, "620302"))["sent"] == 1 and row, what="the delivery")
    assert sent["pending"] == 0 and sent["last_delivered_ms"] and sent["failures"] == 0
    received = health(county, "620302001")
    assert received["last_received_ms"] and received["last_contact_ms"] >= received["last_received_ms"]
    skew = received["clock_skew"]
    assert skew["sampled"] == 1 and skew["latest_ms"] is not None
    assert abs(skew["latest_ms"]) < 120_000  # same machine: the hop was signed at most a retry before it came
