"""Social-opinion reports across levels: a report forwarded up level by level (its author kept), and every
decision on it at any level told back down, level by level, to the node where it was written.

Two message kinds in the extension space (PROTOCOL.md §8), each one ``reply`` hop between a child and its
parent, written by the sender itself (origin = sender; nothing is relayed as is):

- ``x-opinions.forward`` — child → parent: the report (its ref at the child, text, year, author: kind, name,
  member number and home committee; where and when it was written) and a note. The parent keeps it as a
  report received (``origin_node`` + ``origin_ref``), pending: its office decides again.
- ``x-opinions.decision`` — parent → child: a decision on a report the child forwarded to it — used, forwarded,
  reported, not used, adopted by a body, an instruction — with the node (and level) that decided it. The child
  records it (``remote``) and, when it received the report from its own child, passes it on down.

A receiver refuses (422 ``invalid_body``, nothing stored): a body that is not the kind's; a message that is not
one hop from a paired child (forward) or parent (decision); a report forwarded twice; a decision about a
report this node did not forward to the sender, or said to be decided below the sender.
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shangliang.core import divisions
from shangliang.core.context import NodeContext
from shangliang.federation.errors import InvalidBody, echo
from shangliang.federation.kinds import Kind, ms, require, text

from .messages import ALL, DECISION, FORWARD, LIMITS, relation, send_decision
from .models import AUTHOR_KINDS, DECISIONS, SocialOpinion, SocialOpinionEvent


def _short(body: Mapping[str, Any], field: str, where: str, limit: int, required: bool = True,
           empty: bool = False) -> None:
    text(body, field, where, required=required, empty=empty)
    if field in body and len(body[field].strip()) > limit:
        raise InvalidBody(f"{where}.{field} is longer than {limit} characters, the most kept")


def _optional(body: Mapping[str, Any], field: str, where: str, limit: int) -> None:
    if require(body, field, (str, type(None)), where) is not None:
        _short(body, field, where, limit)


def _forward(body):
    where = "body.opinion"
    o = require(body, "opinion", dict)
    _short(o, "ref", where, LIMITS["ref"])
    _short(o, "title", where, LIMITS["title"])
    _short(o, "sentiment", where, LIMITS["text"])
    _short(o, "analysis", where, LIMITS["text"], empty=True)
    _short(o, "suggestion", where, LIMITS["text"])
    _short(o, "category", where, LIMITS["category"])
    year = require(o, "year", int, where)
    if not 1949 <= year <= 9999:
        raise InvalidBody(f"{where}.year must be from 1949 to 9999")
    author = require(o, "author", dict, where)
    if require(author, "kind", str, f"{where}.author") not in AUTHOR_KINDS:
        raise InvalidBody(f"{where}.author.kind must be one of {', '.join(AUTHOR_KINDS)}")
    _short(author, "name", f"{where}.author", LIMITS["name"])
    _optional(author, "member_no", f"{where}.author", LIMITS["member_no"])
    _short(author, "node", f"{where}.author", LIMITS["node"])
    _short(o, "written_node", where, LIMITS["node"])
    ms(o, "written_ms", where)
    _short(body, "note", "body", LIMITS["note"], empty=True)


def _decision(body):
    _short(body, "ref", "body", LIMITS["ref"])
    d = require(body, "decision", dict)
    where = "body.decision"
    if require(d, "kind", str, where) not in DECISIONS:
        raise InvalidBody(f"{where}.kind must be one of {', '.join(DECISIONS)}")
    _short(d, "node", where, LIMITS["node"])
    _optional(d, "level", where, LIMITS["level"])
    _optional(d, "body", where, LIMITS["name"])
    _optional(d, "body_kind", where, 40)
    _optional(d, "leader", where, LIMITS["name"])
    _short(d, "text", where, LIMITS["note"], empty=True)
    _optional(d, "date", where, 10)
    ms(d, "at_ms", where)
    if d["kind"] == "instruction" and not (d.get("leader") and d.get("date") and d["text"].strip()):
        raise InvalidBody(f"{where}: an instruction names its leader, text and date")


KINDS = (
    Kind(FORWARD, "reply", False, _forward),
    Kind(DECISION, "reply", False, _decision),
)


def apply_received(session: Session, node: NodeContext, envelope: Mapping[str, Any],
                   transfer: Mapping[str, Any]) -> None:
    """Keep a report a child forwarded, or record (and pass down) a decision the parent told; raise
    ``InvalidBody`` (nothing stored) for one that does not fit."""
    kind = envelope["kind"]
    if kind not in ALL:
        return
    origin = envelope["origin"]
    if len(envelope["hops"]) != 1:
        raise InvalidBody(f"{kind} travels one hop, from the node that wrote it to its neighbour")
    want = "child" if kind == FORWARD else "parent"
    if relation(session, origin) != want:
        raise InvalidBody(f"{kind} comes from this node's {want}; {echo(origin)} is not")
    if kind == FORWARD:
        _receive_forward(session, envelope, transfer)
    else:
        _receive_decision(session, node, envelope)


def _receive_forward(session: Session, envelope: Mapping[str, Any], transfer: Mapping[str, Any]) -> None:
    origin, body = envelope["origin"], envelope["body"]
    data = body["opinion"]
    ref = data["ref"].strip()
    known = session.execute(select(SocialOpinion.id).where(SocialOpinion.origin_node == origin,
                                                           SocialOpinion.origin_ref == ref)
                            ).scalar()
    if known is not None:
        raise InvalidBody(f"report {echo(ref)} of {origin} was forwarded here already")
    at = transfer["received_ms"]
    author = data["author"]
    o = SocialOpinion(year=data["year"], title=data["title"].strip(), sentiment=data["sentiment"].strip(),
                analysis=data["analysis"].strip(), suggestion=data["suggestion"].strip(),
                category=data["category"].strip(), author_kind=author["kind"], author_name=author["name"].strip(),
                member_no=(author["member_no"] or "").strip() or None, author_node=author["node"].strip(),
                written_node=data["written_node"].strip(), written_ms=data["written_ms"],
                written_by=f"node:{origin}", status="pending", origin_node=origin, origin_ref=ref,
                created_ms=at, updated_ms=at)
    o.events = []
    session.add(o)
    session.flush()


def _receive_decision(session: Session, node: NodeContext, envelope: Mapping[str, Any]) -> None:
    origin, body = envelope["origin"], envelope["body"]
    ref = body["ref"].strip()
    o = None
    if ref.isascii() and ref.isdigit() and int(ref) < 2 ** 31:
        o = session.execute(select(SocialOpinion).where(SocialOpinion.id == int(ref)).with_for_update()
                            ).scalar_one_or_none()
    if o is None or o.forwarded_to != origin:
        raise InvalidBody(f"no report {echo(ref)} was forwarded from {node.id} to {origin}: a decision is about one")
    d = body["decision"]
    decided_at = d["node"].strip()
    below = divisions.is_standard(decided_at) and divisions.is_standard(origin) and \
        not (decided_at == origin or divisions.is_ancestor(decided_at, origin))
    if below:
        raise InvalidBody(f"a decision told by {origin} is made there or above it, not at {echo(decided_at)}")
    event = SocialOpinionEvent(kind=d["kind"], node=decided_at, level=d.get("level"), body=d.get("body"),
                         body_kind=d.get("body_kind"), leader=d.get("leader"), text=d["text"], date=d.get("date"),
                         actor=f"node:{origin}", at_ms=d["at_ms"], remote=True, message=str(envelope["id"])[:100])
    o.events.append(event)
    o.updated_ms = max(o.updated_ms, d["at_ms"])
    session.flush()
    send_decision(session, node, o, event)
