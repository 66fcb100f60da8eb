"""Verification by a receiver (PROTOCOL.md §5, steps 1–4): profile, freshness, signatures, hash chain, route."""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from shangliang.core import divisions

from . import canonical, envelope as env_mod, hops as hop_mod, shapes
from .errors import BadRoute, BadSignature, Expired, Malformed, NotAPeer, UnknownKey, UnknownKind, WrongRecipient, echo
from .ids import now_ms
from .kinds import ACTIONS, Kind
from .signing import PREFIX, b64u_decode, b64u_encode, verify_bytes

SKEW_MS = 5 * 60 * 1000
_ENVELOPE = PREFIX + b"envelope\x00"
_HOP = PREFIX + b"hop\x00"


class Peers(Protocol):
    """What the verifier needs to know of the receiver's pinned neighbours."""

    def relation(self, node: str) -> str | None:
        """``parent`` or ``child`` for a peer, None for any other node."""

    def key(self, node: str, key_id: str, at_ms: int) -> bytes | None:
        """The pinned public key ``key_id`` of ``node`` if it was valid at ``at_ms`` (current, or old and
        expired after ``at_ms``); None otherwise."""


@dataclass(frozen=True)
class Verified:
    envelope: dict[str, Any]
    kind: Kind
    transfer_id: str  # hex SHA-256 of the last hop
    core_hash: str  # hex SHA-256 of the canonical core
    sender: str  # the last hop's from
    # the bytes as received, when they were canonical (the fast path): stored as they are; not part of the answer
    received: bytes | None = field(default=None, compare=False, repr=False)


def parse(data: bytes | str) -> dict[str, Any]:
    """Step 1a: the profile (size, JSON, duplicate keys, numbers, depth) and the envelope's shape."""
    document = canonical.loads(data)
    env_mod.check_shape(document)
    for index, hop in enumerate(document["hops"]):
        hop_mod.check_shape(hop, index)
    return document


class Encoded:
    """The canonical bytes ``verify`` checks, encoded from the parsed envelope (the general path)."""

    def __init__(self, envelope: Mapping[str, Any]):
        self._envelope = envelope

    def hop(self, index: int) -> bytes:
        """Hop ``index`` with its ``sig``: what the next hop's ``prev`` hashes and a transfer is named by."""
        return canonical.dumps(self._envelope["hops"][index])

    def unsigned_hop(self, index: int) -> bytes:
        """Hop ``index`` without ``sig``: what its signature signs."""
        return canonical.dumps(hop_mod.unsigned(self._envelope["hops"][index]))

    def core(self) -> bytes:
        return canonical.dumps(env_mod.core_of(self._envelope))

    def signed_core(self) -> bytes:
        """Core plus ``sig``: what hop 0's ``prev`` hashes."""
        return canonical.dumps(env_mod.signed_core(self._envelope))


class Sliced(Encoded):
    """The same bytes cut out of a received document that is already canonical (the fast path).

    In canonical bytes every ``"`` inside a string is escaped, so an unescaped ``"`` is always
    structural: each pattern searched for below occurs exactly where the envelope's layout (keys
    sorted, ``body`` first, ``hops`` before ``id``, ``sig`` before ``topic``; in a hop ``action``
    first, ``sig`` just before ``to``, the last key) puts it, and nowhere else. The body, the only
    free-form part, lies before everything searched for; searches from the end never reach it.
    """

    def __init__(self, data: bytes, envelope: Mapping[str, Any], head: bytes, tail: bytes, hops: list[bytes]):
        self._data, self._head, self._tail, self._hops = data, head, tail, hops
        self._envelope = envelope

    @classmethod
    def cut(cls, data: bytes, envelope: Mapping[str, Any]) -> Sliced | None:
        end = data.rfind(b'],"id":')  # the end of the hops array
        start = data.rfind(b',"hops":[', 0, end)
        if start < 0:
            return None  # cannot happen for a canonical envelope; the general path judges it
        hops = data[start + 9:end].split(b'},{"action":')
        if len(hops) != len(envelope["hops"]):
            return None
        if len(hops) > 1:
            last = len(hops) - 1
            hops = [b'{"action":' + part + b"}" if 0 < i < last else part + b"}" if i == 0 else b'{"action":' + part
                    for i, part in enumerate(hops)]
        return cls(data, envelope, data[:start], data[end + 1:], hops)

    def hop(self, index: int) -> bytes:
        return self._hops[index]

    def unsigned_hop(self, index: int) -> bytes:
        hop = self._hops[index]
        return hop[:hop.rfind(b',"sig":"')] + hop[hop.rfind(b',"to":"'):]

    def core(self) -> bytes:
        tail = self._tail
        start = tail.find(b',"sig":{')
        return self._head + tail[:start] + tail[tail.find(b'},"topic":', start) + 1:]

    def signed_core(self) -> bytes:
        return self._head + self._tail


