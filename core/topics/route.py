"""A topic's route: where it has travelled, which envelope brought it here, where answers and returns go.

A topic travels as one envelope whose hop chain grows (PROTOCOL.md §8); this node keeps every copy
it received and sent (the federation's inbox and outbox). The hop notes of forwarding nodes carry
trailer lines — ``stage: <stage>`` and ``due_ms: <epoch ms>`` — because the origin's body cannot
change on the way (docs/protocol.md, "Topics between nodes").
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from sqlalchemy.orm import Session

from shangliang.federation.inbox import received_about
from shangliang.federation.outbox import sent_about

MOVING_KINDS = ("topic.escalate", "topic.delegate")
REPLY_KINDS = ("topic.accept", "topic.progress", "topic.result")
_TRAILER = re.compile(r"\n(?:stage: (?P<stage>[a-z]{1,20})|due_ms: (?P<due_ms>[0-9]{1,15}))$")


def path_of(hops: list[Mapping[str, Any]]) -> list[str]:
    """The nodes from the origin to the last receiver, loops cut out: a topic returned to a node
    continues from that node as if it had never left it."""
    path: list[str] = []
    for node in [hops[0]["from"]] + [hop["to"] for hop in hops]:
        if node in path:
            del path[path.index(node) + 1:]
        else:
            path.append(node)
    return path


def upstream_in(hops: list[Mapping[str, Any]], node: str) -> str | None:
    """The node before ``node`` on the route: where answers go next (None where it was raised)."""
    path = path_of(hops)
    index = path.index(node)
    return path[index - 1] if index else None


def split_note(note: str) -> tuple[str, dict[str, str]]:
    """A hop note's text and its trailer lines (``stage``, ``due_ms``)."""
    trailers: dict[str, str] = {}
    while (found := _TRAILER.search(note)) is not None:
        name = "stage" if found.group("stage") is not None else "due_ms"
        trailers.setdefault(name, found.group(name))
        note = note[:found.start()]
    return note, trailers


def with_trailers(note: str, **trailers: Any) -> str:
    return note + "".join(f"\n{name}: {value}" for name, value in trailers.items() if value is not None)


def stage_on_arrival(envelope: Mapping[str, Any]) -> str:
    """The stage a moving envelope gives the topic: the last ``stage:`` trailer, else the origin's snapshot."""
    for hop in reversed(envelope["hops"][1:]):
        stage = split_note(hop.get("note", ""))[1].get("stage")
        if stage is not None:
            return stage
    return envelope["body"]["topic"]["stage"]


def due_for(envelope: Mapping[str, Any], node: str) -> int | None:
    """The due date of the last delegation to ``node`` on the route (None if it was never delegated there)."""
    for index in range(len(envelope["hops"]) - 1, -1, -1):
        hop = envelope["hops"][index]
        if hop["to"] == node and hop["action"] == "delegate":
            if index == 0:
                return envelope["body"].get("due_ms")
            due = split_note(hop.get("note", ""))[1].get("due_ms")
            return int(due) if due is not None else None
    return None


def _last_to(envelope: Mapping[str, Any], node: str, actions: tuple[str, ...]) -> str | None:
    for hop in reversed(envelope["hops"]):
        if hop["to"] == node and hop["action"] in actions:
            return hop["from"]
    return None


def returns_to(envelope: Mapping[str, Any] | None, node: str) -> str | None:
    """Where a return from ``node`` goes (退回): the node that last escalated or delegated the topic to it —
    never back up to a node that has just returned it (None: it was raised here and never sent to it)."""
    return None if envelope is None else _last_to(envelope, node, ("escalate", "delegate"))


def delegator(envelope: Mapping[str, Any] | None, node: str) -> str | None:
    """The node that last delegated the topic to ``node``: it hears the answers too, even when it is not
    on the way back to where the topic was raised (a delegation back down a route the topic climbed)."""
    return None if envelope is None else _last_to(envelope, node, ("delegate",))


def answer_targets(node: str, upstream: str | None, received: Mapping[str, Any] | None,
                   seen: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Where answers about the topic go from ``node`` (``received``: the envelope that brought it): its
    upstream and the delegating node, minus ``node`` and the nodes the answer has already passed."""
    targets = [upstream, delegator(received, node)]
    return list(dict.fromkeys(t for t in targets if t is not None and t != node and t not in seen))


def latest_received(session: Session, uid: str) -> dict[str, Any] | None:
    """The last envelope that brought the topic here (escalated, delegated or returned to this node).

    A topic travels as one envelope whose chain only grows, so that is the longest chain received; of
    equally long ones (the same transfer sent again with its last hop signed anew) the first, which
    took effect."""
    best: dict[str, Any] | None = None
    for row in received_about(session, uid, MOVING_KINDS):
        envelope = json.loads(row.envelope)
        if best is None or len(envelope["hops"]) > len(best["hops"]):
            best = envelope
    return best


def latest_sent(session: Session, uid: str) -> dict[str, Any] | None:
    """The last envelope by which this node passed the topic on (escalated, delegated or returned it)."""
    rows = sent_about(session, uid, MOVING_KINDS)
    return json.loads(rows[-1].envelope) if rows else None


def resent(received: Mapping[str, Any] | None, envelope: Mapping[str, Any]) -> bool:
    """The envelope is the one that brought the topic here, its last hop written again by the same sender."""
    if received is None or (received["origin"], received["id"]) != (envelope["origin"], envelope["id"]):
        return False
    before, again = received["hops"], envelope["hops"]
    # It never takes the place of the transfer that took effect (see latest_received).
    return len(before) == len(again) and before[:-1] == again[:-1] and \
        (before[-1]["from"], before[-1]["action"]) == (again[-1]["from"], again[-1]["action"])
