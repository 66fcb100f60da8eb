"""The shape of a whole envelope checked in one pass, for the verifier's fast path (``verify.parse_canonical``).

``envelope.check_shape`` and ``hops.check_shape`` check a parsed envelope field by field in Python,
and name what is wrong. On the fast path most envelopes are well formed, and what matters is how
quickly that is known: ``well_formed`` converts the parsed document to the typed structures below
with msgspec (fields present, nothing unknown, exact types — no bool for an int, no float —
non-negative times, at most 16 hops, notes of at most 2000 characters, all checked in C), then
checks in Python what types cannot say: the patterns of ids and keys, the lifetime of each hop and
where ``prev_key`` belongs.

It is never more lenient than the two ``check_shape``: when it answers True they pass; when it
answers False the caller takes the general path, where they say what is wrong.
``tests/federation/test_fast_path.py`` holds the two to the same answer.

Node ids and key ids recur (a node hears from a handful of neighbours): those found to match their
pattern are remembered, up to ``_REMEMBERED`` of each, so that a well-formed envelope of three hops costs
five regular-expression matches (its id, its topic, each hop's ``prev``) instead of eighteen.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from shangliang.core.divisions import NODE_ID

from .envelope import MAX_HOPS, VERSION
from .hops import MAX_LIFETIME_MS, MAX_NOTE
from .ids import MESSAGE_ID
from .kinds import TOPIC_UID
from .signing import EXACT_B64U, KEY_ID

_NonNegative = Annotated[int, msgspec.Meta(ge=0)]
_REMEMBERED = 4096
UNSET = msgspec.UNSET


class _PrevKey(msgspec.Struct, forbid_unknown_fields=True):
    node: str
    id: str
    public: str


class _Hop(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sender: str = msgspec.field(name="from")
    to: str
    action: str
    at_ms: _NonNegative
    expires_ms: int
    prev: str
    key: str
    sig: str
    note: Annotated[str, msgspec.Meta(max_length=MAX_NOTE)] | msgspec.UnsetType = msgspec.UNSET
    prev_key: _PrevKey | msgspec.UnsetType = msgspec.UNSET


class _Sig(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    value: str


class _Reply(msgspec.Struct, forbid_unknown_fields=True):
    origin: str
    id: str


class _Envelope(msgspec.Struct, forbid_unknown_fields=True):
    v: int
    id: str
    kind: str
    origin: str
    created_ms: _NonNegative
    topic: str | None
    in_reply_to: _Reply | None
    body: dict[str, Any]
    sig: _Sig
    hops: Annotated[list[_Hop], msgspec.Meta(min_length=1, max_length=MAX_HOPS)]


_NODE_IDS: set[str] = set()
_KEY_IDS: set[str] = set()
_HASH = EXACT_B64U[32]


def _matches(pattern: re.Pattern, seen: set[str], text: str) -> bool:
    """Whether ``text`` matches ``pattern`` in full; remembered in ``seen`` if it does."""
    if pattern.fullmatch(text) is None:
        return False
    if len(seen) >= _REMEMBERED:
        seen.clear()
    seen.add(text)
    return True


def well_formed(document: Any) -> bool:
    """True only when ``envelope.check_shape(document)`` and ``hops.check_shape`` of each hop pass."""
    try:
        envelope = msgspec.convert(document, _Envelope)
    except msgspec.ValidationError:
        return False
    nodes, keys = _NODE_IDS, _KEY_IDS
    origin, topic, key = envelope.origin, envelope.topic, envelope.sig.key
    if not (envelope.v == VERSION and MESSAGE_ID.fullmatch(envelope.id) is not None
            and (origin in nodes or _matches(NODE_ID, nodes, origin))
            and (topic is None or TOPIC_UID.fullmatch(topic) is not None)
            and (key in keys or _matches(KEY_ID, keys, key))):
        return False
    for index, hop in enumerate(envelope.hops):
        sender, to, key, at, prev_key = hop.sender, hop.to, hop.key, hop.at_ms, hop.prev_key
        if not ((sender in nodes or _matches(NODE_ID, nodes, sender)) and (to in nodes or _matches(NODE_ID, nodes, to))
                and (key in keys or _matches(KEY_ID, keys, key)) and _HASH.fullmatch(hop.prev) is not None
                and at < hop.expires_ms <= at + MAX_LIFETIME_MS):
            return False
        if index == 0:
            if prev_key is not UNSET:
                return False
        elif prev_key is UNSET or not (prev_key.id in keys or _matches(KEY_ID, keys, prev_key.id)):
            return False
    return True
