"""What the inbox asks the database for one transfer (issue 17's P2): the peers and their keys in one read, the
transfer stored by one ``INSERT … ON CONFLICT DO NOTHING`` that also refuses another core for the same message,
and no look-up of the inbox before it. A repeat is still answered as one (200, nothing stored twice) and a
message known with other content still refused (409) — on SQLite here, on PostgreSQL in the servers run."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from shangliang.core.app import create_app
from shangliang.federation import canonical, envelope as env_mod, hops as hop_mod
from shangliang.federation.signing import NodeKey, b64u_encode

from ..conftest import invoke

TOWNSHIP, COUNTY = "620302001", "620302"
KEY = NodeKey("ed25519:t1", hashlib.sha256(b"inbox statements").digest())
INBOX = "/federation/v1/inbox"


def escalation(message_id: str | None = None, title: str = "两镇交界道路积水") -> bytes:
    uid = f"{TOWNSHIP}:{hashlib.sha256((message_id or title).encode()).hexdigest()[:16]}"
    body = {"topic": {"uid": uid, "title": title, "description": "雨季积水,两镇对养护责任各执一词",
                      "category": "城乡建设", "areas": [TOWNSHIP, "620302002"],
                      "raised_by": {"kind": "public", "name": "村民代表"}, "raised_ms": 1_763_800_000_000,
                      "stage": "collected"},
            "reason": "跨乡镇事项,提请县政协协调"}
    env = env_mod.create(KEY, TOWNSHIP, "topic.escalate", body, topic=uid, message_id=message_id)
    return canonical.dumps(hop_mod.append(env, KEY, TOWNSHIP, COUNTY, "escalate"))


@pytest.fixture
def county(make_node, runner):
    node_dir = make_node(node_id=COUNTY, name="金川区政协")
    added = invoke(runner, node_dir, "peers", "add", TOWNSHIP, "http://127.0.0.1:9",
                   f"{KEY.key_id}:{b64u_encode(KEY.public)}")
    assert added.exit_code == 0, added.output
    app = create_app(node_dir)
    yield app
    app.extensions["shangliang.db"].engine.dispose()


def statements_of(app, send):
    seen: list[str] = []
    engine = app.extensions["shangliang.db"].engine
    listener = lambda _c, _cur, statement, *_a: seen.append(" ".join(statement.split()))  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        answer = send()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return answer, seen


def stored(app) -> int:
    with app.extensions["shangliang.db"].engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM fed_inbox")).scalar()


def test_an_accepted_transfer_reads_its_peers_once_and_stores_itself_in_one_statement(county):
    client = county.test_client()
    client.post(INBOX, data=escalation(title="预热"), headers={"Content-Type": "application/json"})  # warm caches
    data = escalation()
    answer, seen = statements_of(county, lambda: client.post(INBOX, data=data,
                                                              headers={"Content-Type": "application/json"}))
    assert answer.status_code == 202, answer.get_data(as_text=True)
    # (the rate limiter's list of peer ids, re-read by each process every 5 s, is not the inbox's read)
    peers = [s for s in seen if re.search(r"\bFROM fed_peers\b", s) and s != "SELECT fed_peers.node_id FROM fed_peers"]
    assert len(peers) == 1 and "JOIN fed_peer_keys" in peers[0], peers
    assert not [s for s in seen if "fed_peer_keys" in s and s not in peers], seen  # keys come with the peers
    inbox_reads = [s for s in seen if s.startswith("SELECT") and re.search(r"\bFROM fed_inbox\b", s)]
    assert inbox_reads == [], inbox_reads
    (insert,) = [s for s in seen if s.startswith("INSERT INTO fed_inbox")]
    assert "ON CONFLICT" in insert and "NOT (EXISTS" in insert
    # the escalated topic is read once (the topics feature, locking it); the similar-matters feature, which looks
    # at it after, finds it in the session
    topic_reads = [s for s in seen if s.startswith("SELECT") and re.search(r"\bFROM topics\b", s)]
    assert len(topic_reads) == 1, topic_reads
    assert stored(county) == 2

    again = client.post(INBOX, data=data, headers={"Content-Type": "application/json"})
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    assert stored(county) == 2

    other = escalation(message_id=canonical.loads(data)["id"], title="另一件事")  # same (origin, id), other content
    refused = client.post(INBOX, data=other, headers={"Content-Type": "application/json"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "conflict", refused.get_data()
    assert stored(county) == 2
