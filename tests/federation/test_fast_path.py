"""The verifier's fast path for canonical input (``verify.parse_canonical``) against its general path.

Bytes that are already canonical are parsed by orjson, proven canonical by re-encoding, and their
signed inputs cut out of the received bytes; anything else goes the general way. These tests hold
the two paths to the same answer — the same ``Verified``, or the same error, code and message — over
generated envelopes (with notes, bodies and replies full of the very patterns the slicing searches
for) and over mutations of them, and check the pieces the fast path cuts against what the general
path encodes. Also: ids and keys refused with a trailing newline, and the detached libsodium check
accepting exactly what PyNaCl's ``VerifyKey.verify`` accepts.
"""

from __future__ import annotations

import copy
import hashlib
import json

import orjson
import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from shangliang.core.plugins import create_plugin_manager
from shangliang.federation import canonical, envelope as env_mod, hops as hop_mod, shapes
from shangliang.federation.errors import Malformed, ProtocolError
from shangliang.federation.kinds import registry
from shangliang.federation.signing import NodeKey, b64u_decode, b64u_encode, is_b64u, sign_bytes, verify_bytes
from shangliang.federation.verify import Encoded, Sliced, parse_canonical, verify

KINDS = registry(create_plugin_manager())
ROUTE = ("620302001", "620302", "6203", "62")
KEYS = {node: NodeKey(f"ed25519:k{node}", hashlib.sha256(f"fast path {node}".encode()).digest()) for node in ROUTE}
AT_MS = 1_763_800_000_000

# Strings that look like the structure the fast path searches for, and characters JSON escapes.
TRAPS = ['],"id":', ',"hops":[', '},{"action":', ',"sig":"', ',"to":"', ',"sig":{', '},"topic":', '"', "\\",
         "\\u0000", "{", "}", "[", "]", ",", ":", "\n", "\x00", "\x1f", "\x7f", "\u2028", "日", "😀"]
TEXT = st.lists(st.sampled_from(TRAPS) | st.text(st.characters(exclude_categories=("Cs",)), max_size=4),
                max_size=6).map("".join)
KEY_NAMES = st.sampled_from(["hops", "id", "sig", "to", "topic", "action", "v", "body", "a", "z", "!"]) | \
    st.text(st.characters(max_codepoint=0x7F), max_size=5)
VALUES = st.recursive(st.none() | st.booleans() | st.integers(-canonical.MAX_INT, canonical.MAX_INT) | TEXT,
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEY_NAMES, inner, max_size=3),
                      max_leaves=12)


def peers_for(sender: str):
    class Peers:
        def relation(self, node):
            return "child" if node == sender else None

        def key(self, node, key_id, at_ms):
            return KEYS[node].public if node == sender and key_id == KEYS[node].key_id else None

    return Peers()


@st.composite
def envelopes(draw):
    """A signed escalation along ``ROUTE`` with 1 to 3 hops, and the receiver and peers it is meant for."""
    body = draw(st.dictionaries(KEY_NAMES, VALUES, max_size=4))
    reply = draw(st.none() | st.fixed_dictionaries({"origin": TEXT, "id": TEXT}))
    uid = f"{ROUTE[0]}:{draw(st.from_regex(r'[0-9A-Za-z_-]{1,20}', fullmatch=True))}"
    env = env_mod.create(KEYS[ROUTE[0]], ROUTE[0], draw(st.sampled_from(["topic.escalate", "x-unknown.kind"])), body,
                         topic=uid, in_reply_to=reply, created_ms=AT_MS)
    count = draw(st.integers(1, 3))
    for index in range(count):
        sender, to = ROUTE[index], ROUTE[index + 1]
        prev_key = None if index == 0 else {"node": ROUTE[index - 1], "id": KEYS[ROUTE[index - 1]].key_id,
                                            "public": KEYS[ROUTE[index - 1]].public_b64}
        env = hop_mod.append(env, KEYS[sender], sender, to, "escalate", prev_key=prev_key,
                             note=draw(st.none() | TEXT), at_ms=AT_MS + index)
    return env, ROUTE[count], ROUTE[count - 1]


def outcome(data, receiver, sender, fast):
    try:
        verified = verify(data, receiver, peers_for(sender), KINDS, at_ms=AT_MS + 60_000, fast=fast)
    except ProtocolError as exc:
        return type(exc).__name__, exc.code, exc.message
    return "verified", verified


