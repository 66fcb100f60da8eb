"""The inbox over real HTTP (PROTOCOL.md §5, §6): one county node process, envelopes signed by the test.

One county node ``620302`` runs for the whole module. Its township ``620302001`` and ``620302003``,
its city ``6203`` and the province ``62`` (the city's parent) are node directories paired with the
real commands but not running: the test holds their keys and writes the envelopes they would send.
Every refused message is checked three ways: the status, the error code, and that the county's
``inbox list --json`` is unchanged (nothing stored for any 4xx, §6).

Which code a tampered message gets follows §5's order of checks: step 1 (profile, fields, kind,
freshness) before step 2 (recipient, peer, the last hop's key and signature) before step 3 (the hash
chain back to the core, the attested keys, the core's signature) before step 4 (the route).
"""

from __future__ import annotations

import copy
import json
import os
import time
from dataclasses import dataclass, field

import pytest
import requests

from shangliang.federation import canonical, descriptor, envelope, hops, rotation
from shangliang.federation.errors import BadSignature, Malformed
from shangliang.federation.ids import now_ms, ulid
from shangliang.federation.signing import PREFIX, NodeKey, b64u_encode

from ..nodes import Node, NodeFactory, free_port

pytestmark = pytest.mark.slow

PROVINCE, CITY, COUNTY, TOWN, TOWN3 = "62", "6203", "620302", "620302001", "620302003"
STRANGER = "620302002"  # a sibling of TOWN: not a peer of the county
MINUTE = 60 * 1000
DAY = 24 * 3600 * 1000
INBOX = "/federation/v1/inbox"
# The county must not rate-limit the many messages of this module; one test runs a node that does.
UNLIMITED = {"SHANGLIANG_FEDERATION_RATE_PER_MINUTE": "1000000", "SHANGLIANG_FEDERATION_BURST": "1000000"}


@dataclass
class Net:
    nodes: dict[str, Node]
    keys: dict[str, NodeKey]  # the current key of every node; TOWN3's changes when it rotates
    factory: NodeFactory
    stranger: NodeKey = field(default_factory=lambda: NodeKey("ed25519:stranger", os.urandom(32)))

    @property
    def county(self) -> Node:
        return self.nodes[COUNTY]


@pytest.fixture(scope="module")
def net(module_federation):
    # Paired with the real commands, run in this process (the fixture test at the end runs them as
    # subprocesses).
    nodes = module_federation(PROVINCE, CITY, COUNTY, TOWN, TOWN3, in_process=True)
    nodes[COUNTY].start(with_worker=False, env=UNLIMITED)
    return Net(nodes, {node_id: node.key() for node_id, node in nodes.items()}, module_federation.factory)


# -- writing envelopes as the other nodes would -------------------------------------------------------------


def snapshot(raised_at: str = TOWN, uid: str | None = None) -> dict:
    """A topic snapshot (§8, kinds._topic_snapshot) of a topic first raised at ``raised_at``."""
    return {"uid": uid or f"{raised_at}:{ulid()}", "title": "白银路老旧小区加装电梯", "description": "居民反映多年未解决",
            "category": "城乡建设", "areas": [raised_at],
            "raised_by": {"kind": "public", "name": "张三"}, "raised_ms": now_ms() - DAY, "stage": "collected"}


def escalation(net: Net, sender: str = TOWN, to: str = COUNTY, key: NodeKey | None = None, *,
               created_ms: int | None = None, at_ms: int | None = None, lifetime_ms: int = 7 * DAY,
               extra: dict | None = None, message_id: str | None = None, reason: str = "跨乡镇事项,提请区政协协调",
               note: str | None = "请区政协协调", kind: str = "topic.escalate", action: str = "escalate") -> dict:
    """A ``topic.escalate`` written by ``sender`` and sent one hop to ``to`` (both signed by ``key``)."""
    key = key or net.keys[sender]
    topic = snapshot(sender)
    body = {"topic": topic, "reason": reason, **(extra or {})}
    env = envelope.create(key, sender, kind, body, topic=topic["uid"], created_ms=created_ms, message_id=message_id)
    return hops.append(env, key, sender, to, action, note=note, at_ms=at_ms, lifetime_ms=lifetime_ms)


def attest(node: str, key: NodeKey) -> dict:
    """A ``prev_key``: the sender's statement of the key it verified ``node`` with."""
    return {"node": node, "id": key.key_id, "public": key.public_b64}


def delegation(net: Net, route: list[str], actions: list[str] | None = None, keys: dict | None = None,
               origin_key: NodeKey | None = None) -> dict:
    """A ``topic.delegate`` written by ``route[0]`` and passed along ``route``, one hop per edge."""
    keys = {**net.keys, **(keys or {})}
    origin = route[0]
    topic = snapshot(origin)
    body = {"topic": topic, "instructions": "请牵头协商并于月底前反馈"}
    env = envelope.create(origin_key or keys[origin], origin, "topic.delegate", body, topic=topic["uid"])
    actions = actions or ["delegate"] * (len(route) - 1)
    for index, (sender, to) in enumerate(zip(route, route[1:])):
        prev_key = None if index == 0 else attest(route[index - 1], keys[route[index - 1]])
        env = hops.append(env, keys[sender], sender, to, actions[index], prev_key=prev_key)
    return env


