"""The committed test vectors (tests/vectors/) are what the project's code computes, and they verify.

``tests/federation/make_vectors.py`` writes the vectors; here every file is regenerated and compared byte for
byte, then each recorded value is recomputed from its recorded inputs the way another implementation
would check itself (tests/vectors/README.md), and the envelopes are run through the receiver's
verifier. The RFC 8032 vectors check the project's own Ed25519 path (``signing.sign_bytes``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from shangliang.federation import canonical, descriptor, envelope as env_mod, hops as hop_mod
from shangliang.federation.errors import ProtocolError
from shangliang.core.plugins import create_plugin_manager
from shangliang.federation.kinds import registry
from shangliang.federation.signing import (PREFIX, b64u_decode, b64u_encode, public_from_seed, sign_bytes,
                                           signing_input, verify_bytes)
from shangliang.federation.verify import Verified, verify

from ..scripts import load_script

CORE_KINDS = registry(create_plugin_manager())  # the protocol's kinds: the federation's and the topics feature's

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parent / "vectors"
SHARED = Path(__file__).resolve().parents[3] / "shared"
RFC8032 = SHARED / "vectors" / "rfc8032_ed25519.json"


make_vectors = load_script(HERE / "make_vectors.py", "shangliang_make_vectors")


def vector(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


KEYS = vector("keys.json")
ESCALATION = vector("escalation.json")


def public(node: str) -> bytes:
    return bytes.fromhex(KEYS["nodes"][node]["public_hex"])


class MemoryPeers:
    """A receiver's pins held in memory (``verify.Peers``): relation by node, keys with their ``expired_ms``."""

    def __init__(self, relations: dict[str, str], keys: dict[tuple[str, str], tuple[bytes, int | None]]):
        self.relations = relations
        self.keys = keys

    def relation(self, node: str) -> str | None:
        return self.relations.get(node)

    def key(self, node: str, key_id: str, at_ms: int) -> bytes | None:
        found = self.keys.get((node, key_id))
        if found is None:
            return None
        key, expired_ms = found
        return key if expired_ms is None or at_ms < expired_ms else None


def peers_of(receiver: str) -> MemoryPeers:
    """The pins of each node of the escalation: its parent and its child on the route."""
    neighbours = {
        "620302": {"620302001": "child", "6203": "parent"},
        "6203": {"620302": "child", "62": "parent"},
        "62": {"6203": "child"},
    }[receiver]
    keys = {(node, KEYS["nodes"][node]["key_id"]): (public(node), None) for node in neighbours}
    return MemoryPeers(dict(neighbours), keys)


# -- the files are what the code computes -------------------------------------------------------------


def test_every_vector_file_regenerates_byte_for_byte():
    built = make_vectors.build()
    for name, data in built.items():
        path = VECTORS / name
        assert path.exists(), f"{path} is missing: run python tests/federation/make_vectors.py"
        assert path.read_bytes() == data, f"{name} differs from what the code computes now"
    committed = {p.name for p in VECTORS.iterdir()} - {"README.md"}
    assert committed == set(built), "tests/vectors/ holds files make_vectors.py does not write"


def test_the_envelope_file_is_the_canonical_final_envelope():
    data = (VECTORS / "escalation_envelope.json").read_bytes()
    assert data == ESCALATION["envelope_canonical"].encode("utf-8")
    assert canonical.dumps(canonical.loads(data)) == data
    assert canonical.loads(data) == ESCALATION["envelope"]


def test_test_keys_come_from_their_seed_labels():
    entries = [*KEYS["nodes"].values(), KEYS["rotated"], KEYS["stranger"]]
    for entry in entries:
        seed = hashlib.sha256(entry["seed_label"].encode("ascii")).digest()
        assert seed.hex() == entry["seed_hex"]
        assert public_from_seed(seed).hex() == entry["public_hex"]
        assert b64u_encode(public_from_seed(seed)) == entry["public"]
    assert set(KEYS["nodes"]) == {"620302001", "620302", "6203", "62"}
    for node, entry in KEYS["nodes"].items():
        assert entry["seed_label"] == node


# -- canonical form ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", vector("canonical.json")["cases"], ids=lambda c: c["name"])
def test_canonical_bytes(case):
    expected = bytes.fromhex(case["canonical_hex"])
    assert case["canonical"].encode("utf-8") == expected
    assert canonical.dumps(canonical.loads(case["input"].encode("utf-8"))) == expected
    assert canonical.dumps(canonical.loads(expected)) == expected  # canonical bytes are a fixed point


@pytest.mark.parametrize("case", vector("canonical.json")["refusals"], ids=lambda c: c["name"])
def test_profile_refusals(case):
    data = bytes.fromhex(case["input_hex"])
    if case["input"] is not None:
        assert case["input"].encode("utf-8") == data
    with pytest.raises(ProtocolError) as refused:
        canonical.loads(data)
    assert refused.value.code == case["code"]