def same_answer(data, receiver, sender):
    general = outcome(data, receiver, sender, fast=False)
    assert outcome(data, receiver, sender, fast=True) == general
    return general


# --- canonical bytes -------------------------------------------------------------------------------


@given(VALUES)
def test_orjson_with_sorted_keys_writes_the_canonical_bytes_of_every_value_in_the_profile(value):
    encoded = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER)
    assert encoded == canonical.dumps(value) == rfc8785.dumps(value)
    assert canonical.roundtrip(encoded) == value


@pytest.mark.parametrize("data", [
    b'{"a":1,"a":1}', b'{"a":-0}', b'{"a": 1}', b'\xef\xbb\xbf{"a":1}', b'{"a":1}\n', b'{"b":1,"a":2}',
    b'{"a":"\\u0041"}', b'{"a":NaN}', b'{"a":1e400}', b'{"a":9007199254740993}', b'{"a":18446744073709551616}',
    b'{"a":"\\ud800"}', b'{"a":"\xff"}', b'{"a":"\\/"}',
])
def test_roundtrip_refuses_what_is_not_exactly_canonical(data):
    assert canonical.roundtrip(data) is None


def test_in_profile_refuses_floats_non_ascii_keys_and_depth():
    assert canonical.in_profile({"a": [1, "x", None, True, {"b": []}]})
    assert not canonical.in_profile({"a": [1.5]})
    assert not canonical.in_profile({"a": {"键": 1}})
    deep = {"k": 0}
    for _ in range(canonical.MAX_DEPTH):
        deep = {"k": deep}
    assert not canonical.in_profile(deep)
    assert canonical.in_profile(deep["k"])


# --- the two paths ---------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelopes())
def test_the_pieces_cut_from_canonical_bytes_are_the_canonical_pieces(case):
    env, _receiver, _sender = case
    data = canonical.dumps(env)
    parsed = parse_canonical(data)
    assert parsed is not None, "canonical bytes take the fast path"
    document, sliced = parsed
    assert isinstance(sliced, Sliced) and document == env
    encoded = Encoded(env)
    for index in range(len(env["hops"])):
        assert sliced.hop(index) == encoded.hop(index)
        assert sliced.unsigned_hop(index) == encoded.unsigned_hop(index)
    assert sliced.core() == encoded.core() and sliced.signed_core() == encoded.signed_core()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelopes())
def test_a_generated_envelope_verifies_the_same_on_both_paths(case):
    env, receiver, sender = case
    answer = same_answer(canonical.dumps(env), receiver, sender)
    if env["kind"] not in KINDS:
        assert answer[1] == "unknown_kind"
    else:
        assert answer[0] == "verified", answer
        assert answer[1].transfer_id == hop_mod.transfer_id(env["hops"][-1])
        assert answer[1].core_hash == env_mod.core_hash(env)


def _byte_mutations(data: bytes, draw):
    position = draw(st.integers(0, len(data)))
    byte = draw(st.integers(0, 255)).to_bytes(1, "big")
    return draw(st.sampled_from([
        data[:position] + byte + data[position + 1:],  # one byte replaced
        data[:position] + data[position + 1:],  # one byte dropped
        data[:position] + b" " + data[position:],  # whitespace
        data[:position] + byte + data[position:],  # one byte inserted
        data + b"\n", b"\xef\xbb\xbf" + data, data + b"{}",
        data.replace(b'{"body":', b'{"body":{},"body":', 1),  # a duplicate key
        data.replace(b'"v":1}', b'"v":1.0}'), data.replace(b'"v":1}', b'"v":-0}'),
    ]))