def raw_append(env: dict, key: NodeKey, hop: dict) -> dict:
    """Append ``hop`` (from, to, action, …) with its ``prev``, ``key`` and ``sig`` computed, and none of the
    checks ``hops.append`` makes: for hops it refuses to write (a 17th hop, ``prev_key`` on hop 0)."""
    env = copy.deepcopy(env)
    hop = {**hop, "prev": hops.expected_prev(env, len(env["hops"])), "key": key.key_id}
    hop["sig"] = key.sign("hop", hop)
    env["hops"].append(hop)
    return env


def flip(text: str, at: int = 10) -> str:
    """``text`` with one character changed (still canonical base64url when ``text`` was)."""
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:]


# -- talking to the county ------------------------------------------------------------------------------------


def post(node: Node, data, content_type: str = "application/json") -> requests.Response:
    if isinstance(data, dict):
        data = canonical.dumps(data)
    return node.post(INBOX, data, content_type)


def inbox(node: Node) -> list[dict]:
    return sorted(node.inbox(), key=lambda row: row["transfer"])


def error_of(response: requests.Response, status: int, code: str) -> str:
    """Assert ``status`` and a §6 error body ``{"error": {"code", "message"}}`` with ``code``; the message."""
    assert response.status_code == status, (response.status_code, response.text[:1000])
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"] and sorted(body["error"]) == ["code", "message"], body
    assert body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert isinstance(message, str) and 0 < len(message) <= 400, message
    return message


def expect_refused(net: Net, data, status: int, code: str, node: Node | None = None,
            content_type: str = "application/json") -> str:
    """Post ``data``; assert the answer and that the inbox did not change. Returns the error message."""
    node = node or net.county
    before = inbox(node)
    message = error_of(post(node, data, content_type), status, code)
    assert inbox(node) == before, "a refused message changed the inbox"
    return message


def expect_accepted(net: Net, env: dict, node: Node | None = None) -> dict:
    """Post ``env``; assert 202 and exactly one new inbox row describing it. Returns the row."""
    node = node or net.county
    before = inbox(node)
    response = post(node, env)
    assert response.status_code == 202, response.text[:1000]
    transfer = hops.transfer_id(env["hops"][-1])
    assert response.json() == {"status": "accepted", "transfer": transfer}
    after = inbox(node)
    new = [row for row in after if row not in before]
    assert len(after) == len(before) + 1 and len(new) == 1, new
    row = new[0]
    assert (row["transfer"], row["origin"], row["id"], row["kind"], row["topic"], row["from"]) == \
        (transfer, env["origin"], env["id"], env["kind"], env["topic"], env["hops"][-1]["from"])
    assert abs(row["received_ms"] - now_ms()) < 5 * MINUTE
    assert row["expires_ms"] == env["hops"][-1]["expires_ms"]
    return row


# -- the happy paths ----------------------------------------------------------------------------------------


def test_a_valid_escalation_is_accepted_and_listed(net):
    env = escalation(net)
    row = expect_accepted(net, env)
    assert row["kind"] == "topic.escalate" and row["from"] == TOWN and row["topic"].startswith(f"{TOWN}:")


def test_a_two_hop_delegation_verifies_through_the_attested_key(net):
    # 62 → 6203 → 620302: the county pins only the city; the province's key is the city's attestation.
    expect_accepted(net, delegation(net, [PROVINCE, CITY, COUNTY]))


def test_a_sixteen_hop_chain_is_accepted(net):
    # 62 → 6203 → 620302, then back and forth between the city and the county (return, delegate):
    # sixteen hops in all, each signed by its sender, each attesting the key of the one before.
    route = [PROVINCE, CITY] + [COUNTY, CITY] * 7 + [COUNTY]
    actions = ["delegate", "delegate"] + ["return", "delegate"] * 7
    env = delegation(net, route, actions)
    assert len(env["hops"]) == 16
    expect_accepted(net, env)


def test_a_replayed_transfer_is_answered_again_and_stored_once(net):
    env = escalation(net)
    data = canonical.dumps(env)
    first = net.county.post(INBOX, data)
    assert first.status_code == 202, first.text
    before = inbox(net.county)
    # The same bytes, and the same envelope written differently (whitespace, key order): one transfer.
    for again in (data, json.dumps(env, indent=2, ensure_ascii=True).encode()):
        response = net.county.post(INBOX, again)
        assert response.status_code == 200, response.text
        # §6: 200 for a repeat; the body names the same transfer as the first answer did.
        assert response.json() == {"status": "duplicate", "transfer": first.json()["transfer"]}
    assert inbox(net.county) == before
    assert [row["id"] for row in before].count(env["id"]) == 1


def test_the_same_message_on_a_new_transfer_is_not_a_conflict(net):
    # Same core, a new last hop (a later send, not a retry): a new transfer, accepted (§5.5).
    env = escalation(net)
    expect_accepted(net, env)
    later = hops.append({**env, "hops": []}, net.keys[TOWN], TOWN, COUNTY, "escalate", at_ms=env["hops"][0]["at_ms"] + 1)
    expect_accepted(net, later)


def test_same_origin_and_id_with_other_content_is_a_conflict(net):
    env = escalation(net)
    expect_accepted(net, env)
    other = escalation(net, message_id=env["id"], reason="同一编号,不同内容")
    expect_refused(net, other, 409, "conflict")


# -- tampering: every signed field -----------------------------------------------------------------------------

