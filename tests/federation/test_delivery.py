"""Delivery between real node processes: pairing from scratch, retries, dead letters, ordering, faults.

Every node here is a real ``shangliang serve`` process (gunicorn, a Celery worker and beat) on
loopback, on the suite's backend: SQLite and the embedded broker, or PostgreSQL and Redis.
"""

import json
import shutil
import socket
import subprocess
import time
import uuid

import pytest

from ..nodes import free_port, wait_for

pytestmark = pytest.mark.slow

# PROTOCOL.md §7's timings, shortened so that a retry comes within a second, and never more than 3 s after the
# last: uncapped, a destination down for 40 s on a loaded machine (test_messages_about_one_topic_arrive_in_the_order_written,
# seen in CI) had its next try due up to 54 s later.
FAST = {
    "SHANGLIANG_FEDERATION_BACKOFF_BASE_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_BACKOFF_MAX_SECONDS": "3",
    "SHANGLIANG_FEDERATION_HOLD_START_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_HOLD_MAX_SECONDS": "1",
    "SHANGLIANG_FEDERATION_PUMP_SECONDS": "0.3",
    "SHANGLIANG_FEDERATION_LEASE_SECONDS": "2",
}
TOPIC = "620302001:01JD3Q7Z1T8W3Y5P6R2K9M4QXE"


def escalation_body(title="两镇之间道路维修") -> str:
    return json.dumps({
        "topic": {"uid": TOPIC, "title": title, "description": "宁远堡镇与双湾镇之间的道路年久失修",
                  "category": "交通", "areas": ["620302001", "620302002"],
                  "raised_by": {"kind": "public", "name": "村民代表"}, "raised_ms": 1763800000000,
                  "stage": "collected"},
        "reason": "跨乡镇事项,提请县政协协调",
    }, ensure_ascii=False)


def send(node, title="两镇之间道路维修", to="620302", topic=None):
    """Escalate a topic with ``outbox send``; a new topic each time unless one is given (a node refuses a
    second escalation of a topic it already holds)."""
    topic = topic or f"620302001:{uuid.uuid4().hex}"
    body = escalation_body(title).replace(TOPIC, topic)
    out = node.run("outbox", "send", "topic.escalate", "--to", to, "--topic", topic, "--body", body)
    return out.split()[1]  # origin/id


def outbox(node, dead=False):
    return node.run_json("outbox", "list", *(["--dead"] if dead else []))


@pytest.fixture
def pair(federation):
    nodes = federation("620302001", "620302", in_process=True)
    township, county = nodes["620302001"], nodes["620302"]
    township.env.update(FAST)
    county.env.update(FAST)
    return township, county


def test_two_nodes_paired_from_scratch_exchange_an_escalation(pair):
    township, county = pair
    assert township.peers()["620302"]["relation"] == "parent"
    assert county.peers()["620302001"]["relation"] == "child"
    county.start()
    township.start()
    message = send(township)
    received = wait_for(lambda: county.inbox(), what="the escalation at the county")
    assert len(received) == 1
    row = received[0]
    assert f"{row['origin']}/{row['id']}" == message
    assert (row["kind"], row["from"]) == ("topic.escalate", "620302001") and row["topic"].startswith("620302001:")
    assert row["received_ms"] > 0
    sent = wait_for(lambda: [r for r in outbox(township) if r["status"] == "sent"], what="the outbox row marked sent")
    assert sent[0]["attempts"] == 1
    assert township.peers()["620302"]["last_success_ms"] is not None


def test_receiver_down_then_up_is_delivered_exactly_once(pair):
    township, county = pair
    township.start()
    send(township)
    failed = wait_for(lambda: [r for r in outbox(township) if r["attempts"] >= 1], what="a failed attempt")
    assert failed[0]["status"] == "pending" and failed[0]["last_error"].startswith("network")
    peer = township.peers()["620302"]
    assert peer["failures"] >= 1 and peer["held_until_ms"] is not None
    county.start()
    wait_for(lambda: [r for r in outbox(township) if r["status"] == "sent"], what="delivery after the receiver came back")
    time.sleep(1.5)  # any stray retry would land by now
    assert len(county.inbox()) == 1


def test_a_permanent_refusal_is_dead_lettered_and_can_be_re_driven(pair):
    township, county = pair
    pairing = township.pairing
    county.run("peers", "remove", "620302001")  # the county no longer knows the township: 403 not_a_peer
    county.start()
    township.start()
    send(township)
    dead = wait_for(lambda: outbox(township, dead=True), what="a dead letter")
    assert dead[0]["last_status"] == 403 and dead[0]["last_error"].startswith("not_a_peer")
    assert county.inbox() == []
    county.run("peers", "add", *pairing)
    township.run("outbox", "retry", dead[0]["id"])
    wait_for(lambda: [r for r in outbox(township) if r["status"] == "sent"], what="the re-driven message")
    assert len(county.inbox()) == 1
    with pytest.raises(AssertionError, match="is sent, not dead"):
        township.run("outbox", "retry", dead[0]["id"])