def _value_mutations(env, draw):
    env = copy.deepcopy(env)
    hop = env["hops"][draw(st.integers(0, len(env["hops"]) - 1))]
    choice = draw(st.integers(0, 13))
    if choice == 0:
        env["body"]["!"] = 1.5  # a float, in bytes orjson considers canonical
    elif choice == 1:
        env["body"]["键"] = 1  # a non-ASCII key
    elif choice == 2:
        deep = 0
        for _ in range(40):
            deep = [deep]
        env["body"]["!"] = deep
    elif choice == 3:
        hop["at_ms"] = str(hop["at_ms"])
    elif choice == 4:
        hop["extra"] = 1
    elif choice == 5:
        del hop[draw(st.sampled_from(hop_mod.REQUIRED))]
    elif choice == 6:
        hop["sig"] = hop["sig"][:-2] + ("AA" if hop["sig"][-2:] != "AA" else "BA")
    elif choice == 7:
        env["body"]["changed"] = True
    elif choice == 8:
        env[draw(st.sampled_from(["origin", "id", "topic"]))] += "\n"
    elif choice == 9:
        hop["key"] += "\n"
    elif choice == 10:
        env["sig"]["value"] = env["sig"]["value"] + "\n"
    elif choice == 11:
        hop["note"] = draw(TEXT)
    elif choice == 12:
        env["kind"] = "x-unknown.kind"
    else:
        env["hops"][-1]["expires_ms"] = AT_MS - 10 * 60_000
        env["hops"][-1]["at_ms"] = AT_MS - 20 * 60_000
    return orjson.dumps(env, option=orjson.OPT_SORT_KEYS)  # canonical layout, whatever the profile says


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelopes(), st.data())
def test_a_mutated_envelope_gets_the_same_answer_on_both_paths(case, data):
    env, receiver, sender = case
    if data.draw(st.booleans()):
        mutated = _byte_mutations(canonical.dumps(env), data.draw)
    else:
        mutated = _value_mutations(env, data.draw)
    answer = same_answer(mutated, receiver, sender)  # asserts the fast path answers as the general one does
    assert answer[0] == "verified" or answer[1], answer  # and a refusal carries its protocol error code


def test_out_of_profile_values_in_canonical_layout_take_the_general_path_and_its_error():
    env = hop_mod.append(env_mod.create(KEYS[ROUTE[0]], ROUTE[0], "topic.escalate", {"a": 1}, topic=f"{ROUTE[0]}:x",
                                        created_ms=AT_MS), KEYS[ROUTE[0]], ROUTE[0], ROUTE[1], "escalate", at_ms=AT_MS)
    for body in ({"!": 1.5}, {"键": 1}, {"!": 2**60}):
        data = orjson.dumps({**env, "body": body}, option=orjson.OPT_SORT_KEYS)
        assert parse_canonical(data) is None
        answer = same_answer(data, ROUTE[1], ROUTE[0])
        assert answer[1] == "malformed"
    big = canonical.dumps({**env, "body": {"!": 1}}).replace(b'"!":1', b'"!":9007199254740993')
    assert same_answer(big, ROUTE[1], ROUTE[0])[1] == "malformed"


def test_the_published_refusal_vectors_get_the_same_answer_on_both_paths():
    from pathlib import Path

    cases = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "escalation_refusals.json").read_text("utf-8"))["cases"]
    peers = {"62": "6203", "6203": "620302", "620302": "620302001"}
    keys = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "keys.json").read_text("utf-8"))["nodes"]

    class Peers:
        def __init__(self, receiver):
            self.child = peers.get(receiver)

        def relation(self, node):
            return "child" if node == self.child else None

        def key(self, node, key_id, at_ms):
            entry = keys.get(node)
            if node != self.child or entry is None or entry.get("key_id", key_id) != key_id:
                return None
            return bytes.fromhex(entry["public_hex"])

    for case in cases:
        data = case["document"].encode("utf-8")
        answers = []
        for fast in (True, False):
            try:
                verify(data, case["receiver"], Peers(case["receiver"]), KINDS, at_ms=case["at_ms"], fast=fast)
                answers.append("verified")
            except ProtocolError as exc:
                answers.append((exc.code, exc.message))
        assert answers[0] == answers[1], case["name"]


# --- the one-pass shape check ------------------------------------------------------------------------

# Values of every JSON type, and strings that are ids, keys and hashes, almost or not quite.
SHAPE_VALUES = (st.none() | st.booleans() | st.integers(-3, 3) | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
                | st.sampled_from(["", "62", "6203", "620302-x", "620302-X", "62\n", "ed25519:k1", "ed25519:k1\n",
                                   "ed25519:", "620302001:ab", "abc", "x" * 2001, "日" * 2000, b64u_encode(bytes(32)),
                                   b64u_encode(bytes(32))[:-1] + "B", b64u_encode(bytes(64))])
                | st.text(max_size=5) | st.just({}) | st.just([]) | st.just({"node": "62", "id": "ed25519:k", "public": "x"}))