CORE_TAMPERS = {
    "id": lambda e: e.update(id=ulid()),
    "kind": lambda e: e.update(kind="topic.delegate"),
    "origin": lambda e: e.update(origin=CITY),
    "created_ms": lambda e: e.update(created_ms=e["created_ms"] - 1),
    "topic": lambda e: e.update(topic=e["topic"] + "X"),
    "in_reply_to": lambda e: e.update(in_reply_to={"origin": CITY, "id": "01JD3Q8K6V2N9T4X7B5C1M0ZRW"}),
    "body.reason": lambda e: e["body"].update(reason=e["body"]["reason"] + "。"),
    "body.topic.areas": lambda e: e["body"]["topic"].update(areas=[COUNTY]),
    "body.new_field": lambda e: e["body"].update(note="unknown body fields are ignored, but signed"),
    "sig.value": lambda e: e["sig"].update(value=flip(e["sig"]["value"])),
    "sig.key": lambda e: e["sig"].update(key="ed25519:other"),
}


@pytest.mark.parametrize("name", list(CORE_TAMPERS))
def test_a_tampered_core_field_is_a_bad_signature(net, name):
    # The last hop still verifies (step 2); its prev hash no longer matches core + sig (step 3).
    env = escalation(net)
    CORE_TAMPERS[name](env)
    expect_refused(net, env, 401, "bad_signature")


def test_a_tampered_version_is_malformed(net):
    env = escalation(net)
    env["v"] = 2
    expect_refused(net, env, 400, "malformed")  # step 1 refuses it before any signature is looked at


def _last(fn):
    return lambda e: fn(e["hops"][-1])


HOP_TAMPERS = {
    # step 2: the last hop must be addressed to the receiver...
    "to": (_last(lambda h: h.update(to="620303")), 403, "wrong_recipient"),
    # ...come from a peer...
    "from (not a peer)": (_last(lambda h: h.update({"from": STRANGER})), 403, "not_a_peer"),
    # ...whose pinned keys include the hop's key id (the city has no key named like the township's)...
    "from (another peer)": (_last(lambda h: h.update({"from": CITY})), 401, "unknown_key"),
    "key": (_last(lambda h: h.update(key="ed25519:k000000000000")), 401, "unknown_key"),
    # ...and whose signature covers every other field.
    "action": (_last(lambda h: h.update(action="reply")), 401, "bad_signature"),
    "at_ms": (_last(lambda h: h.update(at_ms=h["at_ms"] - 1)), 401, "bad_signature"),
    "expires_ms": (_last(lambda h: h.update(expires_ms=h["expires_ms"] + 1)), 401, "bad_signature"),
    "note": (_last(lambda h: h.update(note=h["note"] + "!")), 401, "bad_signature"),
    "note (removed)": (_last(lambda h: h.pop("note")), 401, "bad_signature"),
    "prev": (_last(lambda h: h.update(prev=flip(h["prev"]))), 401, "bad_signature"),
    "sig": (_last(lambda h: h.update(sig=flip(h["sig"]))), 401, "bad_signature"),
    # step 1 comes first: an action no one knows.
    "action (unknown)": (_last(lambda h: h.update(action="forward")), 400, "malformed"),
}


@pytest.mark.parametrize("name", list(HOP_TAMPERS))
def test_a_tampered_hop_field_is_refused(net, name):
    mutate, status, code = HOP_TAMPERS[name]
    env = escalation(net)
    mutate(env)
    expect_refused(net, env, status, code)


EARLIER_HOP_TAMPERS = {
    "from": lambda h: h.update({"from": "61"}),
    "to": lambda h: h.update(to="6204"),
    "action": lambda h: h.update(action="return"),
    "at_ms": lambda h: h.update(at_ms=h["at_ms"] - 1),
    "expires_ms": lambda h: h.update(expires_ms=h["expires_ms"] - 1),
    "note": lambda h: h.update(note="added on the way"),
    "prev": lambda h: h.update(prev=flip(h["prev"])),
    "key": lambda h: h.update(key="ed25519:other"),
    "sig": lambda h: h.update(sig=flip(h["sig"])),
}
LAST_PREV_KEY_TAMPERS = {
    "prev_key.node": lambda h: h["prev_key"].update(node="61"),
    "prev_key.id": lambda h: h["prev_key"].update(id="ed25519:other"),
    "prev_key.public": lambda h: h["prev_key"].update(public=b64u_encode(os.urandom(32))),
}


@pytest.mark.parametrize("name", list(EARLIER_HOP_TAMPERS))
def test_a_tampered_earlier_hop_breaks_the_hash_chain(net, name):
    # 62 → 6203 → 620302: hop 1 verifies, but its prev no longer hashes hop 0 (step 3).
    env = delegation(net, [PROVINCE, CITY, COUNTY])
    EARLIER_HOP_TAMPERS[name](env["hops"][0])
    expect_refused(net, env, 401, "bad_signature")


@pytest.mark.parametrize("name", list(LAST_PREV_KEY_TAMPERS))
def test_a_tampered_attestation_breaks_the_senders_signature(net, name):
    env = delegation(net, [PROVINCE, CITY, COUNTY])
    LAST_PREV_KEY_TAMPERS[name](env["hops"][-1])
    expect_refused(net, env, 401, "bad_signature")  # prev_key is under the city's signature (step 2)


# -- keys: attested, pinned, impersonated ----------------------------------------------------------------------


