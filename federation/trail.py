"""What this node received and sent about one topic, each envelope re-verified hop by hop now.

The inbox and the outbox keep every envelope as it travelled; this module reads them back for a
page, a command or an API answer and checks each chain again (``verify.check_chain``: signatures and
hashes, without the freshness window), with this node's own keys and the keys it pins.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from sqlalchemy.orm import Session

from . import keys
from .inbox import received_about
from .outbox import sent_about
from .peers import PinnedPeers
from .signing import b64u_decode
from .verify import check_chain


def about(session: Session, node_id: str, topic: str) -> list[dict[str, Any]]:
    """Every envelope about ``topic`` this node received or sent, oldest first, each re-verified: ``direction``
    (``received``/``sent``), ``at_ms``, ``transfer``, ``kind``, ``origin``, ``id``, ``delivery`` (a sent one's
    outbox status), ``verified``, ``core_problem`` and its ``hops`` (each with ``verified`` and ``problem``)."""
    own = {row.key_id: b64u_decode(row.public, "key", 32) for row in keys.all_rows(session)}
    pinned = PinnedPeers(session)

    def key_of(node: str, key_id: str, at_ms: int) -> bytes | None:
        return own.get(key_id) if node == node_id else pinned.key(node, key_id, at_ms)

    items = [("received", row.received_ms, row.transfer_id, row.envelope, None)
             for row in received_about(session, topic)]
    items += [("sent", row.created_ms, row.transfer_id, row.envelope, row.status) for row in sent_about(session, topic)]
    items.sort(key=lambda item: (item[1], item[0] == "received"))
    out = []
    for direction, at_ms, transfer, text, status in items:
        envelope = json.loads(text)
        core_problem, problems = check_chain(envelope, key_of)
        out.append({
            "direction": direction, "at_ms": at_ms, "transfer": transfer, "kind": envelope["kind"],
            "origin": envelope["origin"], "id": envelope["id"], "delivery": status,
            "verified": core_problem is None and not any(problems), "core_problem": core_problem,
            "hops": [{"from": h["from"], "to": h["to"], "action": h["action"], "at_ms": h["at_ms"],
                      "note": h.get("note", ""), "key": h["key"], "verified": p is None, "problem": p}
                     for h, p in zip(envelope["hops"], problems)],
        })
    return out


def all_verified(entries: list[Mapping[str, Any]]) -> bool:
    """True when every envelope and every hop verifies (true for a topic never sent)."""
    return all(entry["verified"] for entry in entries)
