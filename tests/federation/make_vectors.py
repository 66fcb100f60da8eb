"""Write the federation protocol's test vectors (``tests/vectors/*.json``) through the project's own code.

Run ``python tests/federation/make_vectors.py`` after a deliberate change to the protocol;
``tests/federation/test_vectors.py`` fails whenever what this script would write differs, byte for byte, from the committed files.
``tests/vectors/README.md`` explains each file.

Everything here is fixed: the seeds are the SHA-256 of public strings (test keys, never use them for
anything else), the timestamps and the message id are constants, and Ed25519 is deterministic.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, Callable

from shangliang.federation import canonical, envelope as env_mod, hops as hop_mod
from shangliang.federation.signing import NodeKey, signing_input

VECTORS = Path(__file__).resolve().parents[1] / "vectors"

# -- the nodes ------------------------------------------------------------------------------------------

TOWNSHIP, COUNTY, CITY, PROVINCE = "620302001", "620302", "6203", "62"
KEY_IDS = {TOWNSHIP: "ed25519:k1", COUNTY: "ed25519:k2", CITY: "ed25519:k3", PROVINCE: "ed25519:k4"}
LEVELS = {TOWNSHIP: "township", COUNTY: "county", CITY: "city", PROVINCE: "province"}


def seed_of(label: str) -> bytes:
    """A test seed: SHA-256 of ``label`` in ASCII (``label`` is the node id, or ``<id>#<n>`` for a later key)."""
    return hashlib.sha256(label.encode("ascii")).digest()


def node_key(node: str) -> NodeKey:
    return NodeKey(KEY_IDS[node], seed_of(node))


# The rotation vector: the county's second key.
ROTATED_KEY_ID, ROTATED_SEED_LABEL = "ed25519:k2r", COUNTY + "#2"
# A key nobody pinned (refusal vectors).
STRANGER_KEY_ID, STRANGER_SEED_LABEL = "ed25519:k9", "stranger"

# -- fixed values -------------------------------------------------------------------------------------

MINUTE, DAY = 60_000, 86_400_000
CREATED_MS = 1763800000000
MESSAGE_ID = "01JD3Q8K6V2N9T4X7B5C1M0ZRW"
TOPIC_UID = "620302001:01JD3Q7Z1T8W3Y5P6R2K9M4QXE"
BODY = {
    "topic": {
        "uid": TOPIC_UID,
        "title": "乡村公路养护资金缺口",
        "description": "三个行政村的通村公路年久失修,乡镇养护资金不足,需上级统筹。",
        "category": "城乡建设",
        "areas": [TOWNSHIP],
        "raised_by": {"kind": "member", "name": "张委员"},
        "raised_ms": 1763700000000,
        "stage": "collected",
    },
    "reason": "超出乡镇财力,提请县政协协调",
}
# (sender, to, action, note, at_ms, lifetime_ms) of each transfer; hop 0 carries no note.
ROUTE = [
    (TOWNSHIP, COUNTY, "escalate", None, CREATED_MS + 1 * MINUTE, 7 * DAY),
    (COUNTY, CITY, "escalate", "跨乡镇事项,提请市政协协调", CREATED_MS + 60 * MINUTE, 7 * DAY),
    (CITY, PROVINCE, "escalate", "涉及省道配套资金,提请省政协协商", CREATED_MS + 24 * 60 * MINUTE, 30 * DAY),
]
VERIFY_AT_MS = ROUTE[-1][4] + 10 * MINUTE  # "now" at the province, ten minutes after the last hop

ROTATION_CREATED_MS = CREATED_MS + 2 * DAY
ROTATION_ID = "01JD8ZC4N7Q2V5W8X1Y3Z6A9BD"
ROTATION_LIFETIME_MS = 7 * DAY

DESCRIPTOR_URL = "https://cppcc.gansu.example/shangliang"

# -- canonical form -----------------------------------------------------------------------------------

# (name, input text): each is parsed under the profile and written canonically.
CANONICAL_CASES = [
    ("keys sorted, whitespace dropped", '{ "b": 2, "a": 1, "c": { "z": null, "y": [true, false] } }'),
    ("ASCII keys sort by code point", '{"a": 1, "_": 2, "A": 3, "1": 4, "-": 5, "ab": 6, "": 7}'),
    ("integers at the profile's limits", "[0, -1, 9007199254740991, -9007199254740991]"),
    ("string escapes: the short forms, \\u00xx for other controls, / and DEL literal",
     '"\\u0000\\u001f\\"\\\\\\/\\b\\f\\n\\r\\t\\u007f"'),
    ("non-ASCII text is written as UTF-8, escaped or not on input",
     '{"note": "\\u8de8\\u4e61\\u9547", "emoji": "\\ud83d\\ude00", "raw": "政协"}'),
    ("empty containers and literals", '{"f": false, "e": true, "d": null, "c": "", "b": {}, "a": []}'),
    ("nesting of exactly 32 levels is allowed", "[" * 32 + "]" * 32),
    ("leading and trailing JSON whitespace is allowed", ' \t\r\n{"x": [1, 2]}\n '),
]

# (name, input bytes, error code): each must be refused by the profile parser.
CANONICAL_REFUSALS = [
    ("duplicate object key", b'{"a": 1, "a": 2}', "malformed"),
    ("duplicate key in a nested object", b'{"a": {"b": 1, "c": 2, "b": 1}}', "malformed"),
    ("non-ASCII object key", '{"é": 1}'.encode(), "malformed"),
    ("number with a fraction", b"1.0", "malformed"),
    ("number with an exponent", b"1e3", "malformed"),
    ("minus zero", b"-0", "malformed"),
    ("2^53 is out of range", b"9007199254740992", "malformed"),
    ("-2^53 is out of range", b"-9007199254740992", "malformed"),
    ("NaN", b"NaN", "malformed"),
    ("Infinity", b"[-Infinity]", "malformed"),
    ("invalid UTF-8", b'"\xff"', "malformed"),
    ("UTF-8 encoded surrogate", b'"\xed\xa0\x80"', "malformed"),
    ("escaped lone high surrogate", b'"\\ud800"', "malformed"),
    ("escaped lone low surrogate", b'["x\\udc00"]', "malformed"),
    ("byte order mark", b"\xef\xbb\xbf{}", "malformed"),
    ("nesting of 33 levels", b"[" * 33 + b"]" * 33, "malformed"),
    ("trailing garbage", b"{} {}", "malformed"),
    ("raw control character in a string", b'"a\nb"', "malformed"),
    ("empty document", b"", "malformed"),
]

# Documents built by repetition: a JSON string of ``times`` letters a, in quotes.
CANONICAL_LIMITS = [
    ("exactly 256 KiB is allowed", canonical.MAX_BYTES - 2, None),
    ("one byte over 256 KiB is refused", canonical.MAX_BYTES - 1, "too_large"),
]


def canonical_vectors() -> dict[str, Any]:
    cases = []
    for name, text in CANONICAL_CASES:
        out = canonical.dumps(canonical.loads(text.encode("utf-8")))
        cases.append({"name": name, "input": text, "canonical": out.decode("utf-8"), "canonical_hex": out.hex()})
    refusals = []
    for name, data, code in CANONICAL_REFUSALS:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        refusals.append({"name": name, "input": text, "input_hex": data.hex(), "code": code})
    limits = [{"name": name, "document": {"prefix": '"', "repeat": "a", "times": times, "suffix": '"'},
               "length": times + 2, "code": code} for name, times, code in CANONICAL_LIMITS]
    return {
        "about": "The canonical profile (PROTOCOL.md §2, docs/protocol.md 'Canonical form'). 'cases': parse "
                 "'input' (UTF-8) under the profile, write it canonically, compare with 'canonical_hex'. "
                 "'refusals': parsing the bytes 'input_hex' must fail with 'code'. 'limits': the document "
                 "prefix + repeat*times + suffix, 'length' bytes, is accepted (code null) or refused.",
        "cases": cases,
        "refusals": refusals,
        "limits": limits,
    }


# -- keys -----------------------------------------------------------------------------------------------


def _key_entry(key_id: str, label: str) -> dict[str, Any]:
    key = NodeKey(key_id, seed_of(label))
    return {"seed_label": label, "seed_hex": seed_of(label).hex(), "key_id": key_id,
            "public_hex": key.public.hex(), "public": key.public_b64}


def key_vectors() -> dict[str, Any]:
    return {
        "about": "Test keys (never use them for anything else): seed = SHA-256 of the ASCII 'seed_label'; "
                 "'public' is the Ed25519 public key (RFC 8032) in unpadded base64url.",
        "nodes": {node: {"level": LEVELS[node], **_key_entry(KEY_IDS[node], node)} for node in KEY_IDS},
        "rotated": {"node": COUNTY, **_key_entry(ROTATED_KEY_ID, ROTATED_SEED_LABEL)},
        "stranger": _key_entry(STRANGER_KEY_ID, STRANGER_SEED_LABEL),
    }


# -- the escalation ---------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return canonical.dumps(value).decode("utf-8")


def escalation_steps() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The envelope as the township writes it, then after each hop: (created, [envelope after hop i])."""
    created = env_mod.create(node_key(TOWNSHIP), TOWNSHIP, "topic.escalate", BODY, topic=TOPIC_UID,
                             message_id=MESSAGE_ID, created_ms=CREATED_MS)
    steps, current = [], created
    for index, (sender, to, action, note, at_ms, lifetime_ms) in enumerate(ROUTE):
        prev_key = None
        if index:
            before = current["hops"][-1]
            prev_key = {"node": before["from"], "id": before["key"], "public": node_key(before["from"]).public_b64}
        current = hop_mod.append(current, node_key(sender), sender, to, action, prev_key=prev_key, note=note,
                                 at_ms=at_ms, lifetime_ms=lifetime_ms)
        steps.append(current)
    return created, steps


def escalation_vectors() -> dict[str, Any]:
    created, steps = escalation_steps()
    core = env_mod.core_of(created)
    core_input = signing_input("envelope", core)
    hops = []
    for index, (sender, to, action, note, at_ms, lifetime_ms) in enumerate(ROUTE):
        envelope = steps[index]
        hop = envelope["hops"][index]
        unsigned = hop_mod.unsigned(hop)
        prev_source = env_mod.signed_core(envelope) if index == 0 else envelope["hops"][index - 1]
        hops.append({
            "index": index,
            "append": {"sender": sender, "to": to, "action": action, "note": note, "at_ms": at_ms,
                       "lifetime_ms": lifetime_ms, "prev_key": hop.get("prev_key")},
            "prev_of": "canonical core plus sig" if index == 0 else f"canonical hops[{index - 1}] (with its sig)",
            "prev_input_hex": canonical.dumps(prev_source).hex(),
            "prev_sha256_hex": hashlib.sha256(canonical.dumps(prev_source)).hexdigest(),
            "prev": hop["prev"],
            "unsigned_canonical": _text(unsigned),
            "signing_input_hex": signing_input("hop", unsigned).hex(),
            "sig": hop["sig"],
            "sig_hex": _sig_hex(hop["sig"]),
            "hop": hop,
            "hop_canonical": _text(hop),
            "transfer_id": hop_mod.transfer_id(hop),
            "receiver": to,
            "envelope_canonical": _text(envelope),
            "envelope_sha256_hex": hashlib.sha256(canonical.dumps(envelope)).hexdigest(),
        })
    final = steps[-1]
    return {
        "about": "A topic.escalate written by the township 620302001 and escalated hop by hop to the province 62 "
                 "(docs/protocol.md; keys in keys.json). For each hop: what it appends, its prev hash and the "
                 "bytes hashed, its signing input, signature and transfer id, and the whole envelope as sent on "
                 "that transfer (each is a valid message for its receiver at verify_at_ms).",
        "origin": TOWNSHIP,
        "kind": "topic.escalate",
        "message_id": MESSAGE_ID,
        "topic": TOPIC_UID,
        "created_ms": CREATED_MS,
        "verify_at_ms": VERIFY_AT_MS,
        "core": {
            "value": core,
            "canonical": _text(core),
            "canonical_hex": canonical.dumps(core).hex(),
            "sha256_hex": env_mod.core_hash(created),
            "signing_input_hex": core_input.hex(),
            "sig": created["sig"],
            "sig_hex": _sig_hex(created["sig"]["value"]),
        },
        "signed_core_canonical": _text(env_mod.signed_core(created)),
        "hops": hops,
        "envelope": final,
        "envelope_canonical": _text(final),
    }


def _sig_hex(value: str) -> str:
    from shangliang.federation.signing import b64u_decode

    return b64u_decode(value, "signature", 64).hex()


# -- refusals of the final envelope -------------------------------------------------------------------------

# Each case: a change to the final envelope, what to verify it as, and what the verifier must answer.
# ``resign`` re-signs the last hop with the city's key after the change (so the change gets past step 2);
# ``sign_with`` re-signs it with another (label, key id) instead.


def _set(path: list, value: Any) -> Callable[[dict], None]:
    def apply(envelope: dict) -> None:
        target = envelope
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return apply


def _delete(path: list) -> Callable[[dict], None]:
    def apply(envelope: dict) -> None:
        target = envelope
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]
    return apply


LAST_EXPIRES = ROUTE[-1][4] + ROUTE[-1][5]
SKEW = 5 * MINUTE

REFUSALS: list[dict[str, Any]] = [
    {"name": "body changed", "change": [("set", ["body", "reason"], "改过的理由")],
     "code": "bad_signature", "status": 401},
    {"name": "an earlier hop's note changed", "change": [("set", ["hops", 1, "note"], "改过的说明")],
     "code": "bad_signature", "status": 401},
    {"name": "an earlier hop's signature replaced, the chain re-hashed and the last hop re-signed",
     "change": [("copy", ["hops", 0, "sig"], ["hops", 1, "sig"]), ("rechain",)],
     "resign": True, "code": "bad_signature", "status": 401},
    {"name": "the last hop's signature changed", "change": [("set", ["hops", 2, "sig"], "A" * 86)],
     "code": "bad_signature", "status": 401},
    {"name": "prev_key names another key id (re-signed)", "change": [("set", ["hops", 2, "prev_key", "id"], "ed25519:k9")],
     "resign": True, "code": "unknown_key", "status": 401},
    {"name": "prev_key names another node (re-signed)", "change": [("set", ["hops", 2, "prev_key", "node"], "620303")],
     "resign": True, "code": "unknown_key", "status": 401},
    {"name": "prev_key attests a wrong public key (re-signed)", "change": [("key", ["hops", 2, "prev_key", "public"], "stranger")],
     "resign": True, "code": "bad_signature", "status": 401},
    {"name": "last hop signed with a key the province has not pinned",
     "change": [("set", ["hops", 2, "key"], STRANGER_KEY_ID)], "sign_with": [STRANGER_SEED_LABEL, STRANGER_KEY_ID],
     "code": "unknown_key", "status": 401},
    {"name": "last hop delegates upwards (re-signed)", "change": [("set", ["hops", 2, "action"], "delegate")],
     "resign": True, "code": "bad_route", "status": 403},
    {"name": "verified by the city, to whom the last hop is not addressed", "change": [], "receiver": CITY,
     "code": "wrong_recipient", "status": 403},
    {"name": "expired: one millisecond past expires_ms plus the 5-minute skew", "change": [],
     "at_ms": LAST_EXPIRES + SKEW + 1, "code": "expired", "status": 410},
    {"name": "still accepted at expires_ms plus the 5-minute skew", "change": [],
     "at_ms": LAST_EXPIRES + SKEW, "code": None, "status": None},
    {"name": "created_ms more than 5 minutes in the future", "change": [],
     "at_ms": CREATED_MS - SKEW - 1, "code": "malformed", "status": 400},
    {"name": "the last hop's at_ms exactly 5 minutes in the future is accepted", "change": [],
     "at_ms": ROUTE[-1][4] - SKEW, "code": None, "status": None},
    {"name": "a hop's at_ms more than 5 minutes in the future", "change": [],
     "at_ms": ROUTE[-1][4] - SKEW - 1, "code": "malformed", "status": 400},
    {"name": "lifetime over 30 days", "change": [("set", ["hops", 2, "expires_ms"], ROUTE[-1][4] + 30 * DAY + 1)],
     "code": "malformed", "status": 400},
    {"name": "unknown top-level field", "change": [("set", ["extra"], 1)], "code": "malformed", "status": 400},
    {"name": "unknown field in a hop", "change": [("set", ["hops", 1, "extra"], 1)], "code": "malformed", "status": 400},
    {"name": "prev_key on hop 0", "change": [("copy", ["hops", 1, "prev_key"], ["hops", 0, "prev_key"])],
     "code": "malformed", "status": 400},
    {"name": "prev_key missing on a later hop", "change": [("delete", ["hops", 1, "prev_key"])],
     "code": "malformed", "status": 400},
    {"name": "padded base64url signature", "change": [("pad", ["hops", 2, "sig"])], "code": "malformed", "status": 400},
    {"name": "unknown kind", "change": [("set", ["kind"], "topic.unknown")], "code": "unknown_kind", "status": 422},
    {"name": "unsupported version", "change": [("set", ["v"], 2)], "code": "malformed", "status": 400},
]


def _apply(envelope: dict, change: list) -> None:
    for op, *args in change:
        if op == "set":
            _set(args[0], args[1])(envelope)
        elif op == "delete":
            _delete(args[0])(envelope)
        elif op == "copy":
            source, target = args
            value = envelope
            for step in source:
                value = value[step]
            _set(target, copy.deepcopy(value))(envelope)
        elif op == "key":
            _set(args[0], NodeKey(STRANGER_KEY_ID, seed_of(args[1])).public_b64)(envelope)
        elif op == "rechain":
            envelope["hops"][-1]["prev"] = hop_mod.hash_b64(envelope["hops"][-2])
        elif op == "pad":
            value = envelope
            for step in args[0]:
                value = value[step]
            _set(args[0], value + "==")(envelope)
        else:
            raise ValueError(op)


def refusal_vectors() -> dict[str, Any]:
    _, steps = escalation_steps()
    final = steps[-1]
    cases = []
    for case in REFUSALS:
        envelope = copy.deepcopy(final)
        _apply(envelope, case["change"])
        last = envelope["hops"][-1]
        if case.get("resign"):
            last["sig"] = node_key(CITY).sign("hop", hop_mod.unsigned(last))
        if case.get("sign_with"):
            label, key_id = case["sign_with"]
            last["sig"] = NodeKey(key_id, seed_of(label)).sign("hop", hop_mod.unsigned(last))
        entry = {
            "name": case["name"],
            "change": [list(step) for step in case["change"]],
            "resigned_by": ("city " + KEY_IDS[CITY]) if case.get("resign") else
                           (f"{case['sign_with'][0]} {case['sign_with'][1]}" if case.get("sign_with") else None),
            "receiver": case.get("receiver", PROVINCE),
            "at_ms": case.get("at_ms", VERIFY_AT_MS),
            "code": case["code"],
            "status": case["status"],
            "document": canonical.dumps(envelope).decode("utf-8"),
        }
        cases.append(entry)
    # Not expressible as an object: the same key twice in the raw text.
    raw = canonical.dumps(final).decode("utf-8")
    raw = raw.replace('"kind":"topic.escalate"', '"kind":"topic.escalate","kind":"topic.escalate"', 1)
    cases.append({"name": "duplicate top-level key in the raw text", "change": [["raw", "kind written twice"]],
                  "resigned_by": None, "receiver": PROVINCE, "at_ms": VERIFY_AT_MS, "code": "malformed",
                  "status": 400, "document": raw})
    return {
        "about": "Changes to escalation.json's final envelope and the answer the province 62 must give when it "
                 "verifies 'document' (UTF-8) as 'receiver' at 'at_ms' with the pins of keys.json (its child 6203, "
                 "key ed25519:k3). 'code' null: the document must be accepted. 'change' lists the edits "
                 "(set/delete/copy a JSON path; 'key': put the named seed's public key; 'pad': append '=='; 'rechain': "
                 "recompute the last hop's prev); "
                 "'resigned_by': the last hop was signed again after the edit.",
        "cases": cases,
    }


# -- key rotation ----------------------------------------------------------------------------------------


def rotation_vectors() -> dict[str, Any]:
    """``node.key_rotated`` from the county to its parent, built as ``rotation.announcement`` builds it."""
    old, new = node_key(COUNTY), NodeKey(ROTATED_KEY_ID, seed_of(ROTATED_SEED_LABEL))
    body = {"new_key": {"id": new.key_id, "public": new.public_b64}}
    draft = env_mod.create(old, COUNTY, "node.key_rotated", body, message_id=ROTATION_ID,
                           created_ms=ROTATION_CREATED_MS)
    proof_core = env_mod.core_of(draft)
    proof_input = signing_input("rotate", proof_core)
    proof = new.sign_input(proof_input)
    envelope = env_mod.create(old, COUNTY, "node.key_rotated", {**body, "proof": proof}, message_id=ROTATION_ID,
                              created_ms=ROTATION_CREATED_MS)
    envelope = hop_mod.append(envelope, old, COUNTY, CITY, "reply", at_ms=ROTATION_CREATED_MS,
                              lifetime_ms=ROTATION_LIFETIME_MS)
    hop = envelope["hops"][0]
    return {
        "about": "node.key_rotated from the county 620302 to its parent 6203: the proof is the new key's signature "
                 "over the signing input ('rotate', the core with 'proof' removed from 'body'); the core and the "
                 "hop are signed with the old key. After accepting it the city pins the new key and keeps the "
                 "old one with expired_ms = max(created_ms, the hop's at_ms) + 1, so that a resend of the same "
                 "hop still verifies.",
        "old_key": KEY_IDS[COUNTY],
        "new_key": ROTATED_KEY_ID,
        "receiver": CITY,
        "verify_at_ms": ROTATION_CREATED_MS + MINUTE,
        "proof_core_canonical": _text(proof_core),
        "proof_signing_input_hex": proof_input.hex(),
        "proof": proof,
        "core_signing_input_hex": signing_input("envelope", env_mod.core_of(envelope)).hex(),
        "core_sig": envelope["sig"],
        "hop_signing_input_hex": signing_input("hop", hop_mod.unsigned(hop)).hex(),
        "transfer_id": hop_mod.transfer_id(hop),
        "envelope": envelope,
        "envelope_canonical": _text(envelope),
        "pins_after": {"6203 pins of 620302": [
            {"id": KEY_IDS[COUNTY], "expired_ms": ROTATION_CREATED_MS + 1},
            {"id": ROTATED_KEY_ID, "expired_ms": None},
        ]},
    }


# -- node descriptor ---------------------------------------------------------------------------------------


def descriptor_vectors() -> dict[str, Any]:
    """The province's ``GET /federation/v1/node`` document, as ``descriptor.build`` writes it."""
    key = node_key(PROVINCE)
    descriptor: dict[str, Any] = {
        "id": PROVINCE,
        "level": "province",
        "name": "甘肃省政协",
        "parent": None,
        "url": DESCRIPTOR_URL,
        "protocol": 1,
        "keys": {"current": {"id": key.key_id, "public": key.public_b64}, "old": []},
    }
    unsigned = dict(descriptor)
    descriptor["sig"] = {"key": key.key_id, "value": key.sign("node", unsigned)}
    return {
        "about": "A node descriptor signed with purpose 'node' over the descriptor without 'sig'.",
        "signing_input_hex": signing_input("node", unsigned).hex(),
        "descriptor": descriptor,
        "descriptor_canonical": _text(descriptor),
    }


# -- output ------------------------------------------------------------------------------------------------


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def build() -> dict[str, bytes]:
    """File name → exact bytes, for every file this script writes."""
    escalation = escalation_vectors()
    return {
        "keys.json": _json(key_vectors()),
        "canonical.json": _json(canonical_vectors()),
        "escalation.json": _json(escalation),
        # What the city POSTs to the province: the canonical bytes, no newline at the end.
        "escalation_envelope.json": escalation["envelope_canonical"].encode("utf-8"),
        "escalation_refusals.json": _json(refusal_vectors()),
        "rotation.json": _json(rotation_vectors()),
        "descriptor.json": _json(descriptor_vectors()),
    }


def main() -> int:
    VECTORS.mkdir(exist_ok=True)
    for name, data in build().items():
        path = VECTORS / name
        old = path.read_bytes() if path.exists() else None
        if old != data:
            path.write_bytes(data)
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
