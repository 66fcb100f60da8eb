"""Envelopes (PROTOCOL.md §3): a core signed end to end by its origin, and the chain of hops it travelled."""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

from shangliang.core import divisions

from . import canonical
from .errors import Malformed, echo
from .ids import MESSAGE_ID, now_ms, ulid
from .kinds import TOPIC_UID
from .signing import KEY_ID, NodeKey

VERSION = 1
CORE_FIELDS = ("v", "id", "kind", "origin", "created_ms", "topic", "in_reply_to", "body")
FIELDS = frozenset((*CORE_FIELDS, "sig", "hops"))
_REPLY_FIELDS = frozenset(("origin", "id"))
_SIG_FIELDS = frozenset(("key", "value"))
MAX_HOPS = 16


def core_of(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope without ``sig`` and ``hops``: what the origin signs."""
    return {field: envelope[field] for field in CORE_FIELDS}


def core_hash(envelope: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical.dumps(core_of(envelope))).hexdigest()


def signed_core(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """Core plus ``sig``: what hop 0's ``prev`` hashes."""
    return {**core_of(envelope), "sig": envelope["sig"]}


def create(key: NodeKey, origin: str, kind: str, body: Mapping[str, Any], topic: str | None = None,
           in_reply_to: Mapping[str, str] | None = None, message_id: str | None = None,
           created_ms: int | None = None) -> dict[str, Any]:
    """A new envelope signed by ``origin`` with ``key``, with no hops yet."""
    envelope = {
        "v": VERSION,
        "id": message_id or ulid(),
        "kind": kind,
        "origin": origin,
        "created_ms": created_ms if created_ms is not None else now_ms(),
        "topic": topic,
        "in_reply_to": dict(in_reply_to) if in_reply_to is not None else None,
        "body": dict(body),
    }
    envelope["sig"] = {"key": key.key_id, "value": key.sign("envelope", envelope)}
    envelope["hops"] = []
    return envelope


def _field(obj: Mapping[str, Any], name: str, kind: type | tuple, where: str) -> Any:
    if name not in obj:
        raise Malformed(f"{where}.{name} is missing")
    value = obj[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Malformed(f"{where}.{name} has the wrong type")
    return value


def node_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not divisions.NODE_ID.fullmatch(value):
        raise Malformed(f"{where} is not a node id: {echo(value)}")
    return value


def check_shape(envelope: Any) -> None:
    """Every field present with its type; nothing unknown at the top level (§3)."""
    if _well_formed(envelope):
        return
    if not isinstance(envelope, dict):
        raise Malformed("an envelope is a JSON object")
    unknown = sorted(set(envelope) - FIELDS)
    if unknown:
        raise Malformed(f"unknown top-level field {echo(unknown[0])}")
    if _field(envelope, "v", int, "envelope") != VERSION:
        raise Malformed(f"unsupported protocol version {echo(envelope['v'])}")
    if not MESSAGE_ID.fullmatch(_field(envelope, "id", str, "envelope")):
        raise Malformed(f"envelope.id is not a message id: {echo(envelope['id'])}")
    _field(envelope, "kind", str, "envelope")
    node_id(_field(envelope, "origin", str, "envelope"), "envelope.origin")
    if _field(envelope, "created_ms", int, "envelope") < 0:
        raise Malformed("envelope.created_ms is negative")
    if "topic" not in envelope:
        raise Malformed("envelope.topic is missing")
    if envelope["topic"] is not None and (not isinstance(envelope["topic"], str) or not TOPIC_UID.fullmatch(envelope["topic"])):
        raise Malformed(f"envelope.topic is not a topic uid: {echo(envelope['topic'])}")
    if "in_reply_to" not in envelope:
        raise Malformed("envelope.in_reply_to is missing")
    reply = envelope["in_reply_to"]
    if reply is not None:
        if not isinstance(reply, dict) or set(reply) != {"origin", "id"} or not all(isinstance(v, str) for v in reply.values()):
            raise Malformed("envelope.in_reply_to must be null or {origin, id}")
    _field(envelope, "body", dict, "envelope")
    sig = _field(envelope, "sig", dict, "envelope")
    if set(sig) != {"key", "value"}:
        raise Malformed("envelope.sig must be {key, value}")
    if not KEY_ID.fullmatch(_field(sig, "key", str, "envelope.sig")):
        raise Malformed(f"envelope.sig.key is not a key id: {echo(sig['key'])}")
    _field(sig, "value", str, "envelope.sig")
    hops = _field(envelope, "hops", list, "envelope")
    if not 1 <= len(hops) <= MAX_HOPS:
        raise Malformed(f"an envelope in transit has 1 to {MAX_HOPS} hops, not {len(hops)}")


def _well_formed(envelope: Any) -> bool:
    """True only when ``check_shape`` passes: the same rules as one expression over exact types, so that a
    valid envelope costs few steps; anything else goes through ``check_shape``'s checks for its error."""
    if type(envelope) is not dict or envelope.keys() != FIELDS:
        return False
    version, message_id, origin, created = envelope["v"], envelope["id"], envelope["origin"], envelope["created_ms"]
    topic, reply, sig, hops = envelope["topic"], envelope["in_reply_to"], envelope["sig"], envelope["hops"]
    return (type(version) is int and version == VERSION
            and type(message_id) is str and MESSAGE_ID.fullmatch(message_id) is not None
            and type(envelope["kind"]) is str
            and type(origin) is str and divisions.NODE_ID.fullmatch(origin) is not None
            and type(created) is int and created >= 0
            and (topic is None or (type(topic) is str and TOPIC_UID.fullmatch(topic) is not None))
            and (reply is None or (type(reply) is dict and reply.keys() == _REPLY_FIELDS
                                   and type(reply["origin"]) is str and type(reply["id"]) is str))
            and type(envelope["body"]) is dict
            and type(sig) is dict and sig.keys() == _SIG_FIELDS
            and type(sig["key"]) is str and KEY_ID.fullmatch(sig["key"]) is not None and type(sig["value"]) is str
            and type(hops) is list and 1 <= len(hops) <= MAX_HOPS)
