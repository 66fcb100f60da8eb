"""Bundle files between two real node processes with no HTTP route to each other: a village and its township,
each pinning the other as reached by bundle files only (at an address where nothing listens). A topic raised in
the village travels up in a bundle, is accepted and handled at the township, and its answers come back the same
way; a bundle imported twice, altered, signed by no one, or meant for another node is refused and changes nothing."""

from __future__ import annotations

import json
import time

import pytest

from ..nodes import wait_for

pytestmark = pytest.mark.slow

VILLAGE, TOWNSHIP = "620302001201", "620302001"
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, every HTTP try would fail
FAST = {
    "SHANGLIANG_FEDERATION_BACKOFF_BASE_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_HOLD_START_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_HOLD_MAX_SECONDS": "1",
    "SHANGLIANG_FEDERATION_PUMP_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_LEASE_SECONDS": "2",
}


@pytest.fixture(scope="module")
def pair(module_federation):
    """The village and the township, each pinning the other by bundle files only, both serving."""
    nodes = module_federation(VILLAGE, TOWNSHIP, in_process=True)
    village, township = nodes[VILLAGE], nodes[TOWNSHIP]
    for node, other in ((village, township), (township, village)):
        node_id, _url, key, name = other.pairing
        node.run("peers", "remove", node_id)
        assert "reached by bundle files" in node.run("peers", "add", "--bundle", node_id, NOWHERE, key, name)
        node.env.update(FAST)
        node.start()
    return village, township


def raise_and_escalate(village, title: str) -> str:
    uid = village.run_json("topics", "add", "--title", title, "--category", "交通", "--area", VILLAGE,
                           "--area", "620302001202", "--raised-by-kind", "public", "--raised-by-name", "村民代表")["uid"]
    sent = village.run_json("topics", "escalate", uid, "--note", "跨村道路,提请镇政协联络组协调")
    assert sent["holder"] == TOWNSHIP and sent["sent"]["kind"] == "topic.escalate"
    return uid


def export(node, to: str, path, *extra: str) -> dict:
    return node.run_json("bundle", "export", "--to", to, str(path), *extra)


def import_(node, path) -> dict:
    return node.run_json("bundle", "import", str(path))


def refused(node, path) -> tuple[dict, str]:
    """Import a bundle that must be refused whole: (the JSON error body, standard error)."""
    result = node.invoke("bundle", "import", str(path), "--json")
    assert result.returncode == 2, result.stdout + result.stderr
    return json.loads(result.stdout), result.stderr


def outbox(node, to: str) -> list[dict]:
    return [row for row in node.run_json("outbox", "list", "--limit", "100000") if row["to"] == to]


def state(node) -> tuple[int, int]:
    """(accepted transfers, topics) on a node: what an import would have added to."""
    return len(node.inbox()), len(node.run_json("topics", "list"))


def never_tried_over_http(node, peer: str) -> None:
    health = {row["id"]: row for row in node.run_json("peers", "health")}[peer]
    assert health["failures"] == 0 and health["last_failure_ms"] is None, health
    assert not [row for row in outbox(node, peer) if row["status"] == "dead"]


def test_a_topic_and_its_answers_travel_by_bundle_files(pair, tmp_path):
    village, township = pair
    uid = raise_and_escalate(village, "村道修缮")
    # The workers run and pump every 0.3 s: the message still waits, never tried over HTTP.
    time.sleep(2)
    [waiting] = outbox(village, TOWNSHIP)
    assert waiting["status"] == "pending" and waiting["attempts"] == 0
    never_tried_over_http(village, TOWNSHIP)

    up = tmp_path / "up.bundle"
    written = export(village, TOWNSHIP, up)
    assert written["messages"] == 1 and written["to"] == TOWNSHIP and up.stat().st_size == written["bytes"]
    assert [row["status"] for row in outbox(village, TOWNSHIP)] == ["sent"]
    # Handed over: a second export has nothing to write, unless asked --again.
    again = village.invoke("bundle", "export", "--to", TOWNSHIP, str(tmp_path / "none.bundle"))
    assert again.returncode == 2 and "no message waits for 620302001" in again.stderr
    assert not (tmp_path / "none.bundle").exists()

    report = import_(township, up)
    assert (report["accepted"], report["duplicate"], report["refused"]) == (1, 0, 0)
    assert report["messages"][0]["kind"] == "topic.escalate" and report["messages"][0]["topic"] == uid
    at_township = township.run_json("topics", "show", uid)
    assert at_township["holder"] == TOWNSHIP and at_township["awaiting_acceptance"] is True
    assert at_township["route_verified"] is True

    # The same bundle again: every message a duplicate, the bundle refused as replayed, nothing applied twice.
    before = state(township), len(township.run_json("topics", "show", uid)["events"])
    body, stderr = refused(township, up)
    assert body["error"]["code"] == "bundle_replayed" and "bundle_replayed" in stderr
    assert [m["status"] for m in body["report"]["messages"]] == ["duplicate"]
    assert (state(township), len(township.run_json("topics", "show", uid)["events"])) == before

    # The township handles it; its answers wait for the village, never tried over HTTP.
    township.run("topics", "accept", uid)
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        township.run("topics", "advance", uid, "--to", stage, "--note", f"进入{stage}")
    township.run("topics", "result", uid, "--kind", "协商意见", "--title", "村道修缮纳入镇年度计划",
                 "--summary", "镇政府将两村连接道路修缮列入年度计划", "--measure", "汛期前完工")
    time.sleep(1)
    assert {row["status"] for row in outbox(township, VILLAGE)} == {"pending"}
    never_tried_over_http(township, VILLAGE)

    down = tmp_path / "down.bundle"
    assert export(township, VILLAGE, down)["messages"] == 7
    answers = import_(village, down)
    assert (answers["accepted"], answers["duplicate"], answers["refused"]) == (7, 0, 0)
    kinds = [m["kind"] for m in answers["messages"]]
    assert kinds[0] == "topic.accept" and kinds[-1] == "topic.result" and kinds.count("topic.progress") == 5
    home = village.run_json("topics", "show", uid)
    assert home["stage"] == "closed" and home["result"]["title"] == "村道修缮纳入镇年度计划"
    assert home["route_verified"] is True
    never_tried_over_http(village, TOWNSHIP)