def test_a_wrongly_attested_key_is_a_bad_signature(net):
    # The city signs its hop honestly but attests another key for the province: hop 0's signature
    # does not verify with the attested key.
    impostor = NodeKey("ed25519:" + net.keys[PROVINCE].key_id.split(":")[1], os.urandom(32))
    env = delegation(net, [PROVINCE, CITY])
    env = hops.append(env, net.keys[CITY], CITY, COUNTY, "delegate", prev_key=attest(PROVINCE, impostor))
    expect_refused(net, env, 401, "bad_signature")


def test_an_attestation_of_another_key_id_is_an_unknown_key(net):
    env = delegation(net, [PROVINCE, CITY])
    other = {**attest(PROVINCE, net.keys[PROVINCE]), "id": "ed25519:knotthatone"}
    env = hops.append(env, net.keys[CITY], CITY, COUNTY, "delegate", prev_key=other)
    expect_refused(net, env, 401, "unknown_key")


def test_a_core_signed_with_a_key_its_route_does_not_attest_is_refused(net):
    # The province signs the core with a second key and hop 0 with its attested one.
    second = NodeKey("ed25519:ksecond", os.urandom(32))
    env = delegation(net, [PROVINCE, CITY, COUNTY], origin_key=second)
    expect_refused(net, env, 401, "unknown_key")


def test_a_peer_impersonated_with_an_unpinned_key_is_refused(net):
    forged = NodeKey(net.keys[TOWN].key_id, os.urandom(32))  # the township's key id, another key
    expect_refused(net, escalation(net, key=forged), 401, "bad_signature")
    unknown = NodeKey("ed25519:kforged", os.urandom(32))
    expect_refused(net, escalation(net, key=unknown), 401, "unknown_key")


def test_a_node_that_is_not_a_peer_is_refused(net):
    expect_refused(net, escalation(net, sender=STRANGER, key=net.stranger), 403, "not_a_peer")


# -- the route ------------------------------------------------------------------------------------------------


def _sibling_edge(net):
    # 620302002 → 620302001 → 620302: the township relays a sibling's message; the first edge joins
    # two townships, which are not parent and child.
    env = escalation(net, sender=STRANGER, to=TOWN, key=net.stranger)
    return hops.append(env, net.keys[TOWN], TOWN, COUNTY, "escalate", prev_key=attest(STRANGER, net.stranger))


def _skip_level_edge(net):
    # 62 → 620302001 → 620302: the province delegates straight to a township.
    return delegation(net, [PROVINCE, TOWN, COUNTY], actions=["delegate", "escalate"])


def _escalate_downwards(net):
    return escalation(net, sender=CITY, to=COUNTY)  # hop 0: escalate, from the city to the county


def _delegate_upwards(net):
    return escalation(net, kind="topic.delegate", action="delegate", extra={"instructions": "办理"})


def _hop0_action_not_the_kinds(net):
    return escalation(net, action="reply")  # topic.escalate travels its first hop as "escalate"


def _hop0_not_from_the_origin(net):
    # The core is the city's (the county verifies it with the city's pinned key), hop 0 the township's.
    topic = snapshot(TOWN)
    env = envelope.create(net.keys[CITY], CITY, "topic.escalate", {"topic": topic, "reason": "借名"}, topic=topic["uid"])
    return hops.append(env, net.keys[TOWN], TOWN, COUNTY, "escalate")


def _hops_not_joined(net):
    # hop 0 ends at the county, hop 1 starts at the city.
    env = escalation(net, sender=TOWN, to=COUNTY)
    return hops.append(env, net.keys[CITY], CITY, COUNTY, "delegate", prev_key=attest(TOWN, net.keys[TOWN]))


ROUTES = {f.__name__.strip("_"): f for f in (_sibling_edge, _skip_level_edge, _escalate_downwards, _delegate_upwards,
                                             _hop0_action_not_the_kinds, _hop0_not_from_the_origin, _hops_not_joined)}


@pytest.mark.parametrize("name", list(ROUTES))
def test_a_route_against_section_4_is_a_bad_route(net, name):
    expect_refused(net, ROUTES[name](net), 403, "bad_route")


def test_a_message_for_another_node_is_a_wrong_recipient(net):
    expect_refused(net, escalation(net, to="620303"), 403, "wrong_recipient")


# -- time -----------------------------------------------------------------------------------------------------


def test_an_expired_transfer_is_gone(net):
    eight_days_ago = now_ms() - 8 * DAY
    expect_refused(net, escalation(net, created_ms=eight_days_ago, at_ms=eight_days_ago), 410, "expired")
    # Past the five minutes of clock skew: still expired.
    at = now_ms() - 7 * DAY - 6 * MINUTE
    expect_refused(net, escalation(net, created_ms=at, at_ms=at), 410, "expired")


def test_an_expiry_within_the_clock_skew_is_accepted(net):
    at = now_ms() - 7 * DAY - MINUTE  # expired a minute ago: within the 5 minutes allowed
    expect_accepted(net, escalation(net, created_ms=at, at_ms=at))


def test_times_in_the_future_are_malformed(net):
    later = now_ms() + 10 * MINUTE
    expect_refused(net, escalation(net, created_ms=later), 400, "malformed")
    expect_refused(net, escalation(net, created_ms=now_ms(), at_ms=later), 400, "malformed")


def test_times_a_minute_ahead_are_within_the_clock_skew(net):
    ahead = now_ms() + MINUTE
    expect_accepted(net, escalation(net, created_ms=ahead, at_ms=ahead))


