"""Hops (PROTOCOL.md §4): one signed record per node-to-node transfer, chained by hashes."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from typing import Any

from shangliang.core.divisions import NODE_ID

from . import canonical
from .envelope import MAX_HOPS, node_id, signed_core
from .errors import Malformed, echo
from .ids import now_ms
from .signing import KEY_ID, NodeKey, b64u_decode, b64u_encode, is_b64u

REQUIRED = ("from", "to", "action", "at_ms", "expires_ms", "prev", "key", "sig")
OPTIONAL = ("note", "prev_key")
MAX_LIFETIME_MS = 30 * 24 * 3600 * 1000
DEFAULT_LIFETIME_MS = 7 * 24 * 3600 * 1000
MAX_NOTE = 2000
_REQUIRED = frozenset(REQUIRED)
_FIELDS = frozenset((*REQUIRED, *OPTIONAL))
_PREV_KEY_FIELDS = frozenset(("node", "id", "public"))


def hash_b64(obj: Any) -> str:
    return b64u_encode(hashlib.sha256(canonical.dumps(obj)).digest())


def unsigned(hop: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in hop.items() if k != "sig"}


def expected_prev(envelope: Mapping[str, Any], index: int) -> str:
    """What hop ``index``'s ``prev`` must be: the hash of the signed core (hop 0) or of the hop before."""
    if index == 0:
        return hash_b64(signed_core(envelope))
    return hash_b64(envelope["hops"][index - 1])


def transfer_id(hop: Mapping[str, Any]) -> str:
    """A transfer is named by the SHA-256 (hex) of its last hop (§5.5)."""
    return hashlib.sha256(canonical.dumps(hop)).hexdigest()


def append(envelope: Mapping[str, Any], key: NodeKey, sender: str, to: str, action: str,
           prev_key: Mapping[str, str] | None = None, note: str | None = None, at_ms: int | None = None,
           lifetime_ms: int = DEFAULT_LIFETIME_MS) -> dict[str, Any]:
    """A copy of ``envelope`` with one more hop, signed by ``sender`` with ``key``.

    ``prev_key`` is required after hop 0: the key with which ``sender`` verified the previous hop's
    signer, as ``{"node", "id", "public"}``.
    """
    envelope = _copy(envelope)
    index = len(envelope["hops"])
    if index >= MAX_HOPS:
        raise ValueError(f"an envelope carries at most {MAX_HOPS} hops")
    if (index == 0) != (prev_key is None):
        raise ValueError("prev_key is omitted on hop 0 and required on every later hop")
    at = at_ms if at_ms is not None else now_ms()
    hop: dict[str, Any] = {"from": sender, "to": to, "action": action, "at_ms": at, "expires_ms": at + lifetime_ms}
    if note:
        hop["note"] = note
    hop["prev"] = expected_prev(envelope, index)
    if prev_key is not None:
        hop["prev_key"] = dict(prev_key)
    hop["key"] = key.key_id
    hop["sig"] = key.sign("hop", hop)
    envelope["hops"].append(hop)
    return envelope


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value: dicts and lists copied, scalars shared (``copy.deepcopy`` for anything else)."""
    kind = type(value)
    if kind is dict:
        return {key: _copy(item) for key, item in value.items()}
    if kind is list:
        return [_copy(item) for item in value]
    if kind is str or kind is int or kind is bool or value is None:
        return value
    return copy.deepcopy(value)


def check_shape(hop: Any, index: int) -> None:
    if _well_formed(hop, index):
        return
    where = f"hops[{index}]"
    if not isinstance(hop, dict):
        raise Malformed(f"{where} is not an object")
    unknown = sorted(set(hop) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise Malformed(f"{where} has an unknown field {echo(unknown[0])}")
    for field in REQUIRED:
        if field not in hop:
            raise Malformed(f"{where}.{field} is missing")
    node_id(hop["from"], f"{where}.from")
    node_id(hop["to"], f"{where}.to")
    for field in ("action", "prev", "key", "sig"):
        if not isinstance(hop[field], str):
            raise Malformed(f"{where}.{field} has the wrong type")
    for field in ("at_ms", "expires_ms"):
        if not isinstance(hop[field], int) or isinstance(hop[field], bool) or hop[field] < 0:
            raise Malformed(f"{where}.{field} has the wrong type")
    if not KEY_ID.fullmatch(hop["key"]):
        raise Malformed(f"{where}.key is not a key id: {echo(hop['key'])}")
    b64u_decode(hop["prev"], f"{where}.prev", 32)
    if "note" in hop and (not isinstance(hop["note"], str) or len(hop["note"]) > MAX_NOTE):
        raise Malformed(f"{where}.note must be a string of at most {MAX_NOTE} characters")
    if index == 0 and "prev_key" in hop:
        raise Malformed("hops[0] carries prev_key: the origin signs hop 0 itself")
    if index > 0:
        if "prev_key" not in hop:
            raise Malformed(f"{where}.prev_key is missing")
        attested = hop["prev_key"]
        if not isinstance(attested, dict) or set(attested) != {"node", "id", "public"} or \
                not all(isinstance(v, str) for v in attested.values()):
            raise Malformed(f"{where}.prev_key must be {{node, id, public}}")
        if not KEY_ID.fullmatch(attested["id"]):
            raise Malformed(f"{where}.prev_key.id is not a key id")
    if hop["expires_ms"] <= hop["at_ms"]:
        raise Malformed(f"{where}.expires_ms is not after at_ms")
    if hop["expires_ms"] - hop["at_ms"] > MAX_LIFETIME_MS:
        raise Malformed(f"{where} lives longer than 30 days")


def _well_formed(hop: Any, index: int) -> bool:
    """True only when ``check_shape`` passes: the same rules as one expression over exact types, so that a
    valid hop costs few steps; anything else goes through ``check_shape``'s checks for its error."""
    if type(hop) is not dict:
        return False
    fields = hop.keys()
    if not _REQUIRED <= fields <= _FIELDS:
        return False
    sender, to, key, at, expires = hop["from"], hop["to"], hop["key"], hop["at_ms"], hop["expires_ms"]
    if not (type(sender) is str and NODE_ID.fullmatch(sender) is not None
            and type(to) is str and NODE_ID.fullmatch(to) is not None
            and type(hop["action"]) is str and type(hop["sig"]) is str
            and type(key) is str and KEY_ID.fullmatch(key) is not None
            and is_b64u(hop["prev"], 32)
            and type(at) is int and type(expires) is int and 0 <= at < expires <= at + MAX_LIFETIME_MS):
        return False
    if "note" in fields and not (type(hop["note"]) is str and len(hop["note"]) <= MAX_NOTE):
        return False
    if index == 0:
        return "prev_key" not in fields
    attested = hop.get("prev_key")
    return (type(attested) is dict and attested.keys() == _PREV_KEY_FIELDS
            and type(attested["node"]) is str and type(attested["public"]) is str
            and type(attested["id"]) is str and KEY_ID.fullmatch(attested["id"]) is not None)