@pytest.mark.parametrize("case", vector("canonical.json")["limits"], ids=lambda c: c["name"])
def test_size_limit(case):
    doc = case["document"]
    data = (doc["prefix"] + doc["repeat"] * doc["times"] + doc["suffix"]).encode("utf-8")
    assert len(data) == case["length"]
    if case["code"] is None:
        assert canonical.dumps(canonical.loads(data)) == data
    else:
        with pytest.raises(ProtocolError) as refused:
            canonical.loads(data)
        assert refused.value.code == case["code"]


# -- the escalation, value by value ------------------------------------------------------------------------


def test_core_signing_input_and_signature():
    core = ESCALATION["core"]
    canonical_bytes = canonical.dumps(core["value"])
    assert canonical_bytes.hex() == core["canonical_hex"]
    assert canonical_bytes.decode("utf-8") == core["canonical"]
    assert hashlib.sha256(canonical_bytes).hexdigest() == core["sha256_hex"]
    message = signing_input("envelope", core["value"])
    assert message == b"shangliang/v1/envelope\x00" + canonical_bytes
    assert message.hex() == core["signing_input_hex"]
    assert core["sig"]["key"] == KEYS["nodes"]["620302001"]["key_id"]
    signature = b64u_decode(core["sig"]["value"], "core sig", 64)
    assert signature.hex() == core["sig_hex"]
    assert verify_bytes(public("620302001"), message, signature)
    seed = bytes.fromhex(KEYS["nodes"]["620302001"]["seed_hex"])
    assert sign_bytes(seed, message) == signature  # Ed25519 is deterministic
    assert env_mod.core_of(ESCALATION["envelope"]) == core["value"]
    CORE_KINDS["topic.escalate"].validate(core["value"]["body"])


@pytest.mark.parametrize("index", range(3))
def test_hop(index):
    record = ESCALATION["hops"][index]
    hop = record["hop"]
    sent = canonical.loads(record["envelope_canonical"].encode("utf-8"))
    assert sent["hops"][index] == hop and len(sent["hops"]) == index + 1

    # prev: the hash of the signed core (hop 0) or of the hop before, with its sig.
    prev_source = env_mod.signed_core(sent) if index == 0 else sent["hops"][index - 1]
    prev_input = canonical.dumps(prev_source)
    assert prev_input.hex() == record["prev_input_hex"]
    assert hashlib.sha256(prev_input).hexdigest() == record["prev_sha256_hex"]
    assert b64u_encode(hashlib.sha256(prev_input).digest()) == record["prev"] == hop["prev"]
    assert hop_mod.expected_prev(sent, index) == hop["prev"]
    if index == 0:
        assert prev_input.decode("utf-8") == ESCALATION["signed_core_canonical"]

    # the signature: by the sender, over the hop without sig.
    unsigned = hop_mod.unsigned(hop)
    assert canonical.dumps(unsigned).decode("utf-8") == record["unsigned_canonical"]
    message = signing_input("hop", unsigned)
    assert message == b"shangliang/v1/hop\x00" + canonical.dumps(unsigned)
    assert message.hex() == record["signing_input_hex"]
    signer = record["append"]["sender"]
    assert hop["from"] == signer and hop["key"] == KEYS["nodes"][signer]["key_id"]
    signature = b64u_decode(hop["sig"], "hop sig", 64)
    assert hop["sig"] == record["sig"] and signature.hex() == record["sig_hex"]
    assert verify_bytes(public(signer), message, signature)
    assert sign_bytes(bytes.fromhex(KEYS["nodes"][signer]["seed_hex"]), message) == signature

    # prev_key: absent on hop 0, then the key of the previous hop's signer.
    if index == 0:
        assert "prev_key" not in hop
    else:
        before = sent["hops"][index - 1]["from"]
        assert hop["prev_key"] == {"node": before, "id": KEYS["nodes"][before]["key_id"],
                                   "public": KEYS["nodes"][before]["public"]}

    # the transfer id: the SHA-256 (hex) of the whole hop.
    assert canonical.dumps(hop).decode("utf-8") == record["hop_canonical"]
    assert hashlib.sha256(canonical.dumps(hop)).hexdigest() == record["transfer_id"] == hop_mod.transfer_id(hop)
    assert hashlib.sha256(record["envelope_canonical"].encode("utf-8")).hexdigest() == record["envelope_sha256_hex"]