def test_a_transfer_living_longer_than_30_days_is_malformed(net):
    expect_refused(net, escalation(net, lifetime_ms=30 * DAY + 1), 400, "malformed")
    env = escalation(net)
    env["hops"][0]["expires_ms"] = env["hops"][0]["at_ms"]  # not after at_ms (re-signed: only that is wrong)
    env["hops"][0]["sig"] = net.keys[TOWN].sign("hop", hops.unsigned(env["hops"][0]))
    expect_refused(net, env, 400, "malformed")


def test_a_transfer_living_exactly_30_days_is_accepted(net):
    expect_accepted(net, escalation(net, lifetime_ms=30 * DAY))


# -- size and the canonical profile -----------------------------------------------------------------------------


def sized(net: Net, size: int) -> dict:
    """A valid escalation whose canonical form is exactly ``size`` bytes (padded by an unknown body field)."""
    message_id, created, at = ulid(), now_ms(), now_ms()
    env = escalation(net, extra={"padding": ""}, message_id=message_id, created_ms=created, at_ms=at)
    padding = size - len(canonical.dumps(env))
    env = escalation(net, extra={"padding": "x" * padding}, message_id=message_id, created_ms=created, at_ms=at)
    assert len(canonical.dumps(env)) == size
    return env


def test_a_message_of_exactly_256_kib_is_accepted(net):
    expect_accepted(net, sized(net, canonical.MAX_BYTES))


def test_a_message_over_256_kib_is_too_large(net):
    expect_refused(net, sized(net, canonical.MAX_BYTES + 1), 413, "too_large")
    expect_refused(net, b"{" + b" " * (4 * canonical.MAX_BYTES) + b"}", 413, "too_large")


def test_a_message_over_256_kib_without_a_content_length_is_too_large(net):
    data = canonical.dumps(sized(net, canonical.MAX_BYTES + 1))
    before = inbox(net.county)
    chunks = (data[i:i + 65536] for i in range(0, len(data), 65536))  # chunked: no Content-Length
    response = requests.post(net.county.url + INBOX, data=chunks, headers={"Content-Type": "application/json"},
                             timeout=30)
    error_of(response, 413, "too_large")
    assert inbox(net.county) == before


def _inject(net: Net, fragment: bytes) -> bytes:
    """A signed escalation with ``fragment`` written into its body as it travels (after signing)."""
    data = canonical.dumps(escalation(net))
    assert data.startswith(b'{"body":{')
    return b'{"body":{' + fragment + b"," + data[len(b'{"body":{'):]


PROFILE = {
    "duplicate key in body": b'"dup":1,"dup":1',
    "duplicate top-level key": None,  # built below: "v" twice
    "float": b'"x":1.5',
    "float without fraction": b'"x":1.0',
    "exponent": b'"x":1e3',
    "negative zero": b'"x":-0',
    "integer 2^53": b'"x":9007199254740992',
    "integer -2^53": b'"x":-9007199254740992',
    "integer of 5000 digits": b'"x":' + b"9" * 5000,
    "NaN": b'"x":NaN',
    "Infinity": b'"x":Infinity',
    "-Infinity": b'"x":-Infinity',
    "escaped lone high surrogate": b'"x":"\\ud800"',
    "escaped lone low surrogate": b'"x":"a\\udc00b"',
    "surrogate encoded in UTF-8": b'"x":"\xed\xa0\x80"',
    "invalid UTF-8": b'"x":"\xff"',
    "non-ASCII key": '"键":1'.encode(),
    "nesting 33 deep": b'"x":' + b"[" * 31 + b"]" * 31,
}


@pytest.mark.parametrize("name", list(PROFILE))
def test_a_document_outside_the_profile_is_malformed(net, name):
    if PROFILE[name] is None:
        data = b'{"v":1,' + canonical.dumps(escalation(net))[1:]
    else:
        data = _inject(net, PROFILE[name])
    expect_refused(net, data, 400, "malformed")


@pytest.mark.parametrize("data", [b"", b"not json", b"[]", b"null", "\ufeff{}".encode(), b'{"v":1} trailing'],
                         ids=["empty", "not json", "array", "null", "byte order mark", "trailing garbage"])
def test_a_body_that_is_not_one_json_object_is_malformed(net, data):
    expect_refused(net, data, 400, "malformed")


def test_a_wrong_content_type_is_malformed(net):
    expect_refused(net, canonical.dumps(escalation(net)), 400, "malformed", content_type="text/plain")


def test_the_profiles_limits_themselves_are_accepted(net):
    # The largest integers and the deepest nesting the profile allows, signed by the township.
    expect_accepted(net, escalation(net, extra={"big": 2**53 - 1, "small": -(2**53 - 1)}))
    deep: list = []
    for _ in range(29):  # top level 1, body 2, then 30 arrays: levels 3..32
        deep = [deep]
    expect_accepted(net, escalation(net, extra={"deep": deep}))
    with pytest.raises(Malformed):  # one more level is past the limit (refused over HTTP above)
        escalation(net, extra={"deep": [deep]})


# -- fields ---------------------------------------------------------------------------------------------------