def test_a_bundle_written_again_holds_old_and_new_messages_and_applies_only_the_new(pair, tmp_path):
    village, township = pair
    first = raise_and_escalate(village, "村委会门前路灯")
    export(village, TOWNSHIP, tmp_path / "first.bundle")
    assert import_(township, tmp_path / "first.bundle")["accepted"] == 1
    events = len(township.run_json("topics", "show", first)["events"])
    second = raise_and_escalate(village, "村卫生室搬迁")
    both = export(village, TOWNSHIP, tmp_path / "both.bundle", "--again")
    # --again rewrites what earlier bundles handed over and still lives, with the new message last.
    assert both["messages"] >= 2
    report = import_(township, tmp_path / "both.bundle")
    statuses = {m["topic"]: m["status"] for m in report["messages"]}
    assert statuses[first] == "duplicate" and statuses[second] == "accepted"
    assert report["accepted"] == 1 and report["refused"] == 0
    assert len([t for t in township.run_json("topics", "list") if t["uid"] == first]) == 1
    assert len(township.run_json("topics", "show", first)["events"]) == events  # nothing applied twice
    assert township.run_json("topics", "show", second)["holder"] == TOWNSHIP


def edited(source, target, change) -> None:
    """Write ``target``: the bundle ``source`` with ``change(document)`` applied."""
    document = json.loads(source.read_text(encoding="utf-8"))
    change(document)
    target.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def test_altered_misaddressed_and_foreign_bundles_are_refused_whole(pair, tmp_path):
    village, township = pair
    uid = raise_and_escalate(village, "村口桥梁加固")
    good = tmp_path / "good.bundle"
    export(village, TOWNSHIP, good)
    before = state(township)

    # A changed byte in a message: its SHA-256 is not the one the manifest signed.
    tampered = tmp_path / "tampered.bundle"
    edited(good, tampered, lambda d: d["messages"].__setitem__(0, d["messages"][0].replace("村口桥梁加固", "村口桥梁拆除")))
    body, _ = refused(township, tampered)
    assert body["error"]["code"] == "bundle_tampered" and "SHA-256" in body["error"]["message"]

    # The manifest changed to match (the digest recomputed): its signature no longer verifies.
    def forge(document):
        import hashlib

        document["messages"][0] = document["messages"][0].replace("村口桥梁加固", "村口桥梁拆除")
        document["manifest"]["messages"][0]["sha256"] = hashlib.sha256(document["messages"][0].encode()).hexdigest()

    forged = tmp_path / "forged.bundle"
    edited(good, forged, forge)
    body, _ = refused(township, forged)
    assert body["error"]["code"] == "bundle_bad_signature"

    # A broken signature on an untouched manifest.
    broken = tmp_path / "broken.bundle"
    edited(good, broken, lambda d: d["sig"].__setitem__("value", ("B" if d["sig"]["value"][0] == "A" else "A")
                                                         + d["sig"]["value"][1:]))
    assert refused(township, broken)[0]["error"]["code"] == "bundle_bad_signature"

    # A message left out of the bundle (the manifest still lists it).
    short = tmp_path / "short.bundle"
    edited(good, short, lambda d: d["messages"].clear())
    assert refused(township, short)[0]["error"]["code"] == "bundle_tampered"

    # Meant for another node: the village's own bundle carried to the village.
    body, _ = refused(village, good)
    assert body["error"]["code"] == "bundle_for_another_node" and TOWNSHIP in body["error"]["message"]

    # Not a bundle at all.
    junk = tmp_path / "junk.bundle"
    junk.write_bytes(b"\x89PNG not a bundle")
    assert refused(township, junk)[0]["error"]["code"] == "bundle_malformed"
    lone = tmp_path / "surrogate.bundle"  # a message with a lone surrogate: no UTF-8 bytes to hash or verify
    document = json.loads(good.read_text(encoding="utf-8"))
    lone.write_text(json.dumps(dict(document, messages=["\ud800"])), encoding="ascii")  # escaped as JSON allows
    assert refused(township, lone)[0]["error"]["code"] == "bundle_malformed"

    # Nothing of any of them was applied: the township has not heard of the topic; the good bundle still imports.
    assert state(township) == before
    assert uid not in {t["uid"] for t in township.run_json("topics", "list")}
    assert import_(township, good)["accepted"] == 1
    assert township.run_json("topics", "show", uid)["holder"] == TOWNSHIP
