"""Proposal messages sent to a neighbour (docs/protocol.md, "Proposals across levels"): the kinds' names,
and the ``x-proposals.forward``, ``.answer`` and ``.rating`` this node writes, each into the outbox in the
caller's transaction. ``federation.py`` checks and applies those received; ``services.py`` sends these."""

from __future__ import annotations

import json
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core.context import NodeContext
from shangliang.federation import outbox
from shangliang.federation.models import Peer

from .models import DIMENSIONS, Proposal

FORWARD, ANSWER, RATING = "x-proposals.forward", "x-proposals.answer", "x-proposals.rating"
ALL = (FORWARD, ANSWER, RATING)
UP = (FORWARD, RATING)
#: What this node keeps of a proposal received (the columns' sizes; longer is refused, never cut short).
LIMITS = {"title": 300, "category": 100, "name": 200, "ref": 60, "note": 2_000, "topic": 120}
PROPOSERS_MAX, AREAS_MAX = 60, 50
PROPOSER_ROLES = ("lead", "cosigner", "body", "merged", "forwarded")


# ---------------------------------------------------------------------------------------------
# Sending


def parent_peer(session: Session) -> str | None:
    """The paired parent node's id (None when this node has none)."""
    return session.execute(select(Peer.node_id).where(Peer.relation == "parent")).scalar()


def _relation(session: Session, node_id: str) -> str | None:
    peer = session.get(Peer, node_id)
    return peer.relation if peer is not None else None


def send_forward(session: Session, node: NodeContext, p: Proposal, parent: str, note: str) -> dict[str, Any]:
    """The ``x-proposals.forward`` of proposal ``p`` to ``parent``, in the caller's transaction."""
    names = [s.name for s in p.signers if s.role in PROPOSER_ROLES][:PROPOSERS_MAX]
    body = {"proposal": {"ref": str(p.id), "title": p.title, "reasons": p.reasons, "suggestions": p.suggestions,
                         "category": p.category, "year": p.year, "term": p.term, "session": p.session_no,
                         "kind": p.kind, "proposers": names, "areas": p.area_list(), "source_topic": p.source_topic},
            "consent": {"by": p.consent_by, "note": p.consent_note or "", "at_ms": p.consent_ms},
            "note": note or ""}
    envelope, _row = outbox.originate(session, node, FORWARD, body, parent, "reply")
    return {"kind": FORWARD, "id": envelope["id"], "to": parent}


def send_answer(session: Session, node: NodeContext, p: Proposal, event: str, summary: str,
                detail: Mapping[str, Any]) -> dict[str, Any] | None:
    """Tell the node proposal ``p`` came from a step of its handling here (``x-proposals.answer``)."""
    if p.origin_node is None or _relation(session, p.origin_node) != "child":
        return None  # no longer paired: the step stands here; the origin is not told
    body = {"ref": p.origin_ref, "event": event, "status": p.status, "number": p.number, "round": p.round,
            "summary": (summary or "")[:20_000], "detail": json.loads(json.dumps(dict(detail), default=str)),
            "at_ms": node.now_ms()}
    envelope, _row = outbox.originate(session, node, ANSWER, body, p.origin_node, "reply")
    return {"kind": ANSWER, "id": envelope["id"], "to": p.origin_node}


def send_rating(session: Session, node: NodeContext, p: Proposal, round_: int, fields: Mapping[str, Any],
                comment: str, actor: str) -> dict[str, Any]:
    """The proposer's rating of a forwarded proposal, sent up to the node handling it."""
    body = {"ref": str(p.id), "round": round_, **{d: fields[d] for d in (*DIMENSIONS, "overall")},
            "comment": comment or "", "by": actor[:LIMITS["name"]]}
    envelope, _row = outbox.originate(session, node, RATING, body, p.forwarded_to, "reply")
    return {"kind": RATING, "id": envelope["id"], "to": p.forwarded_to}