def _shape_ok(document) -> bool:
    """What the general path's checks say: ``envelope.check_shape`` and ``hops.check_shape`` of each hop."""
    try:
        env_mod.check_shape(document)
        for index, hop in enumerate(document["hops"]):
            hop_mod.check_shape(hop, index)
    except Malformed:
        return False
    return True


def _paths(value, prefix=()):
    """Every place in a parsed envelope outside ``body``: (path to its container, key)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield prefix, key
            if key != "body":
                yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield prefix, index
            yield from _paths(item, (*prefix, index))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelopes(), st.data())
def test_the_one_pass_shape_check_agrees_with_the_field_by_field_checks(case, data):
    env = copy.deepcopy(case[0])
    for _ in range(data.draw(st.integers(0, 2))):
        where, key = data.draw(st.sampled_from(list(_paths(env))))
        container = env
        for step in where:
            container = container[step]
        action = data.draw(st.sampled_from(["set", "delete", "add"]))
        if action == "delete":
            del container[key]
        elif action == "add" and isinstance(container, dict):
            container[data.draw(st.sampled_from(["extra", "note", "prev_key", "from", "v"]))] = data.draw(SHAPE_VALUES)
        else:
            container[key] = data.draw(SHAPE_VALUES)
    assert shapes.well_formed(env) == _shape_ok(env)


def test_the_one_pass_shape_check_refuses_what_each_rule_refuses():
    env = _one_hop()
    env = hop_mod.append(env, KEYS[ROUTE[1]], ROUTE[1], ROUTE[2], "escalate", at_ms=AT_MS + 1,
                         prev_key={"node": ROUTE[0], "id": KEYS[ROUTE[0]].key_id, "public": KEYS[ROUTE[0]].public_b64})
    assert shapes.well_formed(env) and _shape_ok(env)
    hop = env["hops"][1]
    for change in ({"at_ms": True}, {"at_ms": -1}, {"expires_ms": hop["at_ms"]},
                   {"expires_ms": hop["at_ms"] + hop_mod.MAX_LIFETIME_MS + 1}, {"note": "x" * (hop_mod.MAX_NOTE + 1)},
                   {"note": None}, {"prev": hop["prev"][:-1] + "B"}, {"key": "ed25519:k\n"}, {"from": "6203\n"},
                   {"prev_key": {**hop["prev_key"], "id": "k"}}, {"prev_key": {**hop["prev_key"], "extra": "x"}}):
        broken = copy.deepcopy(env)
        broken["hops"][1].update(change)
        assert not shapes.well_formed(broken), change
        assert not _shape_ok(broken), change
    broken = copy.deepcopy(env)
    del broken["hops"][1]["prev_key"]
    assert not shapes.well_formed(broken) and not _shape_ok(broken)
    broken = copy.deepcopy(env)
    broken["hops"][0]["prev_key"] = env["hops"][1]["prev_key"]
    assert not shapes.well_formed(broken) and not _shape_ok(broken)
    for change in ({"v": 2}, {"v": True}, {"created_ms": 1.0}, {"topic": "x"}, {"in_reply_to": {"id": "a"}},
                   {"body": []}, {"hops": []}, {"hops": env["hops"] * 9}, {"sig": {"key": KEYS[ROUTE[0]].key_id}}):
        broken = {**copy.deepcopy(env), **change}
        assert not shapes.well_formed(broken), change
        assert not _shape_ok(broken), change


def _b64u_answers(text: str, length: int) -> tuple[bytes | None, bytes | None, bool]:
    """What the general checks decode (None: refused), what ``b64u_decode`` with ``length`` decodes, and ``is_b64u``."""
    try:
        general = b64u_decode(text, "x")  # no length given: the general checks alone
        general = general if len(general) == length else None
    except Malformed:
        general = None
    try:
        exact = b64u_decode(text, "x", length)
    except Malformed:
        exact = None
    return general, exact, is_b64u(text, length)


@pytest.mark.parametrize("length", [32, 64])
def test_the_exact_base64url_patterns_take_each_last_character_as_the_general_checks_do(length):
    chars = (4 * length + 2) // 3
    accepted = []
    for count in (chars - 1, chars, chars + 1):
        for last in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=\n":
            text = "w" * (count - 1) + last
            general, exact, valid = _b64u_answers(text, length)
            assert exact == general, text
            assert valid == (general is not None), text
            if general is not None:
                accepted.append(text)
    # Only the right length, and only the last characters whose unused bits are zero: 16 of 64 for 32 bytes
    # (two unused bits), 4 for 64 bytes (four).
    assert {len(text) for text in accepted} == {chars}
    assert len(accepted) == {32: 16, 64: 4}[length]


@given(st.sampled_from([32, 64]), st.integers(-2, 1), st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                                  "0123456789-_+/=\n ", min_size=0, max_size=3), st.data())
def test_the_exact_base64url_patterns_accept_what_the_general_checks_accept(length, extra, stray, data):
    """``b64u_decode`` and ``is_b64u`` take one pattern for 32 and 64 bytes; the general checks must agree."""
    chars = (4 * length + 2) // 3 + extra
    text = data.draw(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=chars,
                             max_size=chars))
    position = data.draw(st.integers(0, len(text)))
    text = text[:position] + stray + text[position:]
    general, exact, valid = _b64u_answers(text, length)
    assert exact == general, text
    assert valid == (general is not None), text
    assert exact is None or len(exact) == length


# --- ids with a trailing newline ---------------------------------------------------------------------


def _one_hop():
    env = env_mod.create(KEYS[ROUTE[0]], ROUTE[0], "topic.escalate", {}, topic=f"{ROUTE[0]}:x", created_ms=AT_MS)
    return hop_mod.append(env, KEYS[ROUTE[0]], ROUTE[0], ROUTE[1], "escalate", at_ms=AT_MS)


@pytest.mark.parametrize("path", [("origin",), ("id",), ("topic",), ("sig", "key"), ("hops", 0, "from"),
                                  ("hops", 0, "to"), ("hops", 0, "key")])
def test_an_id_with_a_trailing_newline_is_malformed(path):
    env = _one_hop()
    target = env
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] += "\n"
    with pytest.raises(Malformed):
        env_mod.check_shape(env)
        hop_mod.check_shape(env["hops"][0], 0)
    assert same_answer(canonical.dumps(env), ROUTE[1], ROUTE[0])[1] == "malformed"


def test_a_prev_key_id_with_a_trailing_newline_is_malformed():
    env = _one_hop()
    env = hop_mod.append(env, KEYS[ROUTE[1]], ROUTE[1], ROUTE[2], "escalate", at_ms=AT_MS + 1,
                         prev_key={"node": ROUTE[0], "id": KEYS[ROUTE[0]].key_id + "\n",
                                   "public": KEYS[ROUTE[0]].public_b64})
    with pytest.raises(Malformed, match="prev_key.id"):
        hop_mod.check_shape(env["hops"][1], 1)


def test_base64url_with_a_trailing_newline_or_stray_bits_is_refused():
    text = b64u_encode(bytes(range(32)))
    assert b64u_decode(text, "x", 32) == bytes(range(32))
    with pytest.raises(Malformed, match="unpadded"):
        b64u_decode(text + "\n", "x")
    with pytest.raises(Malformed, match="canonical"):
        b64u_decode(text[:-1] + "B", "x")  # 43 characters: the last carries two unused bits
    with pytest.raises(Malformed, match="unpadded"):
        b64u_decode(text + "=", "x")


# --- the detached signature check ----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 63), st.booleans())
def test_the_detached_check_accepts_exactly_what_verify_key_accepts(message, flip, tamper):
    seed = hashlib.sha256(message).digest()
    key = NodeKey("ed25519:k1", seed)
    signature = sign_bytes(seed, message)
    if tamper:
        signature = signature[:flip] + bytes([signature[flip] ^ 1]) + signature[flip + 1:]
    try:
        VerifyKey(key.public).verify(message, signature)
        reference = True
    except BadSignatureError:
        reference = False
    assert verify_bytes(key.public, message, signature) is reference
    assert reference is not tamper


def test_the_detached_check_refuses_wrong_lengths():
    seed = bytes(32)
    key = NodeKey("ed25519:k1", seed)
    signature = sign_bytes(seed, b"m")
    assert verify_bytes(key.public, b"m", signature)
    assert not verify_bytes(key.public[:31], b"m", signature)
    assert not verify_bytes(key.public, b"m", signature[:63])
    assert not verify_bytes(key.public, b"m", signature + b"\x00")
