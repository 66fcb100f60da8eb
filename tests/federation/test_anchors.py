"""Audit anchors: a child's audit head, signed and kept by its parent, lets ``audit verify --against-parent``
detect what the chain alone cannot — its last rows deleted and the head moved back, or the whole log
wiped and begun again. Two real nodes (county 620302, township 620302001) on loopback."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import text

from shangliang.core import audit
from shangliang.core.app import create_app
from shangliang.core.db import get_session

COUNTY, TOWNSHIP = "620302", "620302001"


@pytest.fixture
def pair(federation):
    nodes = federation(COUNTY, TOWNSHIP, in_process=True)
    for node in nodes.values():
        node.start()
    return nodes[COUNTY], nodes[TOWNSHIP]


def children(county) -> dict[str, dict]:
    return {row["child"]: row for row in county.run_json("audit", "children")}


def wait_for_anchor(county, seq: int, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = children(county)[TOWNSHIP]
        if row["seq"] == seq:
            return row
        time.sleep(0.2)
    pytest.fail(f"the county did not keep the anchor at row {seq}: {children(county)}")


def verify_against_parent(township):
    result = township.invoke("audit", "verify", "--against-parent", "--json")
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else result.stderr


def rows_and_head(node):
    app = create_app(node.dir)
    try:
        with app.app_context():
            return audit.head(get_session())
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def tamper(node, keep_through: int) -> None:
    """Delete every audit row after ``keep_through`` and move the head back to it, as someone with the
    database would: the chain alone stays consistent."""
    app = create_app(node.dir)
    try:
        with app.app_context():
            session = get_session()
            kept = session.execute(text("SELECT hash FROM audit_events WHERE seq = :s"), {"s": keep_through}).scalar()
            session.execute(text("DELETE FROM audit_events WHERE seq > :s"), {"s": keep_through})
            session.execute(text("UPDATE audit_head SET seq = :s, hash = :h"),
                            {"s": keep_through, "h": kept or audit.GENESIS})
            session.commit()
    finally:
        app.extensions["shangliang.db"].engine.dispose()


def raise_topic(node, title: str) -> None:
    node.run("topics", "add", "--title", title, "--category", "城乡建设", "--area", TOWNSHIP,
             "--raised-by-kind", "public", "--raised-by-name", "村民")


def test_a_chain_cut_back_or_wiped_after_its_anchor_is_detected(pair):
    county, township = pair
    assert children(county)[TOWNSHIP]["seq"] is None
    for n in range(3):
        raise_topic(township, f"议题 {n}")
    anchored = json.loads(township.run("audit", "anchor", "--json"))
    seq, digest = rows_and_head(township)
    assert anchored["seq"] == seq and anchored["hash"] == digest and seq >= 3
    kept = wait_for_anchor(county, seq)
    assert kept["hash"] == digest and kept["anchors"] == 1

    township.run("audit", "anchor")  # the same head again: the parent keeps it once
    deadline = time.monotonic() + 60
    while len([r for r in township.run_json("outbox", "list") if r["kind"] == "x-audit.anchor"
               and r["status"] == "sent"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert children(county)[TOWNSHIP]["anchors"] == 1

    status, report = verify_against_parent(township)
    assert status == 0 and report["ok"] and report["anchor"]["seq"] == seq and report["anchor"]["holder"] == COUNTY
    raise_topic(township, "之后的议题")  # rows after the anchor are fine
    assert verify_against_parent(township)[0] == 0

    tamper(township, seq - 2)  # the last rows deleted, the head moved back
    assert township.invoke("audit", "verify").returncode == 0, "the chain alone cannot show this"
    status, report = verify_against_parent(township)
    assert status == 1 and report["kind"] == "cut" and f"row {seq}" in report["problem"]

    tamper(township, 0)  # everything wiped and the head reset
    assert township.invoke("audit", "verify").returncode == 0
    status, report = verify_against_parent(township)
    assert status == 1 and report["kind"] == "cut"

    # Anchoring the wiped chain is refused by the parent, which keeps the earlier anchor and an alert.
    raise_topic(township, "重新开始")
    township.run("audit", "anchor")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dead = township.run_json("outbox", "list", "--dead")
        if dead:
            break
        time.sleep(0.2)
    assert dead and dead[0]["kind"] == "x-audit.anchor" and "went back" in (dead[0].get("last_error") or "")
    assert children(county)[TOWNSHIP]["seq"] == seq


def test_verify_against_a_parent_without_an_anchor_says_so(pair):
    _county, township = pair
    result = township.invoke("audit", "verify", "--against-parent")
    assert result.returncode == 2 and "keeps no anchor" in result.stderr, result.stderr


def test_a_row_rewritten_before_the_anchor_is_detected(make_node):
    node_dir = make_node(node_id=TOWNSHIP, name="宁远堡镇")
    app = create_app(node_dir)
    try:
        with app.app_context():
            session = get_session()
            seq, digest = audit.head(session)
            assert seq >= 1
            assert audit.verify(session, {"seq": seq, "hash": digest, "holder": COUNTY}).ok
            report = audit.verify(session, {"seq": seq, "hash": "f" * 64, "holder": COUNTY})
            assert not report.ok and report.kind == "rewritten" and COUNTY in report.problem
    finally:
        app.extensions["shangliang.db"].engine.dispose()
