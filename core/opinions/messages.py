"""Social-opinion report messages sent to a neighbour (docs/opinions.md, "Across levels"): the kinds' names,
and the ``x-opinions.forward`` (up) and ``x-opinions.decision`` (down) this node writes, each into the outbox
in the caller's transaction. ``federation.py`` checks and applies those received."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core.context import NodeContext
from shangliang.federation import outbox
from shangliang.federation.models import Peer

from .models import SocialOpinion, SocialOpinionEvent

FORWARD, DECISION = "x-opinions.forward", "x-opinions.decision"
ALL = (FORWARD, DECISION)
#: What a node keeps of a report or a decision received (the columns' sizes; longer is refused, never cut).
LIMITS = {"title": 300, "category": 100, "name": 200, "ref": 60, "node": 40, "member_no": 40, "note": 2_000,
          "text": 20_000, "level": 20}


def parent_peer(session: Session) -> str | None:
    """The paired parent node's id (None when this node has none)."""
    return session.execute(select(Peer.node_id).where(Peer.relation == "parent")).scalar()


def relation(session: Session, node_id: str) -> str | None:
    peer = session.get(Peer, node_id)
    return peer.relation if peer is not None else None


def send_forward(session: Session, node: NodeContext, o: SocialOpinion, parent: str, note: str) -> dict[str, Any]:
    """The ``x-opinions.forward`` of report ``o`` to ``parent`` (its author kept), in the caller's transaction."""
    body = {"opinion": {"ref": str(o.id), "title": o.title, "sentiment": o.sentiment, "analysis": o.analysis,
                        "suggestion": o.suggestion, "category": o.category, "year": o.year,
                        "author": {"kind": o.author_kind, "name": o.author_name, "member_no": o.member_no,
                                   "node": o.author_node},
                        "written_node": o.written_node, "written_ms": o.written_ms},
            "note": note or ""}
    envelope, _row = outbox.originate(session, node, FORWARD, body, parent, "reply")
    return {"kind": FORWARD, "id": envelope["id"], "to": parent}


def send_decision(session: Session, node: NodeContext, o: SocialOpinion,
                  e: SocialOpinionEvent) -> dict[str, Any] | None:
    """Tell the child that forwarded report ``o`` here of decision ``e`` (made here or told from above), so
    that it travels down to where the report was written. None when ``o`` was written here."""
    if o.origin_node is None or relation(session, o.origin_node) != "child":
        return None  # written here, or the child is no longer paired: the decision stands here
    body = {"ref": o.origin_ref, "decision": {"kind": e.kind, "node": e.node, "level": e.level, "body": e.body,
                                              "body_kind": e.body_kind, "leader": e.leader, "text": e.text or "",
                                              "date": e.date, "at_ms": e.at_ms}}
    envelope, _row = outbox.originate(session, node, DECISION, body, o.origin_node, "reply")
    return {"kind": DECISION, "id": envelope["id"], "to": o.origin_node}