def test_bad_base64_in_a_signature_key_or_hash_is_malformed(net):
    def last_sig(value):
        env = escalation(net)
        env["hops"][-1]["sig"] = value(env["hops"][-1]["sig"])
        return env

    expect_refused(net, last_sig(lambda s: s[:10] + "+" + s[11:]), 400, "malformed")  # base64, not base64url
    expect_refused(net, last_sig(lambda s: s + "=="), 400, "malformed")  # padded
    expect_refused(net, last_sig(lambda s: s[:-3]), 400, "malformed")  # not 64 bytes
    # The core's signature with a "/" in it, the hop then written over it as any sender would.
    topic = snapshot(TOWN)
    env = envelope.create(net.keys[TOWN], TOWN, "topic.escalate", {"topic": topic, "reason": "r"}, topic=topic["uid"])
    env["sig"]["value"] = env["sig"]["value"][:10] + "/" + env["sig"]["value"][11:]
    expect_refused(net, hops.append(env, net.keys[TOWN], TOWN, COUNTY, "escalate"), 400, "malformed")
    # A prev hash that is not base64url (or not 32 bytes), under the township's valid signature.
    for prev in ("not base64!", b64u_encode(os.urandom(31))):
        env = raw_append({**escalation(net), "hops": []}, net.keys[TOWN],
                         {"from": TOWN, "to": COUNTY, "action": "escalate", "at_ms": now_ms(), "expires_ms": now_ms() + DAY})
        env["hops"][0]["prev"] = prev
        env["hops"][0]["sig"] = net.keys[TOWN].sign("hop", hops.unsigned(env["hops"][0]))
        expect_refused(net, env, 400, "malformed")
    # An attested public key that is not base64url, under the city's valid signature.
    env = delegation(net, [PROVINCE, CITY])
    bad = {**attest(PROVINCE, net.keys[PROVINCE]), "public": "not base64!"}
    expect_refused(net, hops.append(env, net.keys[CITY], CITY, COUNTY, "delegate", prev_key=bad), 400, "malformed")


def test_no_hops_is_malformed(net):
    topic = snapshot(TOWN)
    env = envelope.create(net.keys[TOWN], TOWN, "topic.escalate", {"topic": topic, "reason": "r"}, topic=topic["uid"])
    assert env["hops"] == []
    expect_refused(net, env, 400, "malformed")


def test_seventeen_hops_are_malformed(net):
    # 6203 → 620302 → 6203 → … → 620302, every hop properly signed; the 17th is one too many.
    route = [CITY] + [COUNTY, CITY] * 8
    env = delegation(net, route, ["delegate"] + ["return", "delegate"] * 7 + ["return"])
    assert len(env["hops"]) == 16 and env["hops"][-1]["to"] == CITY
    env = raw_append(env, net.keys[CITY], {"from": CITY, "to": COUNTY, "action": "delegate", "at_ms": now_ms(),
                                           "expires_ms": now_ms() + DAY, "prev_key": attest(COUNTY, net.keys[COUNTY])})
    assert len(env["hops"]) == 17
    expect_refused(net, env, 400, "malformed")


def test_prev_key_on_hop_0_is_malformed(net):
    topic = snapshot(TOWN)
    env = envelope.create(net.keys[TOWN], TOWN, "topic.escalate", {"topic": topic, "reason": "r"}, topic=topic["uid"])
    env = raw_append(env, net.keys[TOWN], {"from": TOWN, "to": COUNTY, "action": "escalate", "at_ms": now_ms(),
                                           "expires_ms": now_ms() + DAY, "prev_key": attest(TOWN, net.keys[TOWN])})
    expect_refused(net, env, 400, "malformed")


def test_a_later_hop_without_prev_key_is_malformed(net):
    env = delegation(net, [PROVINCE, CITY])
    env = raw_append(env, net.keys[CITY], {"from": CITY, "to": COUNTY, "action": "delegate", "at_ms": now_ms(),
                                           "expires_ms": now_ms() + DAY})
    expect_refused(net, env, 400, "malformed")


@pytest.mark.parametrize("mutate", [
    lambda e: e.pop("in_reply_to"),
    lambda e: e.update(extra="unknown top-level field"),
    lambda e: e.update(created_ms="1763800000000"),
    lambda e: e.update(id="not a message id!"),
    lambda e: e["sig"].update(key="rsa:k1"),
    lambda e: e["hops"][0].update(at_ms=True),
    lambda e: e["hops"][0].update(to="6203-"),
    lambda e: e["hops"][0].update(extra=1),
], ids=["field missing", "unknown top-level field", "string for an integer", "bad message id", "bad key id",
        "boolean for an integer", "bad node id", "unknown hop field"])
def test_missing_or_wrong_fields_are_malformed(net, mutate):
    env = escalation(net)
    mutate(env)
    expect_refused(net, env, 400, "malformed")


# -- kinds and bodies -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["topic.unknown", "x-someplugin.thing"])
def test_an_unknown_kind_is_refused(net, kind):
    expect_refused(net, escalation(net, kind=kind), 422, "unknown_kind")


INVALID_BODIES = {
    "reason missing": lambda b: b.pop("reason"),
    "empty title": lambda b: b["topic"].update(title="  "),
    "area not a division code": lambda b: b["topic"].update(areas=["金川区"]),
    "no area": lambda b: b["topic"].update(areas=[]),
    "unknown stage": lambda b: b["topic"].update(stage="pondering"),
    "raised_by of an unknown kind": lambda b: b["topic"].update(raised_by={"kind": "alien", "name": "x"}),
    "negative raised_ms": lambda b: b["topic"].update(raised_ms=-1),
    "topic uid malformed": lambda b: b["topic"].update(uid="no colon"),
}