def test_rebuilding_with_envelope_create_and_hops_append_gives_the_recorded_envelopes():
    core = ESCALATION["core"]["value"]
    seeds = {node: bytes.fromhex(entry["seed_hex"]) for node, entry in KEYS["nodes"].items()}
    from shangliang.federation.signing import NodeKey

    keys = {node: NodeKey(KEYS["nodes"][node]["key_id"], seed) for node, seed in seeds.items()}
    current = env_mod.create(keys[core["origin"]], core["origin"], core["kind"], core["body"], topic=core["topic"],
                             message_id=core["id"], created_ms=core["created_ms"])
    assert current["sig"] == ESCALATION["core"]["sig"]
    for record in ESCALATION["hops"]:
        step = record["append"]
        current = hop_mod.append(current, keys[step["sender"]], step["sender"], step["to"], step["action"],
                                 prev_key=step["prev_key"], note=step["note"], at_ms=step["at_ms"],
                                 lifetime_ms=step["lifetime_ms"])
        assert canonical.dumps(current).decode("utf-8") == record["envelope_canonical"]
    assert current == ESCALATION["envelope"]


# -- verification by the receivers ----------------------------------------------------------------------------


def test_the_province_verifies_the_final_envelope():
    data = (VECTORS / "escalation_envelope.json").read_bytes()
    verified = verify(data, "62", peers_of("62"), CORE_KINDS, at_ms=ESCALATION["verify_at_ms"])
    assert isinstance(verified, Verified)
    assert verified.envelope == ESCALATION["envelope"]
    assert verified.kind.name == "topic.escalate"
    assert verified.sender == "6203"
    assert verified.transfer_id == ESCALATION["hops"][-1]["transfer_id"]
    assert verified.core_hash == ESCALATION["core"]["sha256_hex"]


@pytest.mark.parametrize("index", range(3))
def test_each_transfer_verifies_at_its_receiver(index):
    record = ESCALATION["hops"][index]
    verified = verify(record["envelope_canonical"].encode("utf-8"), record["receiver"], peers_of(record["receiver"]),
                      CORE_KINDS, at_ms=ESCALATION["verify_at_ms"])
    assert verified.transfer_id == record["transfer_id"]
    assert verified.sender == record["append"]["sender"]
    assert verified.core_hash == ESCALATION["core"]["sha256_hex"]


def test_a_hop_is_not_accepted_by_the_next_node_up():
    """The county's transfer is addressed to the county; the city refuses it."""
    record = ESCALATION["hops"][0]
    with pytest.raises(ProtocolError) as refused:
        verify(record["envelope_canonical"].encode("utf-8"), "6203", peers_of("6203"), CORE_KINDS,
               at_ms=ESCALATION["verify_at_ms"])
    assert refused.value.code == "wrong_recipient"


@pytest.mark.parametrize("case", vector("escalation_refusals.json")["cases"], ids=lambda c: c["name"])
def test_refusal(case):
    data = case["document"].encode("utf-8")
    if case["code"] is None:
        verify(data, case["receiver"], peers_of("62"), CORE_KINDS, at_ms=case["at_ms"])
        return
    with pytest.raises(ProtocolError) as refused:
        verify(data, case["receiver"], peers_of("62"), CORE_KINDS, at_ms=case["at_ms"])
    assert (refused.value.code, refused.value.status) == (case["code"], case["status"])


# -- key rotation and the descriptor -----------------------------------------------------------------------------


def test_rotation_announcement():
    rotation = vector("rotation.json")
    envelope = rotation["envelope"]
    body = envelope["body"]
    new_public = b64u_decode(body["new_key"]["public"], "new key", 32)
    assert body["new_key"] == {"id": KEYS["rotated"]["key_id"], "public": KEYS["rotated"]["public"]}

    # The proof: the new key over ('rotate', the core with proof removed from body).
    proof_core = env_mod.core_of(envelope)
    proof_core["body"] = {k: v for k, v in body.items() if k != "proof"}
    assert canonical.dumps(proof_core).decode("utf-8") == rotation["proof_core_canonical"]
    message = signing_input("rotate", proof_core)
    assert message.startswith(PREFIX + b"rotate\x00") and message.hex() == rotation["proof_signing_input_hex"]
    assert body["proof"] == rotation["proof"]
    assert verify_bytes(new_public, message, b64u_decode(body["proof"], "proof", 64))
    assert not verify_bytes(public("620302"), message, b64u_decode(body["proof"], "proof", 64))

    # The core and the hop: signed with the old key, which the city has pinned.
    assert signing_input("envelope", env_mod.core_of(envelope)).hex() == rotation["core_signing_input_hex"]
    assert signing_input("hop", hop_mod.unsigned(envelope["hops"][0])).hex() == rotation["hop_signing_input_hex"]
    assert envelope["sig"]["key"] == envelope["hops"][0]["key"] == rotation["old_key"]
    data = rotation["envelope_canonical"].encode("utf-8")
    verified = verify(data, rotation["receiver"], peers_of("6203"), CORE_KINDS, at_ms=rotation["verify_at_ms"])
    assert verified.transfer_id == rotation["transfer_id"]
    CORE_KINDS["node.key_rotated"].validate(body)

    # After pinning as the inbox does, the old key verifies what it signed up to the announcement's hop.
    pins = peers_of("6203")
    old_id, new_id = rotation["old_key"], rotation["new_key"]
    expired = max(envelope["created_ms"], envelope["hops"][0]["at_ms"]) + 1
    pins.keys[("620302", old_id)] = (public("620302"), expired)
    pins.keys[("620302", new_id)] = (new_public, None)
    assert [{"id": k, "expired_ms": pins.keys[("620302", k)][1]} for k in (old_id, new_id)] == \
        rotation["pins_after"]["6203 pins of 620302"]
    assert pins.key("620302", old_id, envelope["hops"][0]["at_ms"]) == public("620302")  # a resend verifies
    assert pins.key("620302", old_id, expired) is None
    assert pins.key("620302", new_id, expired) == new_public