def test_messages_about_one_topic_arrive_in_the_order_written(pair):
    """The county accepts an escalated topic and reports five stages while the township is down: the six
    answers about that one topic arrive in the order written."""
    township, county = pair
    county.start()
    township.start()
    uid = township.run_json("topics", "add", "--title", "两镇之间道路维修", "--category", "交通", "--area", "620302001",
                            "--area", "620302002", "--raised-by-kind", "public", "--raised-by-name", "村民代表")["uid"]
    township.run("topics", "escalate", uid, "--note", "跨乡镇事项")
    wait_for(lambda: county.inbox(), what="the escalation at the county")
    township.stop()
    county.run("topics", "accept", uid)
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        county.run("topics", "advance", uid, "--to", stage)
    rows = sorted(outbox(county), key=lambda r: r["id"])
    written = [f"{r['origin']}/{r['message_id']}" for r in rows]
    assert len(written) == 6 and {r["topic"] for r in rows} == {uid}
    wait_for(lambda: any(r["attempts"] >= 1 for r in outbox(county)), what="a first failed attempt")
    township.start()
    wait_for(lambda: len(township.inbox()) == 6, timeout=60, what="six deliveries")
    received = sorted(township.inbox(), key=lambda r: r["received_ms"])
    assert [f"{r['origin']}/{r['id']}" for r in received] == written
    assert [r["kind"] for r in received] == ["topic.accept"] + ["topic.progress"] * 5


def test_a_worker_killed_mid_delivery_delivers_exactly_once(pair):
    township, county = pair
    county.start()
    township.start()
    written = [send(township, title=f"事项{i}") for i in range(10)]
    time.sleep(0.15)  # deliveries under way
    township.kill()  # web, worker and beat, without a chance to record anything
    township.start()
    wait_for(lambda: all(r["status"] == "sent" for r in outbox(township)), timeout=60, what="every row sent")
    received = county.inbox()
    assert sorted(f"{r['origin']}/{r['id']}" for r in received) == sorted(written)
    assert len({r["transfer"] for r in received}) == 10


def test_messages_written_while_the_node_is_down_survive_in_the_broker_and_outbox(pair):
    township, county = pair
    county.start()
    written = [send(township, title=f"离线事项{i}") for i in range(3)]  # nobody runs at the township
    township.start()
    wait_for(lambda: len(county.inbox()) == 3, what="delivery once the node runs")
    assert sorted(f"{r['origin']}/{r['id']}" for r in county.inbox()) == sorted(written)


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of this test's own, so that it can be stopped and started again."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: the broker-restart test needs its own Redis")
    port = free_port()

    def start():
        process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "yes", "--dir", str(tmp_path)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: _listening(port), timeout=10, what="redis-server")
        return process

    state = {"process": start()}

    def restart_after(pause):
        state["process"].terminate()
        state["process"].wait(10)
        time.sleep(pause)
        state["process"] = start()

    yield f"redis://127.0.0.1:{port}/0", restart_after, state
    state["process"].terminate()
    state["process"].wait(10)


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_a_restarted_broker_loses_nothing(pair, private_redis):
    township, county = pair
    url, restart_after, _state = private_redis
    township.env["SHANGLIANG_BROKER_URL"] = url
    county.start()
    township.start()
    first = send(township, title="重启前")
    wait_for(lambda: len(county.inbox()) == 1, what="delivery before the restart")
    # Stop the broker, write while it is down (the after-commit kick fails; the row is committed),
    # start it again: the pump hands the row to the worker once it has reconnected.
    import threading

    restarter = threading.Thread(target=restart_after, args=(2.0,))
    restarter.start()
    time.sleep(0.3)
    second = send(township, title="重启期间")
    restarter.join()
    try:
        wait_for(lambda: len(county.inbox()) == 2, timeout=60, what="delivery after the broker restart")
    except pytest.fail.Exception:  # seen once in many runs under load: say what the sender's worker did
        pytest.fail(f"no delivery after the broker restart; the township's log ends:\n{township.log_tail(6000)}")
    assert sorted(f"{r['origin']}/{r['id']}" for r in county.inbox()) == sorted([first, second])


def test_key_rotation_is_announced_and_the_new_key_is_accepted(pair):
    township, county = pair
    county.start()
    township.start()
    old_key = county.peers()["620302001"]["key"]
    out = township.run("keys", "rotate")
    assert "node.key_rotated queued for 620302" in out
    wait_for(lambda: county.peers()["620302001"]["key"] != old_key, what="the county pinning the new key")
    peer = county.peers()["620302001"]
    assert peer["key"].rpartition(":")[0] == township.run_json("keys", "show")["key"].rpartition(":")[0]
    assert [k["id"] for k in peer["old_keys"]] == [old_key.rpartition(":")[0]]
    send(township, title="轮换后")
    wait_for(lambda: any(r["kind"] == "topic.escalate" for r in county.inbox()), what="a message under the new key")