@pytest.mark.parametrize("name", list(INVALID_BODIES))
def test_an_invalid_body_is_refused(net, name):
    topic = snapshot(TOWN)
    uid = topic["uid"]  # the envelope names the topic correctly; only its snapshot in the body is wrong
    body = {"topic": topic, "reason": "理由"}
    INVALID_BODIES[name](body)
    env = envelope.create(net.keys[TOWN], TOWN, "topic.escalate", body, topic=uid)
    expect_refused(net, hops.append(env, net.keys[TOWN], TOWN, COUNTY, "escalate"), 422, "invalid_body")


def test_a_topic_kind_without_a_topic_is_an_invalid_body(net):
    topic = snapshot(TOWN)
    env = envelope.create(net.keys[TOWN], TOWN, "topic.escalate", {"topic": topic, "reason": "r"}, topic=None)
    expect_refused(net, hops.append(env, net.keys[TOWN], TOWN, COUNTY, "escalate"), 422, "invalid_body")


# -- error messages ---------------------------------------------------------------------------------------------

HUGE = "A" * 100_000


@pytest.mark.parametrize("mutate,status,code", [
    (lambda e: e.update(kind=HUGE), 422, "unknown_kind"),
    (lambda e: e.update({HUGE: 1}), 400, "malformed"),
    (lambda e: e.update(id=HUGE + "!"), 400, "malformed"),
    (lambda e: e["sig"].update(key="ed25519:" + HUGE), 400, "malformed"),
    (lambda e: e["hops"][0].update({"from": HUGE}), 400, "malformed"),
    (lambda e: e["hops"][0].update(action=HUGE), 400, "malformed"),
    (lambda e: e["hops"][0].update(to="6" * 12 + "-" + HUGE.lower()), 400, "malformed"),
    (lambda e: e["hops"][0].update(sig=HUGE + "A"), 400, "malformed"),
], ids=["kind", "top-level key", "id", "sig.key", "hop from", "hop action", "hop to", "hop sig"])
def test_error_messages_stay_short_for_huge_inputs(net, mutate, status, code):
    env = escalation(net)
    mutate(env)
    message = expect_refused(net, json.dumps(env).encode(), status, code)
    assert "A" * 201 not in message and "a" * 201 not in message, message[:300]


def test_error_messages_stay_short_for_huge_garbage(net):
    message = expect_refused(net, b'{"' + b"A" * 200_000, 400, "malformed")
    assert "A" * 201 not in message
    message = expect_refused(net, _inject(net, b'"x":"' + b"A" * 100_000 + b'\\udc00"'), 400, "malformed")
    assert "A" * 201 not in message


# -- key rotation ------------------------------------------------------------------------------------------------


def rotation_with_proof(old: NodeKey, announced: NodeKey, prover: NodeKey, purpose: bytes = b"rotate") -> dict:
    """``node.key_rotated`` from TOWN3 announcing ``announced``, its proof made by ``prover``."""
    body = {"new_key": {"id": announced.key_id, "public": announced.public_b64}}
    draft = envelope.create(old, TOWN3, "node.key_rotated", body)
    proof = prover.sign_input(PREFIX + purpose + b"\x00" + canonical.dumps(envelope.core_of(draft)))
    env = envelope.create(old, TOWN3, "node.key_rotated", {**body, "proof": proof}, message_id=draft["id"],
                          created_ms=draft["created_ms"])
    return hops.append(env, old, TOWN3, COUNTY, "reply")


@pytest.mark.parametrize("how", ["another key", "another purpose", "another core"])
def test_a_rotation_with_a_bad_proof_is_refused_and_pins_nothing(net, how):
    old, new = net.keys[TOWN3], NodeKey("ed25519:knew" + os.urandom(4).hex(), os.urandom(32))
    pinned = net.county.peers()[TOWN3]
    if how == "another key":
        env = rotation_with_proof(old, new, NodeKey("ed25519:kother", os.urandom(32)))
    elif how == "another purpose":
        env = rotation_with_proof(old, new, new, purpose=b"envelope")
    else:  # a valid proof, replayed in another announcement (another id): it signs another core
        valid = rotation_with_proof(old, new, new)
        env = hops.append(envelope.create(old, TOWN3, "node.key_rotated", valid["body"]), old, TOWN3, COUNTY, "reply")
    expect_refused(net, env, 401, "bad_signature")
    assert net.county.peers()[TOWN3] == pinned
    assert pinned["key"] == f"{old.key_id}:{old.public_b64}"


def test_a_rotation_pins_the_new_key_and_keeps_the_old_one_for_what_it_signed(net):
    old, new = net.keys[TOWN3], NodeKey("ed25519:krotated" + os.urandom(4).hex(), os.urandom(32))
    before_rotation = now_ms() - MINUTE
    written_before = escalation(net, sender=TOWN3, key=old, created_ms=before_rotation, at_ms=before_rotation)
    env = rotation.announcement(old, new, TOWN3, COUNTY, 7 * DAY)
    row = expect_accepted(net, env)
    assert row["kind"] == "node.key_rotated" and row["topic"] is None
    net.keys[TOWN3] = new
    peer = net.county.peers()[TOWN3]
    assert peer["key"] == f"{new.key_id}:{new.public_b64}"
    # The old key is kept, expired after what it signed: at least the announcement itself.
    [kept] = peer["old_keys"]
    assert kept["id"] == old.key_id
    assert env["created_ms"] <= env["hops"][0]["at_ms"] < kept["expired_ms"] <= now_ms()

    # The old key, on a transfer after the rotation: no longer a key of the township.
    expect_refused(net, escalation(net, sender=TOWN3, key=old), 401, "unknown_key")
    # The old key on a transfer it signed before: still verifies.
    expect_accepted(net, written_before)
    # The new key works.
    expect_accepted(net, escalation(net, sender=TOWN3, key=new))
    # Announcing a key that is already pinned changes nothing.
    again = rotation.announcement(new, old, TOWN3, COUNTY, 7 * DAY)
    expect_refused(net, again, 422, "invalid_body")
    assert net.county.peers()[TOWN3]["key"] == f"{new.key_id}:{new.public_b64}"