def parse_canonical(data: bytes) -> tuple[dict[str, Any], Sliced] | None:
    """Step 1a for a document that is already canonical: the envelope and its slices, or None when
    ``data`` must take the general path (``parse``), which then gives the error, if any.

    ``canonical.roundtrip`` proves the bytes canonical; the shape checks (``shapes.well_formed``, as
    strict as ``parse``'s, in one pass) leave only ``body``
    free-form (every other value is typed, every other object has a fixed set of keys), so the rest
    of the profile is checked on ``body`` alone.
    """
    document = canonical.roundtrip(data)
    if document is None or not shapes.well_formed(document):
        return None
    if not canonical.in_profile(document["body"], 2):
        return None
    sliced = Sliced.cut(data, document)
    return None if sliced is None else (document, sliced)


def verify(data: bytes | str | Mapping[str, Any], receiver: str, peers: Peers, kinds: Mapping[str, Kind],
           at_ms: int | None = None, fast: bool = True) -> Verified:
    """Verify an envelope arriving at ``receiver``; raise the ``ProtocolError`` §6 names, or return it verified.

    Bytes that are already canonical take the fast path (``parse_canonical``); anything else, and
    anything it does not accept, takes the general path, with the same checks in the same order and
    so the same answer. ``fast=False`` forces the general path (the tests compare the two).
    """
    fast = parse_canonical(data) if fast and type(data) is bytes else None
    if fast is not None:
        envelope, encoded = fast
    else:
        envelope = parse(data) if isinstance(data, (bytes, str)) else data
        encoded = Encoded(envelope)
    now = at_ms if at_ms is not None else now_ms()
    hops = envelope["hops"]
    last = hops[-1]

    # 1. kind known; freshness of the transfer; nothing from the future.
    kind = kinds.get(envelope["kind"])
    if kind is None:
        raise UnknownKind(f"unknown message kind {echo(envelope['kind'])}")
    if last["expires_ms"] + SKEW_MS < now:
        raise Expired(f"the transfer expired at {last['expires_ms']}")
    if envelope["created_ms"] > now + SKEW_MS:
        raise Malformed("envelope.created_ms is in the future")
    for index, hop in enumerate(hops):
        if hop["at_ms"] > now + SKEW_MS:
            raise Malformed(f"hops[{index}].at_ms is in the future")
        if hop["action"] not in ACTIONS and hop["action"] != kind.action:
            raise Malformed(f"hops[{index}].action {echo(hop['action'])} is unknown")

    # 2. the last hop: addressed to us, from a peer, signed with its pinned key.
    if last["to"] != receiver:
        raise WrongRecipient(f"the last hop is addressed to {echo(last['to'])}, not {receiver}")
    sender = last["from"]
    if peers.relation(sender) is None:
        raise NotAPeer(f"{echo(sender)} is not a peer of {receiver}")
    public = peers.key(sender, last["key"], last["at_ms"])
    if public is None:
        raise UnknownKey(f"{last['key']} is not a key of {sender} valid at {last['at_ms']}")
    hop_bytes = encoded.hop(len(hops) - 1)
    _check(public, _HOP + encoded.unsigned_hop(len(hops) - 1), last["sig"], len(hops) - 1)

    # 3. back along the chain: each prev hash, each earlier hop with the key its successor attests.
    for index in range(len(hops) - 1, 0, -1):
        hop, before = hops[index], hops[index - 1]
        before_bytes = encoded.hop(index - 1)
        if not hmac.compare_digest(hop["prev"], b64u_encode(hashlib.sha256(before_bytes).digest())):
            raise BadSignature(f"hops[{index}].prev does not match hops[{index - 1}]")
        attested = hop["prev_key"]
        if attested["node"] != before["from"] or attested["id"] != before["key"]:
            raise UnknownKey(f"hops[{index}].prev_key does not name the key of hops[{index - 1}]'s signer")
        public = _public(attested["public"], index)
        _check(public, _HOP + encoded.unsigned_hop(index - 1), before["sig"], index - 1)
    core_bytes = encoded.core()
    signed_bytes = encoded.signed_core()
    if not hmac.compare_digest(hops[0]["prev"], b64u_encode(hashlib.sha256(signed_bytes).digest())):
        raise BadSignature("hops[0].prev does not match the signed core")
    if hops[0]["key"] != envelope["sig"]["key"] and len(hops) > 1:
        raise UnknownKey("the core is signed with a key its route does not attest")
    if len(hops) == 1:
        public = peers.key(envelope["origin"], envelope["sig"]["key"], envelope["created_ms"])
        if public is None:
            raise UnknownKey(f"{envelope['sig']['key']} is not a key of {envelope['origin']} valid at created_ms")
    else:
        public = _public(hops[1]["prev_key"]["public"], 1)
    _check(public, _ENVELOPE + core_bytes, envelope["sig"]["value"], None)

    # 4. the route.
    check_route(envelope, kind, peers)
    return Verified(envelope, kind, hashlib.sha256(hop_bytes).hexdigest(), hashlib.sha256(core_bytes).hexdigest(), sender,
                    data if fast is not None else None)


_PUBLIC: dict[str, bytes] = {}  # attested public keys decoded: the same few keys sign most routes a node sees