def test_descriptor_is_self_signed_with_purpose_node():
    record = vector("descriptor.json")
    signed = record["descriptor"]
    unsigned = {k: v for k, v in signed.items() if k != "sig"}
    assert signing_input("node", unsigned).hex() == record["signing_input_hex"]
    assert canonical.dumps(signed).decode("utf-8") == record["descriptor_canonical"]
    descriptor.check(copy.deepcopy(signed), "62", public("62"))
    with pytest.raises(ProtocolError):
        descriptor.check(copy.deepcopy(signed), "62", public("6203"))


# -- the same vectors through independent libraries ------------------------------------------------------------


def test_independent_libraries_agree():
    """RFC 8785 by the ``rfc8785`` package and Ed25519 by ``cryptography``: the vectors are not just self-consistent."""
    rfc8785 = pytest.importorskip("rfc8785")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    for case in vector("canonical.json")["cases"]:
        assert rfc8785.dumps(json.loads(case["input"])).hex() == case["canonical_hex"], case["name"]
    envelope = ESCALATION["envelope"]
    assert rfc8785.dumps(envelope) == (VECTORS / "escalation_envelope.json").read_bytes()
    core = {k: v for k, v in envelope.items() if k not in ("sig", "hops")}
    signers = [("envelope", core, envelope["sig"]["value"], envelope["origin"])]
    signers += [("hop", {k: v for k, v in hop.items() if k != "sig"}, hop["sig"], hop["from"])
                for hop in envelope["hops"]]
    for purpose, obj, signature, node in signers:
        message = b"shangliang/v1/" + purpose.encode() + b"\x00" + rfc8785.dumps(obj)
        Ed25519PublicKey.from_public_bytes(public(node)).verify(b64u_decode(signature, "sig", 64), message)
        seed = bytes.fromhex(KEYS["nodes"][node]["seed_hex"])
        assert Ed25519PrivateKey.from_private_bytes(seed).sign(message) == b64u_decode(signature, "sig", 64)
    chain = [{k: v for k, v in envelope.items() if k != "hops"}, *envelope["hops"]]
    for before, hop in zip(chain, envelope["hops"]):
        assert b64u_encode(hashlib.sha256(rfc8785.dumps(before)).digest()) == hop["prev"]


# -- RFC 8032 through the project's own Ed25519 path ------------------------------------------------------------


def _rfc8032_tests() -> list[dict]:
    if not RFC8032.exists():
        return []
    return json.loads(RFC8032.read_text(encoding="utf-8"))["tests"]


@pytest.mark.skipif(not RFC8032.exists(), reason=f"shared RFC 8032 vectors not found at {RFC8032}")
@pytest.mark.parametrize("case", _rfc8032_tests(), ids=lambda c: c["name"])
def test_rfc8032_ed25519(case):
    seed = bytes.fromhex(case["secret_key"])
    message = bytes.fromhex(case["message"])
    signature = bytes.fromhex(case["signature"])
    assert len(message) == case["message_length"]
    assert public_from_seed(seed).hex() == case["public_key"]
    assert sign_bytes(seed, message) == signature
    assert verify_bytes(bytes.fromhex(case["public_key"]), message, signature)
    tampered = bytearray(signature)
    tampered[0] ^= 1
    assert not verify_bytes(bytes.fromhex(case["public_key"]), message, bytes(tampered))
    assert not verify_bytes(bytes.fromhex(case["public_key"]), message + b"x", signature)


def test_rfc8032_vectors_present():
    if not RFC8032.exists():
        pytest.skip(f"{RFC8032} is absent (the shared directory sits beside the project): RFC 8032 vectors not run")
    assert _rfc8032_tests(), f"{RFC8032} holds no tests"