def test_a_repeated_rotation_announcement_is_answered_as_a_duplicate(net):
    # The sender never saw the 202 and retries (§7): the announcement is signed with the key it
    # retires, which must still verify this very transfer (§5.5: a repeat is answered as before).
    old, new = net.keys[TOWN3], NodeKey("ed25519:kagain" + os.urandom(4).hex(), os.urandom(32))
    env = rotation.announcement(old, new, TOWN3, COUNTY, 7 * DAY)
    expect_accepted(net, env)
    net.keys[TOWN3] = new
    before = (inbox(net.county), net.county.peers()[TOWN3])
    response = post(net.county, env)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "duplicate", "transfer": hops.transfer_id(env["hops"][-1])}
    assert (inbox(net.county), net.county.peers()[TOWN3]) == before


# -- the descriptor -----------------------------------------------------------------------------------------------


def test_the_descriptor_is_signed_by_the_pinned_key(net):
    response = net.county.get("/federation/v1/node")
    assert response.status_code == 200
    found = response.json()
    county_key = net.keys[COUNTY]
    descriptor.check(found, COUNTY, county_key.public)
    assert found["id"] == COUNTY and found["level"] == "county" and found["parent"] == CITY
    assert found["url"] == net.county.url and found["protocol"] == 1
    assert found["keys"]["current"] == {"id": county_key.key_id, "public": county_key.public_b64}
    assert found["sig"]["key"] == county_key.key_id
    # It can fail: another node's key, another id, a changed field.
    with pytest.raises(BadSignature):
        descriptor.check(found, COUNTY, net.keys[TOWN].public)
    with pytest.raises(Malformed):
        descriptor.check(found, CITY, county_key.public)
    with pytest.raises(BadSignature):
        descriptor.check({**found, "url": "http://127.0.0.1:1"}, COUNTY, county_key.public)


# -- the rate limit -----------------------------------------------------------------------------------------------


def test_a_peer_over_its_rate_is_told_to_retry_later(net):
    # A county of its own allowing 6 messages a minute (one every 10 s) in bursts of 3, paired with
    # the township; the other tests' county is unlimited. (At 20 a minute, four posts on a loaded machine
    # took over the 3 s that refill a token, and the fourth was taken.)
    node = Node(net.factory(node_id=COUNTY, name="限流测试", url=f"http://127.0.0.1:{free_port()}"))
    added = node.invoke("peers", "add", *net.nodes[TOWN].pairing)
    assert added.returncode == 0, added.stderr
    node.start(with_worker=False, env={"SHANGLIANG_FEDERATION_RATE_PER_MINUTE": "6",
                                       "SHANGLIANG_FEDERATION_BURST": "3"})
    try:
        burst = [canonical.dumps(escalation(net)) for _ in range(4)]
        answers = [node.post(INBOX, data) for data in burst]  # as fast as it goes: well within 10 s
        assert [a.status_code for a in answers[:3]] == [202, 202, 202], [a.text for a in answers]
        error_of(answers[3], 429, "busy")
        retry_after = int(answers[3].headers["Retry-After"])
        assert 1 <= retry_after <= 10
        assert len(inbox(node)) == 3  # the fourth was not stored
        # The limit is per peer: the city's bucket is untouched (the city is no peer of this node: 403).
        error_of(post(node, escalation(net, sender=CITY, to=COUNTY)), 403, "not_a_peer")
        time.sleep(retry_after)  # Retry-After is honest: the same message is taken then
        assert node.post(INBOX, burst[3]).status_code == 202
        assert len(inbox(node)) == 4
    finally:
        assert node.kill() is not None
    assert not node.running
    with pytest.raises(requests.ConnectionError):
        requests.get(node.url + "/healthz", timeout=2)


# -- the helpers themselves ---------------------------------------------------------------------------------------


def test_the_federation_fixture_pairs_parents_and_children_with_make_node(federation):
    nodes = federation(CITY, COUNTY, TOWN)
    assert {n.port for n in nodes.values()} == {int(n.url.rsplit(":", 1)[1]) for n in nodes.values()}
    assert len({n.port for n in nodes.values()}) == 3
    peers = {node_id: node.peers() for node_id, node in nodes.items()}
    assert sorted(peers[CITY]) == [COUNTY]
    assert sorted(peers[COUNTY]) == [CITY, TOWN]
    assert sorted(peers[TOWN]) == [COUNTY]  # the city and the township are no neighbours
    for node_id, node in nodes.items():
        for peer_id, peer in peers[node_id].items():
            assert [peer_id, peer["url"], peer["key"], peer["name"]] == nodes[peer_id].pairing
    assert peers[COUNTY][TOWN]["relation"] == "child" and peers[COUNTY][CITY]["relation"] == "parent"