def _public(text: Any, index: int) -> bytes:
    """``hops[index].prev_key.public`` decoded (32 bytes), or ``Malformed`` naming it."""
    public = _PUBLIC.get(text) if type(text) is str else None
    if public is None:
        public = b64u_decode(text, f"hops[{index}].prev_key.public", 32)
        if len(_PUBLIC) >= 1024:
            _PUBLIC.clear()
        _PUBLIC[text] = public
    return public


def _check(public: bytes, message: bytes, signature: Any, index: int | None) -> None:
    """The signature of hop ``index`` (or of the core, for None)."""
    try:
        raw = b64u_decode(signature, "signature", 64)
    except Malformed:
        b64u_decode(signature, f"{_what(index)} signature", 64)  # raises, naming what
        raise
    if not verify_bytes(public, message, raw):
        raise BadSignature(f"{_what(index)}: the signature does not verify")


def _what(index: int | None) -> str:
    return "the envelope core" if index is None else f"hops[{index}]"


@functools.lru_cache(maxsize=4096)  # a pure function of two ids; a node sees few distinct edges
def direction(sender: str, to: str) -> str | None:
    """``up`` (child to parent) or ``down`` for two standard codes a level apart; None when not decidable."""
    if not (divisions.is_standard(sender) and divisions.is_standard(to)):
        return None
    if divisions.parent_of(sender) == to:
        return "up"
    if divisions.parent_of(to) == sender:
        return "down"
    return "none"


def check_route(envelope: Mapping[str, Any], kind: Kind, peers: Peers) -> None:
    """§4: hop 0 from the origin, hops joined end to end, each a parent/child edge in the right direction."""
    hops = envelope["hops"]
    if hops[0]["from"] != envelope["origin"]:
        raise BadRoute("hops[0] is not from the origin")
    if hops[0]["action"] != kind.action:
        raise BadRoute(f"hops[0].action must be {kind.action!r} for {kind.name}")
    for index, hop in enumerate(hops):
        if index and hop["from"] != hops[index - 1]["to"]:
            raise BadRoute(f"hops[{index}] does not start where hops[{index - 1}] ended")
        way = direction(hop["from"], hop["to"])
        if way is None and index == len(hops) - 1:
            # A non-standard id: the receiver knows its own peer's place.
            way = "up" if peers.relation(hop["from"]) == "child" else "down"
        if way == "none":
            raise BadRoute(f"hops[{index}] joins {hop['from']} and {hop['to']}, which are not parent and child")
        if hop["action"] == "escalate" and way == "down":
            raise BadRoute(f"hops[{index}] escalates downwards")
        if hop["action"] == "delegate" and way == "up":
            raise BadRoute(f"hops[{index}] delegates upwards")


KeyOf = Callable[[str, str, int], "bytes | None"]


def check_chain(envelope: Mapping[str, Any], key_of: KeyOf) -> tuple[str | None, list[str | None]]:
    """Re-verify a stored envelope without freshness rules: the core's signature and each hop's.

    ``key_of(node, key_id, at_ms)`` gives the public key to trust where no later hop attests one
    (the last hop's signer; the origin of a one-hop envelope). Returns the problem found with the
    core (or None) and, per hop, the problem found with it (or None): a stored route can be shown
    hop by hop with what verified.
    """
    hops = envelope["hops"]
    problems: list[str | None] = []
    for index, hop in enumerate(hops):
        problems.append(_hop_problem(envelope, index, key_of))
    core = env_mod.core_of(envelope)
    if len(hops) > 1:
        attested = hops[1]["prev_key"]
        public = _b64_or_none(attested["public"]) if attested["id"] == envelope["sig"]["key"] else None
    else:
        public = key_of(envelope["origin"], envelope["sig"]["key"], envelope["created_ms"])
    core_problem = None
    if public is None:
        core_problem = f"no trusted key {envelope['sig']['key']} of {envelope['origin']}"
    elif not _verifies(public, _ENVELOPE + canonical.dumps(core), envelope["sig"]["value"]):
        core_problem = "the origin's signature does not verify"
    return core_problem, problems


def _hop_problem(envelope: Mapping[str, Any], index: int, key_of: KeyOf) -> str | None:
    hops = envelope["hops"]
    hop = hops[index]
    if hop["prev"] != hop_mod.expected_prev(envelope, index):
        return "its prev hash does not match what it follows"
    if index + 1 < len(hops):
        attested = hops[index + 1]["prev_key"]
        if attested["node"] != hop["from"] or attested["id"] != hop["key"]:
            return "the next hop attests another key"
        public = _b64_or_none(attested["public"])
    else:
        public = key_of(hop["from"], hop["key"], hop["at_ms"])
    if public is None:
        return f"no trusted key {hop['key']} of {hop['from']}"
    if not _verifies(public, _HOP + canonical.dumps(hop_mod.unsigned(hop)), hop["sig"]):
        return "its signature does not verify"
    return None


def _b64_or_none(text: str) -> bytes | None:
    try:
        return b64u_decode(text, "key", 32)
    except Malformed:
        return None


def _verifies(public: bytes, message: bytes, signature: str) -> bool:
    try:
        return verify_bytes(public, message, b64u_decode(signature, "signature", 64))
    except Malformed:
        return False
